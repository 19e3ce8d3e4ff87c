"""Telemetry to Application Insights, tagged with run, phase and object, never with secrets.

Why this module exists: in the Azure portal a migration engineer filters traces, requests and
failures by *which run*, *which phase* and *which object*. Every span and log record made
inside :func:`dimensions` carries those as ``migration.run_id``, ``migration.phase`` and
``migration.object`` (``customDimensions`` in Application Insights), so one KQL ``where``
finds everything about one run (queries in ``docs/deploy.md``).

Export is switched on only when ``APPLICATIONINSIGHTS_CONNECTION_STRING`` is set (the
Bicep template sets it; a laptop run leaves it unset and nothing leaves the machine). When
``APPLICATIONINSIGHTS_AUTHENTICATION_STRING`` asks for ``Authorization=AAD`` (local auth is
disabled on the Application Insights resource), the exporter authenticates with the app's
managed identity, which holds *Monitoring Metrics Publisher*.

Whatever the exporter, log text passes through :func:`redact` first: passwords, client
secrets, tokens, SAS signatures, function keys (``code=``) and Salesforce session ids are
masked before any handler sees them.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace

RUN_ID = "migration.run_id"
PHASE = "migration.phase"
OBJECT = "migration.object"

CONNECTION_STRING_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
AUTHENTICATION_SETTING = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"
WORKER_TELEMETRY_SETTING = "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"
# Every environment variable this module reads; the Bicep test checks the template sets them.
APP_SETTINGS_READ = (CONNECTION_STRING_SETTING, AUTHENTICATION_SETTING)

_DIMENSIONS: ContextVar[dict[str, str]] = ContextVar("migration_dimensions", default={})  # noqa: B039
_TRACER_NAME = "leadfwd_to_dynamics365"
_lock = threading.Lock()
_state = {"enrichment": False, "exporter": False}

_MASK = "***"
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # key=value in query strings, connection strings and messages
    (
        re.compile(
            r"(?i)\b(password|passwd|pwd|client_secret|security_token|access_token|"
            r"refresh_token|sig|code|accountkey|sharedaccesskey|secret)=([^&;\s\"',]+)"
        ),
        rf"\1={_MASK}",
    ),
    # "key": "value" in JSON bodies
    (
        re.compile(
            r"(?i)(\"(?:password|client_secret|security_token|access_token|refresh_token|"
            r"token|secret)\"\s*:\s*\")[^\"]*(\")"
        ),
        rf"\1{_MASK}\2",
    ),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {_MASK}"),
    # Salesforce session ids: <15/18-char org id>!<opaque>
    (re.compile(r"\b(00D[A-Za-z0-9]{12,15})![A-Za-z0-9._]+"), rf"\1!{_MASK}"),
)


def redact(text: str) -> str:
    """Mask every secret-looking value in ``text``; the key names stay for debugging."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def current_dimensions() -> dict[str, str]:
    """The run/phase/object dimensions in force here (empty outside :func:`dimensions`)."""
    return dict(_DIMENSIONS.get())


@contextlib.contextmanager
def dimensions(
    *,
    run_id: str | None = None,
    phase: str | None = None,
    object_name: str | None = None,
    span: str | None = None,
) -> Iterator[dict[str, str]]:
    """Tag everything done inside the block with run, phase and object.

    Nested blocks add to the outer dimensions (a phase inside a run, an object inside a
    phase). With ``span`` a span of that name is opened carrying the dimensions, so the
    portal's transaction view shows the step with its run and object.

    Args:
        run_id: The migration run (its Durable instance id).
        phase: The phase, e.g. ``accounts`` or ``reconcile``.
        object_name: The Salesforce object or Dataverse table being worked on.
        span: Name of a span to open for the block, if any.
    """
    added = {
        key: value
        for key, value in ((RUN_ID, run_id), (PHASE, phase), (OBJECT, object_name))
        if value
    }
    dims = {**_DIMENSIONS.get(), **added}
    token = _DIMENSIONS.set(dims)
    try:
        if span is None:
            current = trace.get_current_span()
            if current.is_recording():
                current.set_attributes(dims)
            yield dict(dims)
        else:
            with trace.get_tracer(_TRACER_NAME).start_as_current_span(span, attributes=dims):
                yield dict(dims)
    finally:
        _DIMENSIONS.reset(token)


def log_progress(logger: logging.Logger, event: str, counts: Mapping[str, int]) -> None:
    """Log one progress step with its counts as separate dimensions (``migration.<name>``).

    Activities call this after each batch, e.g. ``log_progress(log, "batch loaded",
    {"written": 498, "quarantined": 2, "throttled": 3})``, so a KQL query can sum written and
    quarantined records per object without parsing message text (docs/deploy.md).
    """
    extra = {f"migration.{name}": int(value) for name, value in counts.items()}
    shown = ", ".join(f"{name}={int(value)}" for name, value in counts.items())
    logger.info("%s: %s", event, shown, extra=extra)


def _enriching_factory(
    previous: Callable[..., logging.LogRecord],
) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        for key, value in _DIMENSIONS.get().items():
            setattr(record, key, value)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: leave it for logging to report
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return record

    return factory


def install_log_enrichment() -> None:
    """Make every log record carry the current dimensions and lose its secrets. Idempotent.

    A record factory (not a handler filter) so it applies to every handler: the exporter's,
    the Functions worker's and the console's alike.
    """
    with _lock:
        if _state["enrichment"]:
            return
        logging.setLogRecordFactory(_enriching_factory(logging.getLogRecordFactory()))
        _state["enrichment"] = True


def _credential(auth: str) -> Any:
    """A managed identity credential when the authentication string asks for Entra ID."""
    parts = dict(
        part.split("=", 1) for part in auth.split(";") if "=" in part
    )  # e.g. "ClientId=...;Authorization=AAD"
    if parts.get("Authorization", "").upper() != "AAD":
        return None
    from azure.identity import ManagedIdentityCredential

    client_id = parts.get("ClientId")
    if client_id:
        return ManagedIdentityCredential(client_id=client_id)
    return ManagedIdentityCredential()


def configure_telemetry(env: Mapping[str, str]) -> bool:
    """Start exporting to Application Insights if the environment names a resource.

    Called once by the Functions entry point with ``os.environ``. Log enrichment (dimensions
    and redaction) is installed in every case.

    Returns:
        True when this call configured the Azure Monitor exporter; False when there is no
        connection string, when the Functions worker already configured it
        (``PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY=true``), or when it was done before.
    """
    install_log_enrichment()
    connection_string = env.get(CONNECTION_STRING_SETTING, "").strip()
    if not connection_string:
        return False
    if env.get(WORKER_TELEMETRY_SETTING, "").strip().lower() == "true":
        return False
    with _lock:
        if _state["exporter"]:
            return False
        from azure.monitor.opentelemetry import configure_azure_monitor

        options: dict[str, Any] = {
            "connection_string": connection_string,
            "instrumentation_options": {
                name: {"enabled": False} for name in ("django", "fastapi", "flask", "psycopg2")
            },
            "enable_live_metrics": False,
        }
        credential = _credential(env.get(AUTHENTICATION_SETTING, ""))
        if credential is not None:
            options["credential"] = credential
        configure_azure_monitor(**options)
        _state["exporter"] = True
        return True
