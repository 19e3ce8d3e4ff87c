"""The rollback's activities' work: plan groups, undo entries, write the report."""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any

from shared.dataverse.journal import read_run_journal
from shared.delta.state import on_rollback
from shared.rollback.execute import Rollback, entry_name
from shared.rollback.report import build_report, render_markdown
from shared.run.clients import dataverse, run_async
from shared.run.runtime import Runtime


def plan_groups(runtime: Runtime, target_run_id: str) -> list[list[str]]:
    """Entry names in undo order, grouped so a group's entries can be undone in parallel.

    A group is one (phase, kind): later phases before earlier ones (children before
    parents), and within a phase links, then states, then files, then rows.
    """
    entries = read_run_journal(runtime.stage, target_run_id)
    return [
        [entry_name(e) for e in group]
        for _, group in groupby(entries, key=lambda e: (e.phase_index, e.kind))
    ]


def _rollback(runtime: Runtime, params: dict[str, Any]) -> Rollback:
    return Rollback(
        dataverse(runtime),
        runtime.stage,
        target_run_id=params["target_run_id"],
        rollback_id=params["run_id"],
        dry_run=bool(params.get("dry_run")),
    )


def undo_entries(runtime: Runtime, params: dict[str, Any]) -> dict[str, int]:
    """Undo the named entries (in the given order); return outcome counts."""
    rollback = _rollback(runtime, params)
    wanted = set(params["entries"])
    counts: dict[str, int] = {}

    async def work() -> None:
        for entry in rollback.entries():
            if entry_name(entry) not in wanted:
                continue
            record = await rollback.apply(entry)
            for row in record["rows"]:
                counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1

    run_async(work)
    return counts


def write_report(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Write ``reports/rollback.{json,md}`` under the rollback's run; return the summary."""
    entries = read_run_journal(runtime.stage, params["target_run_id"])
    report = build_report(
        runtime.stage,
        entries,
        target_run_id=params["target_run_id"],
        rollback_id=params["run_id"],
        dry_run=bool(params.get("dry_run")),
    )
    if report["complete"] and not params.get("dry_run"):
        # The target no longer reflects that run: the next delta continues from the one before.
        report["sync_state"] = on_rollback(runtime.stage, params["target_run_id"])
    name = "rollback-dry-run" if params.get("dry_run") else "rollback"
    runtime.write_report(
        params["target_run_id"], f"{name}.json", json.dumps(report, indent=2).encode()
    )
    where = runtime.write_report(
        params["target_run_id"], f"{name}.md", render_markdown(report).encode()
    )
    return {
        "complete": report["complete"],
        "counts": report["counts"],
        "kept": len(report["kept"]),
        "report": where,
    }
