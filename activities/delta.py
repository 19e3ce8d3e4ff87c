"""Activities of the ``delta`` orchestrator: each unpacks its input and calls
``shared.delta.steps`` (or the cutover certificate). The loads and reconciliation are the
migration's own activities."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from shared.delta import steps
from shared.run import runtime

bp = df.Blueprint()


@bp.activity_trigger(input_name="params")
def plan_delta(params: dict[str, Any]) -> dict[str, Any]:
    """Fix what the delta continues from, its mapping, phases and read windows."""
    return steps.plan_delta(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def extract_changes(params: dict[str, Any]) -> dict[str, Any]:
    """Stage one object's records changed or deleted since its watermark."""
    return steps.extract_changes(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def compare_ids(params: dict[str, Any]) -> dict[str, Any]:
    """Find ids gone from the source (deleted or purged) by comparing full id sets."""
    return steps.compare_ids(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def prepare_delta_context(params: dict[str, Any]) -> dict[str, Any]:
    """The pre-passes over the changes, merged into the previous run's context."""
    return steps.prepare_delta_context(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def apply_deletions(params: dict[str, Any]) -> dict[str, Any]:
    """Delete, deactivate or report one entry's rows deleted in Salesforce."""
    return steps.apply_deletions(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def certify(params: dict[str, Any]) -> dict[str, Any]:
    """Compare the source and the target record by record: the cutover certificate."""
    return steps.certify_cutover(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def finish_delta(params: dict[str, Any]) -> dict[str, Any]:
    """Write the delta's reports; advance the sync state if every phase reconciled."""
    return steps.finish_delta(runtime.current(), params)
