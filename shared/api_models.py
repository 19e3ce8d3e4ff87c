"""Requests and answers of the Functions app's HTTP API, and the pure rules behind them.

Everything here is plain data and pure functions, so the HTTP layer
(``orchestrators/http_api.py``) stays a few lines per route and every rule is tested without a
Functions host:

- request bodies are pydantic models (``extra="forbid"``); :func:`describe_errors` turns a
  validation failure into one sentence per problem, naming the field and the value;
- :func:`apply_overrides` merges a request's ``config`` over the app settings, refusing
  secrets (they only ever come from Key Vault-referenced app settings);
- :func:`azure_readiness_problems` says which app setting is missing before a run is started,
  instead of letting an activity fail an hour later;
- :func:`public_config` is the secret-free settings dict the orchestrator receives;
- :func:`status_view` turns a Durable status into what ``GET /api/migrations/{id}`` returns.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from shared.run.layout import RUN_ID_PATTERN
from shared.settings import ENV_PREFIX, Settings

REPORT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"

APPROVAL_EVENT = "MappingApproved"
DELTA_INSTANCE_ID = "delta-sync"

# Sections a request may tune for one run. ``run`` and ``stage`` describe the deployment
# itself (where state lives), so only app settings set them.
OVERRIDABLE_SECTIONS = ("salesforce", "dataverse", "extract", "reconcile", "delta")

# Durable runtime statuses in which an instance still owns its id: starting another
# instance with that id would silently replace it (start_new's documented behaviour).
ACTIVE_STATUSES = frozenset({"Pending", "Running", "ContinuedAsNew", "Suspended"})
# A run in one of these may be started again under the same id: stages are idempotent, so
# the new instance finishes the pending work (the Azure equivalent of ``./migrate resume``).
RESUMABLE_STATUSES = frozenset({"Failed", "Terminated", "Canceled"})

_CONTENT_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".jsonl": "application/x-ndjson",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MappingRef(_Body):
    """Which mapping file drives the run, and the checksum a person confirmed."""

    file: str = Field(min_length=1, max_length=300)
    sha256: str | None = Field(None, pattern=SHA256_PATTERN)

    @field_validator("file")
    @classmethod
    def _relative_path(cls, value: str) -> str:
        parts = value.replace("\\", "/").split("/")
        if value.startswith(("/", "\\")) or ":" in value or ".." in parts:
            raise ValueError("must be a relative path inside the app (no '..', no drive)")
        return value


class StartMigrationRequest(_Body):
    """Body of ``POST /api/migrations``. Every field is optional.

    ``config`` holds per-run overrides by settings section (e.g. ``{"extract": {"objects":
    ["Account"]}}``); secrets are refused. When ``mapping`` is omitted the app's configured
    mapping file is used, unconfirmed: the run then waits for ``approve-mapping``.
    """

    run_id: str | None = Field(None, pattern=RUN_ID_PATTERN)
    mapping: MappingRef | None = None
    require_approval: bool = True
    approval_timeout_hours: float = Field(72.0, gt=0, le=720)
    config: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("run_id")
    @classmethod
    def _no_dots_only(cls, value: str | None) -> str | None:
        if value is not None and ".." in value:
            raise ValueError("must not contain '..'")
        return value


class ApproveMappingRequest(_Body):
    """Body of ``POST /api/migrations/{id}/approve-mapping``: who reviewed which mapping."""

    approved: bool = True
    by: str = Field(min_length=1, max_length=200)
    sha256: str = Field(pattern=SHA256_PATTERN)

    @field_validator("by")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name the person who reviewed the mapping")
        return value.strip()


class RollbackRequest(_Body):
    """Body of ``POST /api/migrations/{id}/rollback``. A dry run unless told otherwise."""

    dry_run: bool = True


class StartDeltaRequest(_Body):
    """Body of ``POST /api/delta-sync``: one delta now; ``cutover`` once source writes froze."""

    cutover: bool = False
    config: dict[str, dict[str, Any]] = Field(default_factory=dict)


def describe_errors(exc: ValidationError, *, prefix: str = "") -> list[str]:
    """One sentence per problem, naming the field and the offending value.

    Example: ``mapping.sha256: 'abc' is not valid: string should match pattern ...``.
    """
    problems = []
    for err in exc.errors():
        key = prefix + ".".join(str(p) for p in err["loc"]) if err["loc"] else prefix.rstrip(".")
        key = key or "body"
        if err["type"] == "extra_forbidden":
            problems.append(f"{key}: unknown field; remove it (see docs/deploy.md for the body)")
        elif err["type"] == "missing":
            problems.append(f"{key}: required field is missing")
        else:
            value = err.get("input")
            shown = "<secret>" if _is_secret_key(key) else _short(value)
            msg = err["msg"]
            msg = msg.removeprefix("Value error, ")
            problems.append(f"{key}: {shown} is not valid: {msg[:1].lower()}{msg[1:]}")
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_secret_key(key: str) -> bool:
    return key.rsplit(".", 1)[-1] in {"password", "security_token", "client_secret", "token"}


def _secret_fields(model: type[BaseModel]) -> set[str]:
    out = set()
    for name, info in model.model_fields.items():
        ann = info.annotation
        if ann is SecretStr or SecretStr in get_args(ann):
            out.add(name)
    return out


def apply_overrides(settings: Settings, config: dict[str, dict[str, Any]]) -> Settings:
    """Merge a request's per-run ``config`` over the app settings.

    Raises:
        ValueError: carrying the list of problems as ``args[0]``, one per bad key.
    """
    problems: list[str] = []
    updates: dict[str, BaseModel] = {}
    for section, values in config.items():
        if section not in OVERRIDABLE_SECTIONS:
            if section in Settings.model_fields:
                problems.append(
                    f"config.{section}: cannot be set per request; it describes the deployment "
                    f"(app settings {ENV_PREFIX}{section.upper()}__*)"
                )
            else:
                problems.append(
                    f"config.{section}: unknown settings section; expected one of "
                    + ", ".join(OVERRIDABLE_SECTIONS)
                )
            continue
        current: BaseModel = getattr(settings, section)
        secrets = sorted(_secret_fields(type(current)) & set(values))
        for key in secrets:
            problems.append(
                f"config.{section}.{key}: secrets are not accepted in requests; they come from "
                f"Key Vault through the app setting {ENV_PREFIX}{section.upper()}__{key.upper()}"
            )
        if secrets:
            continue
        try:
            updates[section] = type(current).model_validate({**dict(current), **values})
        except ValidationError as exc:
            problems.extend(describe_errors(exc, prefix=f"config.{section}."))
    if problems:
        raise ValueError(problems)
    return settings.model_copy(update=updates)


def _app_setting(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper()}__{key.upper()}"


def azure_readiness_problems(settings: Settings) -> list[str]:
    """What keeps these settings from running a migration on Azure, one sentence each.

    Each names the app setting to set, so an operator fixes the deployment before a run
    starts instead of reading an activity failure later. Empty means ready.
    """
    problems: list[str] = []
    stage, dv, sf = settings.stage, settings.dataverse, settings.salesforce

    def need(section: str, key: str, value: object, why: str) -> None:
        if value is None or value == "":
            problems.append(f"{section}.{key} is not set: set {_app_setting(section, key)} {why}")

    if stage.backend != "blob":
        problems.append(
            f"stage.backend is {stage.backend!r}: on Azure the stage must be Blob storage; "
            f"set {_app_setting('stage', 'backend')}=blob"
        )
    elif stage.connection_string is None:
        need("stage", "account_url", stage.account_url, "(the staging account's blob endpoint)")
    need("dataverse", "url", dv.url, "(the Dataverse environment URL)")
    if dv.auth == "static_token":
        problems.append(
            "dataverse.auth is 'static_token', which only the local emulator accepts; "
            f"set {_app_setting('dataverse', 'auth')}=managed_identity"
        )
    elif dv.auth == "client_secret":
        need("dataverse", "tenant_id", dv.tenant_id, "(the app registration's tenant)")
        need("dataverse", "client_id", dv.client_id, "(the app registration)")
        need("dataverse", "client_secret", dv.client_secret, "(a Key Vault reference)")
    need("salesforce", "instance_url", sf.instance_url, "(the org's My Domain URL)")
    required = {
        "client_credentials": ("client_id", "client_secret"),
        "password": ("username", "password"),
        "access_token": ("access_token",),
    }[sf.auth]
    for key in required:
        why = "(a Key Vault reference)" if key in _secret_fields(type(sf)) else ""
        need("salesforce", key, getattr(sf, key), why)
    return [p.rstrip() for p in problems]


def public_config(settings: Settings) -> dict[str, dict[str, Any]]:
    """The settings as plain JSON by section, every secret field left out.

    This is what orchestrator inputs carry: it lands in the Durable history and the portal,
    so it must never hold a secret. Activities get secrets from app settings.
    """
    out: dict[str, dict[str, Any]] = {}
    for section in Settings.model_fields:
        model: BaseModel = getattr(settings, section)
        out[section] = model.model_dump(mode="json", exclude=_secret_fields(type(model)))
    return out


def rollback_instance_id(target_run_id: str, now: datetime) -> str:
    """The rollback's own run id, grouped under the run it undoes: ``<run>.rollback.<stamp>``."""
    return f"{rollback_prefix(target_run_id)}{now.astimezone(UTC).strftime('%Y%m%d-%H%M%S')}"


def rollback_prefix(target_run_id: str) -> str:
    """Instance-id prefix shared by every rollback of one run."""
    return f"{target_run_id}.rollback."


def delta_run_id(now: datetime) -> str:
    """Run id of one timer-started delta sync (its instance id is always ``delta-sync``)."""
    return f"delta-{now.astimezone(UTC).strftime('%Y%m%d-%H%M%S')}"


def is_valid_report_name(value: str) -> bool:
    """True for one file name inside a run's reports folder: no path, no traversal."""
    return bool(re.match(REPORT_NAME_PATTERN, value)) and ".." not in value


def report_content_type(name: str) -> str:
    """The media type a browser or ``curl -o`` should get for a report file."""
    dot = name.rfind(".")
    return _CONTENT_TYPES.get(name[dot:].lower() if dot >= 0 else "", "application/octet-stream")


class StatusView(BaseModel):
    """What ``GET /api/migrations/{id}`` answers: Durable status plus the run's progress."""

    run_id: str
    runtime_status: str
    orchestrator: str | None
    created_time: str | None
    last_updated_time: str | None
    progress: Any = Field(None, description="The orchestrator's custom status, as it set it.")
    output: Any = None
    awaiting_approval: bool
    next_step: str | None


def status_view(
    run_id: str,
    *,
    name: str | None,
    runtime_status: str,
    created: datetime | None,
    updated: datetime | None,
    custom_status: Any,
    output: Any,
) -> StatusView:
    """Describe one run for a person: where it is and what they may do next."""
    progress = custom_status
    steps = {progress.get("step"), progress.get("phase")} if isinstance(progress, dict) else set()
    awaiting = runtime_status == "Running" and "awaiting_mapping_approval" in steps
    next_step: dict[str, str] = {
        "Pending": "starting; ask again in a few seconds",
        "Running": "running; ask again for progress",
        "Completed": "finished; read the reports (GET .../reports)",
        "Failed": "failed; read output.error, fix the cause, then POST /api/migrations with "
        "the same run_id to finish the pending work",
        "Terminated": "stopped; POST /api/migrations with the same run_id to resume",
        "Suspended": "suspended; resume it through the Durable management API",
    }
    hint = next_step.get(runtime_status)
    if awaiting:
        hint = "waiting for mapping approval: POST .../approve-mapping"
    return StatusView(
        run_id=run_id,
        runtime_status=runtime_status,
        orchestrator=name,
        created_time=_iso(created),
        last_updated_time=_iso(updated),
        progress=progress,
        output=output,
        awaiting_approval=awaiting,
        next_step=hint,
    )


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


ErrorCode = Literal[
    "invalid_request",
    "not_found",
    "conflict",
    "app_not_configured",
    "durable_error",
    "stage_error",
]


class ErrorBody(BaseModel):
    """Every error answer: a stable code, one sentence, and one line per problem."""

    error: ErrorCode
    message: str
    problems: list[str] = Field(default_factory=list)
