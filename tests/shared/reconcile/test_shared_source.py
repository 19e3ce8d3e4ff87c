"""Two mapping entries loading one source object (Task by route) reconcile as one object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.dataverse.context import LoadContext
from shared.dataverse.load import BatchRef, load_batch
from shared.ids import derived_id
from shared.reconcile.phase import reconcile_phase
from shared.rows import Rejection, TargetRow
from shared.settings import ReconcileSettings
from shared.stage.local import LocalStage
from tests.shared.dataverse.conftest import (
    NS,
    RUN,
    account_id,
    load_parent_account,
    sf_account,
    stage_batch,
)

SETTINGS = ReconcileSettings(tolerance=0, readback_sample=100, spot_check=25)


def routed(record: dict[str, Any]) -> list[TargetRow | Rejection]:
    sid = record["Id"]
    table, entity_set = (
        ("phonecall", "phonecalls") if record["Type"] == "Call" else ("task", "tasks")
    )
    nav = f"regardingobjectid_account_{table}@odata.bind"
    return [
        TargetRow(
            table,
            entity_set,
            derived_id(NS, "Task", sid, table),
            "Task",
            sid,
            {"subject": record["Subject"], nav: f"/accounts({account_id(sf_account(0))})"},
        )
    ]


async def test_entries_sharing_a_source_add_up_to_what_was_staged(
    stage: LocalStage, context: LoadContext, tmp_path: Path
) -> None:
    await load_parent_account(stage, context)
    tasks = [
        {
            "Id": f"00T000000000{n:03d}AAA",
            "Subject": f"S{n}",
            "Type": "Call" if n % 3 == 0 else "Task",
        }
        for n in range(9)
    ]
    stage_batch(stage, tasks, sobject="Task")
    counts = {}
    for entry, wanted in (("task", "Task"), ("task_call", "Call")):
        counts[entry] = await load_batch(
            BatchRef(RUN, 2, "activities", "Task", 1, entry=entry),
            stage=stage,
            context=context,
            transform=routed,
            accept=lambda r, w=wanted: r["Type"] == w,  # type: ignore[misc]
        )
    assert (counts["task"]["extracted"], counts["task"]["routed_elsewhere"]) == (6, 3)
    assert (counts["task_call"]["extracted"], counts["task_call"]["routed_elsewhere"]) == (3, 6)
    verdict = await reconcile_phase(
        stage,
        context,
        run_id=RUN,
        phase="activities",
        objects=["Task"],
        settings=SETTINGS,
        reports_dir=tmp_path / "reports",
        entries={"Task": ["task", "task_call"]},
    )
    (obj,) = verdict.objects
    assert (obj.staged, obj.extracted, obj.written, obj.present) == (9, 9, 9, 9)
    assert obj.balanced and obj.mismatches == [] and verdict.passed
    # Had only one of the entries run, the object would not balance.
    partial = await reconcile_phase(
        stage,
        context,
        run_id=RUN,
        phase="activities",
        objects=["Task"],
        settings=SETTINGS,
        reports_dir=tmp_path / "reports",
        entries={"Task": ["task", "task_email"]},
    )
    assert not partial.objects[0].balanced and not partial.passed
