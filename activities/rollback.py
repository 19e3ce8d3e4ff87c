"""Activities of the rollback orchestrator: unpack the input, call ``shared.rollback``."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from shared.rollback import steps
from shared.run import runtime

bp = df.Blueprint()


@bp.activity_trigger(input_name="params")
def rollback_plan(params: dict[str, Any]) -> list[list[str]]:
    """Journal entries of the target run in undo order, grouped."""
    return steps.plan_groups(runtime.current(), params["target_run_id"])


@bp.activity_trigger(input_name="params")
def rollback_entries(params: dict[str, Any]) -> dict[str, int]:
    """Undo some journal entries; return outcome counts."""
    return steps.undo_entries(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def rollback_report(params: dict[str, Any]) -> dict[str, Any]:
    """Write reports/rollback.{json,md}."""
    return steps.write_report(runtime.current(), params)
