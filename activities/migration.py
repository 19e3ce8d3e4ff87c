"""Activities of the ``migrate`` orchestrator: each unpacks its input and calls
``shared.run.steps``. Nothing here knows whether it runs on Azure or on the local host."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from shared.run import runtime, steps

bp = df.Blueprint()


@bp.activity_trigger(input_name="params")
def plan_run(params: dict[str, Any]) -> dict[str, Any]:
    """Snapshot and check the mapping; return extraction levels and phases."""
    return steps.plan_run(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def record_approval(params: dict[str, Any]) -> dict[str, Any]:
    """Record who approved the mapping of an HTTP-started run."""
    return steps.record_approval(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def check_schema(params: dict[str, Any]) -> dict[str, Any]:
    """Fail early if the target lacks what the mapping needs."""
    return steps.check_schema(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def extract_object(params: dict[str, Any]) -> dict[str, Any]:
    """Extract one Salesforce object into the stage."""
    return steps.extract_object(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def prepare_context(params: dict[str, Any]) -> dict[str, Any]:
    """Run the pre-passes (owners, duplicates, cycles) over the staged records."""
    return steps.prepare_context(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def list_batches(params: dict[str, Any]) -> list[str]:
    """Staged batch keys of one source object."""
    return steps.list_batches(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def load_batch(params: dict[str, Any]) -> dict[str, int]:
    """Transform and write one staged batch for one mapping entry."""
    return steps.load_batch_step(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def needs_second_pass(params: dict[str, Any]) -> bool:
    """Whether an entry has links bound in a second pass."""
    return steps.needs_second_pass(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def second_pass_batch(params: dict[str, Any]) -> dict[str, int]:
    """Bind the second-pass links of one loaded batch."""
    return steps.second_pass_batch(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def reconcile_phase(params: dict[str, Any]) -> dict[str, Any]:
    """Reconcile one phase and write its reports."""
    return steps.reconcile_phase(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def write_inventories(params: dict[str, Any]) -> dict[str, Any]:
    """Write the sequence inventory and the enrollment manifest."""
    return steps.write_inventories(runtime.current(), params)


@bp.activity_trigger(input_name="params")
def write_summary(params: dict[str, Any]) -> dict[str, Any]:
    """Write the run summary and the quarantine list; return the run's output."""
    return steps.write_summary(runtime.current(), params)
