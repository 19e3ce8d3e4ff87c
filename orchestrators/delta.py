"""The ``delta`` orchestrator: bring the target up to date with what changed in Salesforce.

Deterministic, like ``migrate``: inputs and outputs are run ids, object names and counts.
Flow: plan (what it continues from, read windows) → extract changes per dependency level →
full id comparison when due (always at cutover) → resolution context → per phase: the same
``load_object`` sub-orchestration and reconciliation as a migration, stopping at a phase that
does not reconcile → deletions, children before parents → cutover certificate (cutover only)
→ report, and the sync state advanced only if every phase reconciled.

Started by ``./migrate delta``, ``POST /api/delta-sync`` and the delta timer.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from orchestrators.migrate import RETRY, load_phases

bp = df.Blueprint()

Orchestration = Generator[Any, Any, dict[str, Any]]


@bp.orchestration_trigger(context_name="context")
def delta(context: df.DurableOrchestrationContext) -> Orchestration:
    """One delta sync (or the cutover delta), from the last completed run of the chain."""
    params: dict[str, Any] = context.get_input()
    run_id: str = params["run_id"]
    progress: dict[str, Any] = {"run_id": run_id, "step": "planning", "phases": []}

    def status(**changes: Any) -> None:
        progress.update(changes)
        context.set_custom_status(progress)

    status()
    plan: dict[str, Any] = yield context.call_activity(
        "plan_delta",
        {
            "run_id": run_id,
            "cutover": bool(params.get("cutover")),
            "since": params.get("since"),
            "full_compare": bool(params.get("full_compare")),
        },
    )
    status(continues_from=plan["continues_from"])
    yield context.call_activity("check_schema", {"run_id": run_id})

    for level in plan["extraction"]:
        status(step="reading_changes", objects=level)
        yield context.task_all(
            [
                context.call_activity_with_retry(
                    "extract_changes", RETRY, {"run_id": run_id, "object": name}
                )
                for name in level
            ]
        )
    if plan["full_compare"]:
        status(step="comparing_ids", objects=plan["compare"])
        yield context.task_all(
            [
                context.call_activity_with_retry(
                    "compare_ids", RETRY, {"run_id": run_id, "object": name}
                )
                for name in plan["compare"]
            ]
        )

    status(step="resolving")
    yield context.call_activity("prepare_delta_context", {"run_id": run_id})

    phase_results, reconciled = yield from load_phases(context, run_id, plan["phases"], progress)
    if not reconciled:
        result = yield context.call_activity(
            "finish_delta",
            {"run_id": run_id, "status": "stopped_at_gate", "phases": phase_results},
        )
        return dict(result)

    for phase in reversed(plan["phases"]):
        status(step="deleting", phase=phase["index"])
        yield context.task_all(
            [
                context.call_activity_with_retry(
                    "apply_deletions", RETRY, {"run_id": run_id, "entry": name}
                )
                for name in reversed(phase["objects"])
            ]
        )

    certificate = None
    if plan["cutover"]:
        status(step="certifying")
        certificate = yield context.call_activity("certify", {"run_id": run_id})

    status(step="done")
    result = yield context.call_activity(
        "finish_delta",
        {
            "run_id": run_id,
            "status": "completed",
            "phases": phase_results,
            "certificate": certificate,
        },
    )
    return dict(result)
