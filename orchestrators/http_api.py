"""The Functions app's HTTP API and the delta-sync timer: thin bodies over ``shared/``.

Routes (all ``/api/...``, function-level auth: pass ``?code=<function key>`` or the
``x-functions-key`` header)::

    POST /migrations                          start (or resume) a migration    -> 202
    GET  /migrations/{id}                     status and progress              -> 200
    POST /migrations/{id}/approve-mapping     raise MappingApproved            -> 202
    POST /migrations/{id}/rollback            start a rollback (dry run first) -> 202
    POST /delta-sync                          one delta sync now (or the cutover) -> 202
    GET  /migrations/{id}/reports             list the run's reports           -> 200
    GET  /migrations/{id}/reports/{name}      download one report              -> 200

Every error answer is JSON ``{"error", "message", "problems"}`` (see ``shared.api_models``).
The timer ``delta_sync_timer`` runs on ``%MIGRATION__DELTA__SCHEDULE%`` and is disabled by
the app setting ``AzureWebJobs.delta_sync_timer.Disabled=true`` until an operator turns it
on; it starts the ``delta`` orchestrator under the fixed id ``delta-sync`` only when no
delta sync is still running.

Durable's ``start_new`` silently replaces an instance with the same id, so every start checks
``get_status`` first.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import azure.durable_functions as df
import azure.functions as func
from pydantic import ValidationError

from shared import telemetry
from shared.api_models import (
    ACTIVE_STATUSES,
    APPROVAL_EVENT,
    DELTA_INSTANCE_ID,
    RESUMABLE_STATUSES,
    ApproveMappingRequest,
    ErrorBody,
    ErrorCode,
    MappingRef,
    RollbackRequest,
    StartDeltaRequest,
    StartMigrationRequest,
    apply_overrides,
    azure_readiness_problems,
    delta_run_id,
    describe_errors,
    is_valid_report_name,
    public_config,
    report_content_type,
    rollback_instance_id,
    rollback_prefix,
    status_view,
)
from shared.errors import ConfigError, StageError
from shared.run.layout import is_valid_run_id, new_run_id
from shared.settings import Settings, load_settings

MIGRATE, ROLLBACK, DELTA = "migrate", "rollback", "delta"
DELTA_SCHEDULE = "%MIGRATION__DELTA__SCHEDULE%"
AUTH = func.AuthLevel.FUNCTION

log = logging.getLogger("orchestrators.http_api")

_Decorator = Callable[[Callable[..., Any]], Any]


class _Blueprint(Protocol):
    """The part of ``df.Blueprint`` used here, typed (the SDK ships no annotations).

    The decorators return the SDK's function builders, not the functions: tests reach the
    plain coroutine through ``fn.build().get_user_function().client_function``.
    """

    def route(self, route: str, methods: list[str], auth_level: func.AuthLevel) -> _Decorator: ...

    def durable_client_input(self, client_name: str) -> _Decorator: ...

    def timer_trigger(
        self, arg_name: str, schedule: str, run_on_startup: bool, use_monitor: bool
    ) -> _Decorator: ...


bp: _Blueprint = df.Blueprint()


class _RefusalError(Exception):
    """An answer other than success, carried out of a helper as an exception."""

    def __init__(self, response: func.HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(payload, indent=2, default=str),
        status_code=status,
        mimetype="application/json",
        headers=headers,
    )


def _error(
    status: int, code: ErrorCode, message: str, problems: list[str] | None = None
) -> func.HttpResponse:
    body = ErrorBody(error=code, message=message, problems=problems or [])
    return _json(status, body.model_dump())


def _now() -> datetime:
    return datetime.now(UTC)


def _body(req: func.HttpRequest) -> dict[str, Any]:
    raw = req.get_body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise _RefusalError(
            _error(400, "invalid_request", "the request body is not UTF-8 text")
        ) from None
    except json.JSONDecodeError as exc:
        where = f" at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise _RefusalError(
            _error(400, "invalid_request", f"the request body is not valid JSON{where}")
        ) from None
    if not isinstance(data, dict):
        raise _RefusalError(
            _error(400, "invalid_request", "the request body must be a JSON object")
        )
    return data


def _run_id(req: func.HttpRequest) -> str:
    run_id = str(req.route_params.get("id", ""))
    if not is_valid_run_id(run_id):
        raise _RefusalError(
            _error(
                400,
                "invalid_request",
                f"{run_id!r} is not a run id: letters, digits, '_', '.', '-' (max 80)",
            )
        )
    return run_id


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise _RefusalError(
            _error(500, "app_not_configured", "the app settings are not valid", exc.problems)
        ) from None


def _api_base(req: func.HttpRequest) -> str:
    """``https://host/api/migrations``, from the request, without its query (the key)."""
    parts = urlsplit(req.url)
    return f"{parts.scheme}://{parts.netloc}/api/migrations"


def _links(req: func.HttpRequest, run_id: str) -> dict[str, str]:
    base = f"{_api_base(req)}/{run_id}"
    return {
        "status": base,
        "approve_mapping": f"{base}/approve-mapping",
        "rollback": f"{base}/rollback",
        "reports": f"{base}/reports",
    }


async def _status_of(client: Any, instance_id: str) -> Any:
    try:
        return await client.get_status(instance_id)
    except Exception as exc:  # the Durable client raises bare Exception
        raise _RefusalError(_durable_failure("read the status of", instance_id, exc)) from None


def _runtime(status: Any) -> str | None:
    value = getattr(status, "runtime_status", None)
    return value.value if value is not None else None


def _durable_failure(action: str, instance_id: str, exc: Exception) -> func.HttpResponse:
    return _error(
        502,
        "durable_error",
        f"the Durable Task extension could not {action} {instance_id!r}: "
        f"{telemetry.redact(str(exc))}",
    )


def _accepted(
    client: Any, req: func.HttpRequest, instance_id: str, extra: dict[str, Any]
) -> func.HttpResponse:
    """Durable's check-status answer (202, ``Location``) with our own fields added."""
    base = client.create_check_status_response(req, instance_id)
    payload = {**extra, **json.loads(base.get_body()), "links": _links(req, instance_id)}
    headers = {k: v for k, v in base.headers.items() if k.lower() != "content-type"}
    return _json(202, payload, headers)


@bp.route(route="migrations", methods=["POST"], auth_level=AUTH)
@bp.durable_client_input(client_name="client")
async def start_migration(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """Start a migration from a validated body; resume it when the same failed id is given."""
    try:
        return await _start_migration(req, client)
    except _RefusalError as refusal:
        return refusal.response


async def _start_migration(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    try:
        body = StartMigrationRequest.model_validate(_body(req))
    except ValidationError as exc:
        problems = describe_errors(exc)
        return _error(400, "invalid_request", "the request body is not valid", problems)
    try:
        settings = apply_overrides(_settings(), body.config)
    except ValueError as exc:
        return _error(400, "invalid_request", "config cannot be applied", exc.args[0])
    problems = azure_readiness_problems(settings)
    if problems:
        return _error(500, "app_not_configured", "the app cannot run a migration yet", problems)
    run_id = body.run_id or new_run_id(_now(), uuid.uuid4().hex)
    with telemetry.dimensions(run_id=run_id, span="http start migration"):
        existing = _runtime(await _status_of(client, run_id))
        if existing in ACTIVE_STATUSES:
            return _error(
                409,
                "conflict",
                f"run {run_id} is already {existing}; follow it at GET "
                f"{_links(req, run_id)['status']} (starting it again would replace it)",
            )
        if existing is not None and existing not in RESUMABLE_STATUSES:
            return _error(
                409,
                "conflict",
                f"run {run_id} already {existing}; start a new run "
                "(omit run_id), or POST .../rollback to undo it",
            )
        mapping = body.mapping or MappingRef(file=str(settings.mapping.file), sha256=None)
        orchestration_input = {
            "run_id": run_id,
            "config": public_config(settings),
            "mapping": mapping.model_dump(),
            "require_approval": body.require_approval,
            "approval_timeout_hours": body.approval_timeout_hours,
        }
        try:
            await client.start_new(MIGRATE, run_id, orchestration_input)
        except Exception as exc:
            return _durable_failure("start", run_id, exc)
        log.info("migration %s started (resumed: %s)", run_id, existing is not None)
        return _accepted(client, req, run_id, {"run_id": run_id, "resumed": existing is not None})


@bp.route(route="migrations/{id}", methods=["GET"], auth_level=AUTH)
@bp.durable_client_input(client_name="client")
async def get_migration(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """Where a run is: Durable status plus the progress its orchestrator reports."""
    try:
        run_id = _run_id(req)
        status = await _status_of(client, run_id)
    except _RefusalError as refusal:
        return refusal.response
    runtime = _runtime(status)
    if runtime is None:
        return _error(404, "not_found", f"no migration {run_id} in this task hub")
    view = status_view(
        run_id,
        name=status.name,
        runtime_status=runtime,
        created=status.created_time,
        updated=status.last_updated_time,
        custom_status=status.custom_status,
        output=status.output,
    )
    return _json(200, {**view.model_dump(), "links": _links(req, run_id)})


@bp.route(route="migrations/{id}/approve-mapping", methods=["POST"], auth_level=AUTH)
@bp.durable_client_input(client_name="client")
async def approve_mapping(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """Record a person's decision on the proposed mapping as the ``MappingApproved`` event."""
    try:
        run_id = _run_id(req)
        body = ApproveMappingRequest.model_validate(_body(req))
        runtime = _runtime(await _status_of(client, run_id))
    except ValidationError as exc:
        return _error(400, "invalid_request", "the request body is not valid", describe_errors(exc))
    except _RefusalError as refusal:
        return refusal.response
    if runtime is None:
        return _error(404, "not_found", f"no migration {run_id} in this task hub")
    if runtime not in {"Pending", "Running"}:
        return _error(
            409,
            "conflict",
            f"run {run_id} is {runtime}; only a running migration can receive a mapping decision",
        )
    event = {"approved": body.approved, "by": body.by, "sha256": body.sha256}
    with telemetry.dimensions(run_id=run_id, phase="mapping_approval"):
        try:
            await client.raise_event(run_id, APPROVAL_EVENT, event)
        except Exception as exc:
            return _durable_failure("deliver the mapping decision to", run_id, exc)
        log.info(
            "mapping for %s %s by %s", run_id, "approved" if body.approved else "rejected", body.by
        )
    return _json(
        202, {"run_id": run_id, "event": APPROVAL_EVENT, **event, "links": _links(req, run_id)}
    )


@bp.route(route="migrations/{id}/rollback", methods=["POST"], auth_level=AUTH)
@bp.durable_client_input(client_name="client")
async def rollback_migration(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """Start the rollback of a finished or stopped run; a dry run unless ``dry_run`` is false."""
    try:
        target = _run_id(req)
        body = RollbackRequest.model_validate(_body(req))
        problems = azure_readiness_problems(_settings())
        runtime = _runtime(await _status_of(client, target))
    except ValidationError as exc:
        return _error(400, "invalid_request", "the request body is not valid", describe_errors(exc))
    except _RefusalError as refusal:
        return refusal.response
    if problems:
        return _error(500, "app_not_configured", "the app cannot run a rollback yet", problems)
    if runtime is None:
        return _error(404, "not_found", f"no migration {target} in this task hub")
    if runtime in ACTIVE_STATUSES:
        return _error(
            409,
            "conflict",
            f"run {target} is still {runtime}; terminate it first, then roll back what it wrote",
        )
    try:
        running = await client.get_status_by(
            runtime_status=[df.OrchestrationRuntimeStatus(s) for s in sorted(ACTIVE_STATUSES)],
            instance_id_prefix=rollback_prefix(target),
        )
    except Exception as exc:
        return _durable_failure("list the rollbacks of", target, exc)
    if running:
        busy = running[0].instance_id
        return _error(409, "conflict", f"rollback {busy} of run {target} is still running")
    rollback_id = rollback_instance_id(target, _now())
    rollback_input = {"run_id": rollback_id, "target_run_id": target, "dry_run": body.dry_run}
    with telemetry.dimensions(run_id=target, phase="rollback"):
        try:
            await client.start_new(ROLLBACK, rollback_id, rollback_input)
        except Exception as exc:
            return _durable_failure("start", rollback_id, exc)
        log.info("rollback %s of %s started (dry run: %s)", rollback_id, target, body.dry_run)
    note = (
        'dry run: nothing is changed; read its report, then POST {"dry_run": false}'
        if body.dry_run
        else "deleting what the run created and restoring what it overwrote"
    )
    extra = {"run_id": rollback_id, "target_run_id": target, "dry_run": body.dry_run, "note": note}
    return _accepted(client, req, rollback_id, extra)


@bp.route(route="migrations/{id}/reports", methods=["GET"], auth_level=AUTH)
def list_reports(req: func.HttpRequest) -> func.HttpResponse:
    """The names of the reports a run has written so far, with their download URLs."""
    try:
        run_id = _run_id(req)
        stage = _open_stage(_settings())
        prefix = f"{run_id}/reports/"
        names = [key[len(prefix) :] for key in stage.list_keys(prefix)]
    except _RefusalError as refusal:
        return refusal.response
    except StageError as exc:
        return _error(502, "stage_error", f"the stage cannot be read: {exc}")
    base = _links(req, run_id)["reports"]
    reports = [{"name": n, "url": f"{base}/{n}"} for n in names if "/" not in n]
    return _json(200, {"run_id": run_id, "reports": reports})


@bp.route(route="migrations/{id}/reports/{name}", methods=["GET"], auth_level=AUTH)
def get_report(req: func.HttpRequest) -> func.HttpResponse:
    """One report file of a run, read from the stage; the name cannot leave the folder."""
    name = str(req.route_params.get("name", ""))
    try:
        run_id = _run_id(req)
        if not is_valid_report_name(name):
            return _error(
                400,
                "invalid_request",
                f"{name!r} is not a report name: one file name, "
                "letters, digits, '_', '.', '-'; no path",
            )
        stage = _open_stage(_settings())
        key = f"{run_id}/reports/{name}"
        if not stage.exists(key):
            return _error(
                404,
                "not_found",
                f"run {run_id} has no report {name!r}; "
                f"GET {_links(req, run_id)['reports']} lists them",
            )
        data = stage.get_bytes(key)
    except _RefusalError as refusal:
        return refusal.response
    except StageError as exc:
        return _error(502, "stage_error", f"the stage cannot be read: {exc}")
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return func.HttpResponse(
        data,
        status_code=200,
        headers=headers,
        mimetype=report_content_type(name).split(";")[0],
        charset="utf-8",
    )


def _open_stage(settings: Settings) -> Any:
    from shared.stage.factory import open_stage

    try:
        return open_stage(settings)
    except ConfigError as exc:
        raise _RefusalError(
            _error(500, "app_not_configured", "the stage is not configured", exc.problems)
        ) from None


@bp.route(route="delta-sync", methods=["POST"], auth_level=AUTH)
@bp.durable_client_input(client_name="client")
async def start_delta_sync(req: func.HttpRequest, client: Any) -> func.HttpResponse:
    """Run one delta sync now, or the final cutover delta, as the ``delta-sync`` singleton."""
    try:
        body = StartDeltaRequest.model_validate(_body(req))
        settings = apply_overrides(_settings(), body.config)
        runtime = _runtime(await _status_of(client, DELTA_INSTANCE_ID))
    except ValidationError as exc:
        return _error(400, "invalid_request", "the request body is not valid", describe_errors(exc))
    except ValueError as exc:
        return _error(400, "invalid_request", "config cannot be applied", exc.args[0])
    except _RefusalError as refusal:
        return refusal.response
    problems = azure_readiness_problems(settings)
    if problems:
        return _error(500, "app_not_configured", "the app cannot run a delta sync yet", problems)
    if runtime in ACTIVE_STATUSES:
        return _error(
            409,
            "conflict",
            f"a delta sync is still {runtime}; follow it at GET "
            f"{_links(req, DELTA_INSTANCE_ID)['status']}",
        )
    run_id = delta_run_id(_now())
    delta_input = {"run_id": run_id, "config": public_config(settings), "cutover": body.cutover}
    with telemetry.dimensions(run_id=run_id, phase="delta"):
        try:
            await client.start_new(DELTA, DELTA_INSTANCE_ID, delta_input)
        except Exception as exc:
            return _durable_failure("start", DELTA_INSTANCE_ID, exc)
        log.info("delta sync %s started by request (cutover: %s)", run_id, body.cutover)
    extra = {"run_id": run_id, "instance_id": DELTA_INSTANCE_ID, "cutover": body.cutover}
    return _accepted(client, req, DELTA_INSTANCE_ID, extra)


@bp.timer_trigger(arg_name="timer", schedule=DELTA_SCHEDULE, run_on_startup=False, use_monitor=True)
@bp.durable_client_input(client_name="client")
async def delta_sync_timer(timer: func.TimerRequest, client: Any) -> None:
    """Start one delta sync on schedule, unless the previous one is still running.

    The Functions host already runs a timer on one instance at a time; the status check
    covers a sync that outlives its schedule period (``start_new`` would replace it).

    Raises:
        ConfigError: the app settings cannot run a delta sync (shown as a failed invocation).
    """
    settings = load_settings()
    problems = azure_readiness_problems(settings)
    if problems:
        raise ConfigError(problems, source="app settings")
    status = await client.get_status(DELTA_INSTANCE_ID)
    runtime = _runtime(status)
    if runtime in ACTIVE_STATUSES:
        log.warning(
            "delta sync skipped: the previous one (%s) is still %s",
            DELTA_INSTANCE_ID,
            runtime,
        )
        return
    run_id = delta_run_id(_now())
    with telemetry.dimensions(run_id=run_id, phase="delta"):
        if timer.past_due:
            log.info("delta sync %s starts late: the timer was past due", run_id)
        delta_input = {"run_id": run_id, "config": public_config(settings), "cutover": False}
        await client.start_new(DELTA, DELTA_INSTANCE_ID, delta_input)
        log.info("delta sync %s started as %s", run_id, DELTA_INSTANCE_ID)
