"""Each phase's resolution context drops the parents quarantined before it, sharing the rest.

A process that loads every phase uses one index of the org's ids on local disk
(``shared.run.context_index``); each phase derives its own with ``without``, which keeps only
the quarantined ids in memory.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from shared.mapping.context import References, ResolutionContext
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


def _refs(ids: frozenset[str]) -> References:
    return References("Contact", frozenset(), ids, frozenset())


def test_later_phases_lose_quarantined_parents_and_share_one_index(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    first, second, third = (_context(runtime, RUN, phase) for phase in (1, 2, 3))
    asked = _refs(ACCOUNTS | CONTACTS)
    views = [index.view(asked) for index in (first, second, third)]
    assert views[0].is_migrated("Account", BAD)
    assert not views[1].is_migrated("Account", BAD) and not views[2].is_migrated("Account", BAD)
    # A policy skip was never going to be migrated; it is not a reason to drop anything here.
    assert views[1].is_migrated("Account", sorted(ACCOUNTS)[4])
    assert views[1].migrated["Account"] == ACCOUNTS - {BAD}
    assert views[1].migrated["Contact"] == CONTACTS == views[0].migrated["Contact"]
    # One index file for every phase; only the quarantined ids are held per phase.
    assert first.path == second.path == third.path
    assert second.excluded == {"Account": frozenset({BAD})} and first.excluded == {}
    assert _context(runtime, RUN, 2) is second
