"""Planning a run: snapshot the mapping, check its confirmation, derive the order of work.

The mapping file is copied to the stage when the run is planned (``<run>/mapping.yaml``) and
every later step reads that snapshot, so editing the file mid-run cannot change what a
running migration does; the confirmation is checked against the snapshot's sha256.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from shared.errors import StageError
from shared.mapping.loader import parse_mapping
from shared.mapping.models import Mapping
from shared.mapping.plan import ObjectExtraction, extraction_plan, plan_phases
from shared.run.runtime import Runtime


def mapping_key(run_id: str) -> str:
    """Where a run's mapping snapshot lives on the stage."""
    return f"{run_id}/mapping.yaml"


def plan_key(run_id: str) -> str:
    """Where a run's plan lives on the stage."""
    return f"{run_id}/plan.json"


def extraction_levels(plans: list[ObjectExtraction]) -> list[list[str]]:
    """Group objects into levels: each level only depends on earlier levels (or outsiders)."""
    names = {p.object for p in plans}
    placed: dict[str, int] = {}
    pending = {p.object: [d for d in p.depends_on if d in names and d != p.object] for p in plans}
    level = 0
    while pending:
        ready = sorted(n for n, deps in pending.items() if all(d in placed for d in deps))
        if not ready:  # a cycle between objects: extraction order does not matter for it
            ready = sorted(pending)[:1]
        for name in ready:
            placed[name] = level
            del pending[name]
        level += 1
    out: list[list[str]] = [[] for _ in range(level)]
    for plan in plans:
        out[placed[plan.object]].append(plan.object)
    return [lvl for lvl in out if lvl]


def load_run_mapping(runtime: Runtime, run_id: str) -> Mapping:
    """The mapping snapshot of a planned run (cached per process)."""

    def build() -> Mapping:
        key = mapping_key(run_id)
        if not runtime.stage.exists(key):
            raise StageError(
                f"run {run_id} has no mapping snapshot on the stage: it was never planned"
            )
        return parse_mapping(runtime.stage.get_bytes(key).decode("utf-8"), key)

    return runtime.cached(f"mapping:{run_id}", build)


def plan_run(runtime: Runtime, run_id: str, confirmation: Any) -> dict[str, Any]:
    """Snapshot the mapping and return the plan the orchestrator follows.

    Args:
        runtime: Settings and stage.
        run_id: The run being planned.
        confirmation: A callable ``(path) -> (confirmed: bool, detail: str)`` deciding
            whether a person confirmed exactly these bytes.
    """
    key = mapping_key(run_id)
    if runtime.stage.exists(key):
        data = runtime.stage.get_bytes(key)  # re-planning a resumed run keeps its snapshot
    else:
        data = runtime.settings.mapping.file.read_bytes()
    mapping = parse_mapping(data.decode("utf-8"), str(runtime.settings.mapping.file))
    runtime.stage.put_bytes(key, data)
    sha = hashlib.sha256(data).hexdigest()
    confirmed, detail = confirmation(runtime.settings.mapping.file, sha)
    plans = extraction_plan(mapping)
    phases = plan_phases(mapping)
    entries = {o.name: o for o in mapping.objects}
    plan = {
        "run_id": run_id,
        "confirmed": confirmed,
        "detail": detail,
        "mapping": {"file": str(runtime.settings.mapping.file), "sha256": sha},
        "extraction": extraction_levels(plans),
        "phases": [
            {
                "index": phase.index,
                "objects": list(phase.objects),
                "sources": {name: entries[name].source for name in phase.objects},
                "second_pass": [list(pair) for pair in phase.second_pass],
            }
            for phase in phases
        ],
    }
    runtime.stage.put_bytes(plan_key(run_id), json.dumps(plan, indent=2).encode("utf-8"))
    return plan
