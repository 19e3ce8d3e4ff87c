"""A loaded phase reconciled against the emulator: reports, spot checks, and the gate."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import httpx
import pytest

from emulators.dataverse.testing import DataverseEndpoint
from shared.dataverse.context import LoadContext
from shared.dataverse.load import BatchRef, link_batch, load_batch
from shared.errors import ReconciliationGateError
from shared.reconcile.phase import gate, reconcile_phase
from shared.settings import ReconcileSettings
from shared.stage.local import LocalStage
from tests.shared.dataverse.conftest import (
    RUN,
    account_id,
    account_transform,
    accounts,
    sf_account,
    stage_batch,
)

SETTINGS = ReconcileSettings(tolerance=0, readback_sample=1000, spot_check=25)


async def load_phase(stage: LocalStage, context: LoadContext, count: int = 30) -> None:
    recs = accounts(count, **{str(i): {"ParentId": sf_account(0)} for i in range(1, count)})
    recs[4]["Industry"] = 99  # refused by the server: quarantined, explained by its entry
    stage_batch(stage, recs)
    ref = BatchRef(RUN, 1, "accounts", "Account", 1)
    await load_batch(ref, stage=stage, context=context, transform=account_transform)
    await link_batch(ref, stage=stage, context=context)


async def reconcile(stage: LocalStage, context: LoadContext, reports: Path):  # type: ignore[no-untyped-def]
    return await reconcile_phase(
        stage,
        context,
        run_id=RUN,
        phase="accounts",
        objects=["Account"],
        settings=SETTINGS,
        reports_dir=reports,
    )


def patch(
    endpoint: DataverseEndpoint, sf_id: str, body: dict[str, object], token: str | None = None
) -> None:
    headers = endpoint.headers()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.patch(
        endpoint.url + f"accounts({account_id(sf_id)})",
        json=body,
        headers={**headers, "If-Match": "*"},
    )
    assert response.status_code == 204, response.text


async def test_clean_phase_reconciles_and_writes_reports(
    stage: LocalStage, context: LoadContext, tmp_path: Path
) -> None:
    await load_phase(stage, context)
    verdict = await reconcile(stage, context, tmp_path / "reports")
    (obj,) = verdict.objects
    assert (obj.staged, obj.extracted, obj.written, obj.quarantined) == (30, 30, 29, 1)
    assert obj.balanced and obj.present == 29 and obj.missing_ids == []
    assert obj.readback_records == 29
    assert obj.readback_fields == 29 * 3 + 28  # name, revenue, industry + parent links
    assert obj.mismatches == [] and verdict.passed
    gate(verdict)  # does not raise
    data = json.loads((tmp_path / "reports" / "reconciliation.json").read_text())
    assert data["passed"] is True and data["phases"][0]["objects"][0]["written"] == 29
    assert "PASSED" in (tmp_path / "reports" / "reconciliation.md").read_text()
    sheet = list(csv.DictReader((tmp_path / "reports" / "spot-check-accounts.csv").open()))
    assert len({r["source_id"] for r in sheet}) == 25
    assert {r["match"] for r in sheet} == {"yes"}
    md = (tmp_path / "reports" / "spot-check-accounts.md").read_text()
    assert "Source record:" in md and "AnnualRevenue" in md


async def test_changed_missing_and_unloaded_rows_stop_the_run(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint, tmp_path: Path
) -> None:
    await load_phase(stage, context)
    patch(dataverse, sf_account(2), {"name": "Wrong"})  # as the loader's own user
    deleted = httpx.delete(
        dataverse.url + f"accounts({account_id(sf_account(3))})", headers=dataverse.headers()
    )
    assert deleted.status_code == 204
    stage_batch(stage, accounts(2), batch=2)  # staged but never loaded
    verdict = await reconcile(stage, context, tmp_path / "reports")
    (obj,) = verdict.objects
    assert not obj.balanced
    assert obj.missing_ids == [account_id(sf_account(3))]
    (wrong,) = obj.mismatches
    assert (wrong.source_id, wrong.column, wrong.kind) == (sf_account(2), "name", "value_mismatch")
    assert (wrong.expected, wrong.actual) == ("Acme 2", "Wrong")
    with pytest.raises(ReconciliationGateError, match="phase accounts did not reconcile") as err:
        gate(verdict)
    assert "counts do not add up" in str(err.value) and "1 missing rows" in str(err.value)
    rows = list(csv.DictReader((tmp_path / "reports" / "reconciliation.csv").open()))
    assert {r["kind"] for r in rows} == {"missing_row", "value_mismatch"}


async def test_edit_by_a_person_after_the_load_is_explained(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint, tmp_path: Path
) -> None:
    await load_phase(stage, context)
    (user,) = httpx.post(
        dataverse.admin_url + "systemusers", json=[{"internalemailaddress": "ana@example.com"}]
    ).json()
    token = httpx.post(
        dataverse.admin_url + "tokens", json={"systemuserid": user["systemuserid"]}
    ).json()["token"]
    patch(dataverse, sf_account(6), {"name": "Edited by Ana"}, token=token)
    verdict = await reconcile(stage, context, tmp_path / "reports")
    (obj,) = verdict.objects
    (edit,) = obj.mismatches
    assert edit.explanation == "CHANGED_AFTER_LOAD"
    assert verdict.passed


async def test_sample_above_the_readback_size_is_deterministic(
    stage: LocalStage, context: LoadContext, tmp_path: Path
) -> None:
    await load_phase(stage, context)
    small = ReconcileSettings(tolerance=0, readback_sample=10, spot_check=25)
    runs = []
    for _ in range(2):
        verdict = await reconcile_phase(
            stage,
            context,
            run_id=RUN,
            phase="accounts",
            objects=["Account"],
            settings=small,
            reports_dir=tmp_path / "r",
        )
        runs.append(verdict.objects[0])
    assert runs[0].sampled and runs[0].readback_records == 10
    assert runs[0].present == 29  # presence is still checked for every written row
    assert runs[0].readback_fields == runs[1].readback_fields


async def test_completion_time_the_server_sets_on_close_is_explained(
    stage: LocalStage, context: LoadContext, tmp_path: Path
) -> None:
    from shared.ids import derived_id
    from shared.rows import Rejection, TargetRow
    from tests.shared.dataverse.conftest import NS, load_parent_account

    def transform(record: dict[str, object]) -> list[TargetRow | Rejection]:
        sid = str(record["Id"])
        return [
            TargetRow(
                "task",
                "tasks",
                derived_id(NS, "Task", sid, "task"),
                "Task",
                sid,
                {"subject": "Done", "actualend": None},
                close={"statecode": 1, "statuscode": 5},
            )
        ]

    await load_parent_account(stage, context)
    stage_batch(stage, [{"Id": "00T000000000001AAA"}], sobject="Task")
    await load_batch(
        BatchRef(RUN, 2, "activities", "Task", 1), stage=stage, context=context, transform=transform
    )
    verdict = await reconcile_phase(
        stage,
        context,
        run_id=RUN,
        phase="activities",
        objects=["Task"],
        settings=SETTINGS,
        reports_dir=tmp_path / "reports",
    )
    (mismatch,) = verdict.objects[0].mismatches
    assert (mismatch.column, mismatch.kind) == ("actualend", "unexpected_value")
    assert mismatch.explanation == "SET_BY_SERVER_ON_CLOSE" and verdict.passed
