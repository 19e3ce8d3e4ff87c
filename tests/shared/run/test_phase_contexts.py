"""Each phase's resolution context drops the parents quarantined before it, sharing the rest.

A process that loads every phase holds the org's ids once: the stored context is decoded once
and each phase derives its own with ``without``, which copies only the id sets it changes.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from shared.mapping.context import ResolutionContext
from shared.run import context_store
from shared.run.plan import plan_key
from shared.run.runtime import Runtime
from shared.run.steps import _context
from shared.settings import load_settings
from shared.stage.local import LocalStage

RUN = "r1"
ACCOUNTS = frozenset(f"001{n:012d}AAA" for n in range(50))
CONTACTS = frozenset(f"003{n:012d}AAA" for n in range(200))
BAD = sorted(ACCOUNTS)[3]


def _runtime(tmp_path: Path) -> Runtime:
    stage = LocalStage(tmp_path / "stage")
    ctx = ResolutionContext(
        namespace=uuid.uuid4(),
        run_id=RUN,
        migrated={"Account": ACCOUNTS, "Contact": CONTACTS},
        present={"Account": ACCOUNTS, "Contact": CONTACTS},
    )
    context_store.save(stage, RUN, ctx)
    phases = [
        {"index": 1, "objects": ["account"], "sources": {"account": "Account"}},
        {"index": 2, "objects": ["contact"], "sources": {"contact": "Contact"}},
        {"index": 3, "objects": ["task"], "sources": {"task": "Task"}},
    ]
    stage.put_bytes(plan_key(RUN), json.dumps({"phases": phases}).encode())
    rejected = [
        {"source_object": "Account", "source_id": BAD, "outcome": "quarantined"},
        {
            "source_object": "Account",
            "source_id": sorted(ACCOUNTS)[4],
            "outcome": "skipped_by_policy",
        },
    ]
    stage.put_bytes(f"{RUN}/quarantine/account/00001.json", json.dumps(rejected).encode())
    settings = load_settings(overrides={"run": {"workdir": str(tmp_path / "work")}})
    return Runtime(settings=settings, stage=stage)


def test_later_phases_lose_quarantined_parents_and_share_every_other_id_set(
    tmp_path: Path,
) -> None:
    runtime = _runtime(tmp_path)
    first, second, third = (_context(runtime, RUN, phase) for phase in (1, 2, 3))
    assert first.is_migrated("Account", BAD)
    assert not second.is_migrated("Account", BAD) and not third.is_migrated("Account", BAD)
    # A policy skip was never going to be migrated; it is not a reason to drop anything here.
    assert second.is_migrated("Account", sorted(ACCOUNTS)[4])
    assert second.migrated["Account"] == ACCOUNTS - {BAD}
    # One decoded copy of the unchanged sets, whichever phase asks.
    assert second.migrated["Contact"] is first.migrated["Contact"]
    assert third.migrated["Contact"] is first.migrated["Contact"]
    assert third.present is first.present
    assert _context(runtime, RUN, 2) is second
