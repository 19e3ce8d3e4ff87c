"""The ``rollback`` orchestrator: undo a run from its journal, children before parents.

Groups (one phase and kind each) run in order; the entries of a group are undone in parallel
windows. Each entry's outcome is stored as it is applied, so a resumed or repeated rollback
does nothing twice.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

bp = df.Blueprint()

RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=15_000, max_number_of_attempts=3)
ENTRIES_PER_ACTIVITY = 4
WINDOW = 8


@bp.orchestration_trigger(context_name="context")
def rollback(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Undo every journal entry of ``target_run_id``; write the rollback report."""
    params: dict[str, Any] = context.get_input()
    base = {
        "run_id": params["run_id"],
        "target_run_id": params["target_run_id"],
        "dry_run": bool(params.get("dry_run")),
    }
    groups: list[list[str]] = yield context.call_activity("rollback_plan", base)
    totals: dict[str, int] = {}
    for number, group in enumerate(groups, start=1):
        context.set_custom_status({"step": "rolling_back", "group": number, "of": len(groups)})
        chunks = [
            group[i : i + ENTRIES_PER_ACTIVITY] for i in range(0, len(group), ENTRIES_PER_ACTIVITY)
        ]
        for start in range(0, len(chunks), WINDOW):
            results = yield context.task_all(
                [
                    context.call_activity_with_retry(
                        "rollback_entries", RETRY, {**base, "entries": chunk}
                    )
                    for chunk in chunks[start : start + WINDOW]
                ]
            )
            for counts in results:
                for key, value in counts.items():
                    totals[key] = totals.get(key, 0) + int(value)
    context.set_custom_status({"step": "reporting", "counts": totals})
    summary: dict[str, Any] = yield context.call_activity("rollback_report", base)
    return {**base, "status": "completed" if summary["complete"] else "incomplete", **summary}
