"""The one place a Dataverse HTTP failure becomes an engine error.

Every caller decides what to do next from the class it gets back, never from message text:

- 429 → :class:`ThrottledError` carrying ``Retry-After`` (seconds or an HTTP date);
- 500/502/503/504, a dropped connection, a timeout → :class:`TransientServiceError`;
- 401 → :class:`AuthenticationError`;
- a connection that cannot be opened at all (DNS, refused, TLS) → :class:`UnreachableError`;
- 400/404/409/412/413 and the record-level error codes → :class:`RejectedByTargetError`
  with the server's hex code and message, so the record goes to quarantine;
- anything else (403 privilege, 405, 501...) → :class:`TargetError`: not one record's fault.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx

from shared.errors import (
    AuthenticationError,
    MigrationError,
    RejectedByTargetError,
    TargetError,
    ThrottledError,
    TransientServiceError,
    UnreachableError,
)

__all__ = [
    "LOOKUP_MISSING_CODES",
    "OWNER_DISABLED_CODES",
    "classify",
    "error_body",
    "parse_retry_after",
]

TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
RECORD_STATUSES = frozenset({400, 404, 409, 412, 413, 422})
OWNER_DISABLED_CODES = frozenset({"0x80040225", "0x8004022b"})
LOOKUP_MISSING_CODES = frozenset({"0x80040217"})
# Codes that mean the request as a whole was refused for a reason no record can fix.
FATAL_CODES = frozenset({"0x80040220", "0x80040315", "0x80060889", "0x80060890"})
_MAX_MESSAGE = 500


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date).

    Returns None when the header is absent or unreadable, so the caller falls back to its
    own exponential backoff instead of not waiting at all.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def error_body(response: httpx.Response) -> tuple[str | None, str]:
    """The ``(code, message)`` of a Dataverse error body; tolerant of non-JSON bodies."""
    try:
        data: Any = response.json()
    except ValueError:
        text = response.text.strip()
        return None, text[:_MAX_MESSAGE] or response.reason_phrase
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, str(data)[:_MAX_MESSAGE]
    code = error.get("code") or None
    message = str(error.get("message") or response.reason_phrase)
    return (str(code).lower() if code else None), message[:_MAX_MESSAGE]


def classify(
    failure: httpx.Response | BaseException,
    *,
    object_name: str | None = None,
    record_id: str | None = None,
    action: str = "request",
) -> MigrationError:
    """Map a failed response or a transport exception to the engine's error tree.

    Args:
        failure: A response with status >= 400, or the exception httpx raised.
        object_name: Table the request concerned, named in the message.
        record_id: Target id when the request concerned one record.
        action: Short description for the message, e.g. ``"UpsertMultiple accounts"``.
    """
    who = " ".join(p for p in (object_name, record_id) if p)
    prefix = f"{action} ({who})" if who else action
    if isinstance(failure, BaseException):
        return _classify_exception(failure, prefix, object_name, record_id)
    status = failure.status_code
    code, message = error_body(failure)
    retry_after = parse_retry_after(failure.headers.get("Retry-After"))
    kw: dict[str, Any] = {"object_name": object_name, "record_id": record_id, "status": status}
    shown = f"{prefix}: HTTP {status}" + (f" {code}" if code else "") + f": {message}"
    if status == 429:
        return ThrottledError(
            shown + " (service protection limit; waiting as Retry-After asks)",
            retry_after=retry_after,
            **kw,
        )
    if status in TRANSIENT_STATUSES:
        return TransientServiceError(shown, retry_after=retry_after, **kw)
    if status == 401:
        return AuthenticationError(
            f"{prefix}: Dataverse refused the token (HTTP 401: {message}). Check the "
            "application user, its security role and the dataverse.auth settings.",
            **kw,
        )
    if code in FATAL_CODES or status not in RECORD_STATUSES:
        return TargetError(shown, **kw)
    reason = "TARGET_REJECTED"
    if code in LOOKUP_MISSING_CODES:
        # We write by upsert, so a missing object on a write is a bound lookup's target.
        reason = "TARGET_LOOKUP_MISSING"
    elif code in OWNER_DISABLED_CODES:
        reason = "OWNER_DISABLED_AT_WRITE"
    return RejectedByTargetError(shown, server_code=code, reason_code=reason, value=message, **kw)


def _classify_exception(
    exc: BaseException, prefix: str, object_name: str | None, record_id: str | None
) -> MigrationError:
    kw: dict[str, Any] = {"object_name": object_name, "record_id": record_id}
    if isinstance(exc, MigrationError):
        return exc
    if isinstance(exc, httpx.ConnectError):
        return UnreachableError(
            f"{prefix}: cannot reach the Dataverse environment ({exc or type(exc).__name__}). "
            "Check dataverse.url, the network and TLS settings; the run can be resumed.",
            **kw,
        )
    if isinstance(exc, httpx.TimeoutException):
        return TransientServiceError(f"{prefix}: timed out ({type(exc).__name__})", **kw)
    if isinstance(exc, httpx.TransportError):
        return TransientServiceError(
            f"{prefix}: connection dropped ({type(exc).__name__}: {exc})", **kw
        )
    return TargetError(f"{prefix}: unexpected failure {type(exc).__name__}: {exc}", **kw)
