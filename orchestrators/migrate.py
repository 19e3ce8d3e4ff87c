"""The ``migrate`` orchestrator and its per-object ``load_object`` sub-orchestrator.

Deterministic generators: no I/O, no clock but the context's, no ids but the context's.
Inputs and outputs are references (run id, object names, stage keys) and counts, never record
payloads. Throttling is handled inside activities; orchestrator-level retries are coarse and
never sit inside ``task_any`` (a known hang of the 1.x SDK).

Flow: plan → (approval) → schema check → extraction in dependency levels → resolution
context → per phase: load every object of the phase in a sub-orchestration (bounded windows
of batches, then the second pass), reconcile, gate → inventories → summary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

bp = df.Blueprint()

APPROVAL_EVENT = "MappingApproved"
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=15_000, max_number_of_attempts=3)
LOAD_WINDOW = 8  # load batches in flight per object; the Dataverse client adapts below this

Orchestration = Generator[Any, Any, dict[str, Any]]


def _status(
    context: df.DurableOrchestrationContext, progress: dict[str, Any], **changes: Any
) -> None:
    progress.update(changes)
    context.set_custom_status(progress)


def _add(total: dict[str, int], counts: dict[str, Any]) -> None:
    for key, value in counts.items():
        if isinstance(value, int) and not isinstance(value, bool):
            total[key] = total.get(key, 0) + value


@bp.orchestration_trigger(context_name="context")
def migrate(context: df.DurableOrchestrationContext) -> Orchestration:
    """Migrate one org, phase by phase, stopping at the first phase that does not reconcile."""
    params: dict[str, Any] = context.get_input()
    run_id: str = params["run_id"]
    progress: dict[str, Any] = {"run_id": run_id, "step": "planning", "phases": []}
    _status(context, progress)

    plan: dict[str, Any] = yield context.call_activity("plan_run", {"run_id": run_id})
    if not plan["confirmed"]:
        if not params.get("require_approval"):
            return {"run_id": run_id, "status": "mapping_not_confirmed", "detail": plan["detail"]}
        _status(context, progress, step="awaiting_mapping_approval", mapping=plan["mapping"])
        hours = float(params.get("approval_timeout_hours", 72))
        approval = context.wait_for_external_event(APPROVAL_EVENT)
        timeout = context.create_timer(context.current_utc_datetime + dt.timedelta(hours=hours))
        winner = yield context.task_any([approval, timeout])
        if winner == timeout:
            return {"run_id": run_id, "status": "approval_timed_out", "hours": hours}
        timeout.cancel()
        decision: dict[str, Any] = approval.result or {}
        if not decision.get("approved"):
            return {"run_id": run_id, "status": "mapping_rejected", "by": decision.get("by")}
        if decision.get("sha256") != plan["mapping"]["sha256"]:
            return {
                "run_id": run_id,
                "status": "mapping_changed",
                "detail": "the approval names a different mapping version than the one planned",
            }
        yield context.call_activity(
            "record_approval", {"run_id": run_id, "by": decision.get("by"), **plan["mapping"]}
        )

    _status(context, progress, step="checking_schema")
    yield context.call_activity("check_schema", {"run_id": run_id})

    extracted: dict[str, Any] = {}
    for level in plan["extraction"]:
        _status(context, progress, step="extracting", objects=level)
        results = yield context.task_all(
            [
                context.call_activity_with_retry(
                    "extract_object", RETRY, {"run_id": run_id, "object": name}
                )
                for name in level
            ]
        )
        for result in results:
            extracted[result["object"]] = result
    progress["extracted"] = {k: v["count"] for k, v in extracted.items()}

    _status(context, progress, step="resolving")
    yield context.call_activity("prepare_context", {"run_id": run_id})

    phase_results, reconciled = yield from load_phases(context, run_id, plan["phases"], progress)
    if not reconciled:
        result = yield context.call_activity(
            "write_summary",
            {"run_id": run_id, "status": "stopped_at_gate", "phases": phase_results},
        )
        return dict(result)

    _status(context, progress, step="inventories")
    yield context.call_activity("write_inventories", {"run_id": run_id})
    _status(context, progress, step="done")
    result = yield context.call_activity(
        "write_summary", {"run_id": run_id, "status": "completed", "phases": phase_results}
    )
    return dict(result)


def load_phases(
    context: df.DurableOrchestrationContext,
    run_id: str,
    phases: list[dict[str, Any]],
    progress: dict[str, Any],
) -> Generator[Any, Any, tuple[list[dict[str, Any]], bool]]:
    """Load and reconcile phase after phase; stop at the first that does not reconcile.

    Shared by ``migrate`` and ``delta`` (``yield from``): every entry of a phase is a
    ``load_object`` sub-orchestration, then the phase is reconciled and gated. Returns the
    phase results and whether every phase reconciled.
    """
    results: list[dict[str, Any]] = []
    for phase in phases:
        _status(context, progress, step="loading", phase=phase["index"], objects=phase["objects"])
        loads = yield context.task_all(
            [
                context.call_sub_orchestrator(
                    "load_object",
                    {"run_id": run_id, "entry": name, "source": phase["sources"][name]},
                    f"{run_id}@load@{name}",
                )
                for name in phase["objects"]
            ]
        )
        _status(context, progress, step="reconciling", phase=phase["index"])
        reconciliation = yield context.call_activity(
            "reconcile_phase",
            {"run_id": run_id, "phase": phase["index"], "entries": phase["objects"]},
        )
        results.append(
            {"phase": phase["index"], "objects": loads, "reconciliation": reconciliation}
        )
        progress["phases"].append(
            {"phase": phase["index"], "reconciled": reconciliation["reconciled"]}
        )
        if not reconciliation["reconciled"]:
            _status(context, progress, step="stopped_at_gate")
            return results, False
    return results, True


@bp.orchestration_trigger(context_name="context")
def load_object(context: df.DurableOrchestrationContext) -> Orchestration:
    """Load every staged batch of one mapping entry in bounded windows, then its second pass."""
    params: dict[str, Any] = context.get_input()
    run_id, entry = params["run_id"], params["entry"]
    batches: list[str] = yield context.call_activity(
        "list_batches", {"run_id": run_id, "source": params["source"]}
    )
    totals: dict[str, int] = {}
    progress: dict[str, Any] = {"entry": entry, "batches": len(batches), "done": 0, "pass": 1}
    _status(context, progress)
    for start in range(0, len(batches), LOAD_WINDOW):
        window = batches[start : start + LOAD_WINDOW]
        results = yield context.task_all(
            [
                context.call_activity_with_retry(
                    "load_batch", RETRY, {"run_id": run_id, "entry": entry, "batch": key}
                )
                for key in window
            ]
        )
        for counts in results:
            _add(totals, counts)
        _status(context, progress, done=start + len(window), counts=totals)
    second: dict[str, int] = {}
    if batches:
        needs = yield context.call_activity("needs_second_pass", {"run_id": run_id, "entry": entry})
        if needs:
            _status(context, progress, **{"pass": 2, "done": 0})
            for start in range(0, len(batches), LOAD_WINDOW):
                window = batches[start : start + LOAD_WINDOW]
                results = yield context.task_all(
                    [
                        context.call_activity_with_retry(
                            "second_pass_batch",
                            RETRY,
                            {"run_id": run_id, "entry": entry, "batch": key},
                        )
                        for key in window
                    ]
                )
                for counts in results:
                    _add(second, counts)
                _status(context, progress, done=start + len(window))
    return {"entry": entry, "batches": len(batches), "counts": totals, "second_pass": second}
