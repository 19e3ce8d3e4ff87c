"""The ``delta`` orchestrator: not built yet, and says so.

The HTTP endpoint ``POST /api/delta-sync`` and the delta timer start an instance named
``delta``. Until delta sync and cutover exist (issue 9), the instance fails at once with a
message that says what is missing and what to do instead, rather than the Functions host
reporting an unknown orchestrator.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

bp = df.Blueprint()

NOT_BUILT = (
    "delta sync and cutover are not built yet: nothing was changed. Until they are, start a "
    "new migration after the source freeze (POST /api/migrations): writes are upserts by "
    "deterministic id, so changed records are updated and nothing is duplicated, but records "
    "deleted in Salesforce during the window are not removed from Dynamics."
)


@bp.orchestration_trigger(context_name="context")
def delta(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Fail with a clear message (delta sync is not built)."""
    context.set_custom_status({"step": "not_built", "detail": NOT_BUILT})
    if context.instance_id:  # always true; keeps the generator shape orchestrators need
        raise NotImplementedError(NOT_BUILT)
    yield context.create_timer(context.current_utc_datetime)
    return {}
