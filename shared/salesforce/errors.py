"""The one place Salesforce failures are classified into the engine's error tree.

simple-salesforce maps HTTP status to its own exception classes; requests raises for the
network. Both end here, so the retry loop and every message say the same thing for the same
failure::

    REQUEST_LIMIT_EXCEEDED (403), 429     -> ThrottledError        (retried with backoff)
    5xx, dropped connection, timeout      -> TransientServiceError (retried with backoff)
    401 INVALID_SESSION_ID, bad login     -> AuthenticationError
    TLS failure, refused/unknown host     -> UnreachableError      (at login)
    400 INVALID_FIELD / MALFORMED_QUERY /
    INVALID_TYPE, 404, other 403          -> SourceError
"""

from __future__ import annotations

from typing import Any

import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceOperationError,
)

from shared.errors import (
    AuthenticationError,
    MigrationError,
    SourceError,
    ThrottledError,
    TransientServiceError,
    UnreachableError,
)

_ADVICE = {
    "INVALID_FIELD": "check the field name in the mapping; if it exists in Setup, field-level "
    "security hides it from the integration user: grant Read access in a permission set",
    "INVALID_TYPE": "the object does not exist or the integration user cannot see it: check "
    "the name and the user's object permissions",
    "MALFORMED_QUERY": "the query is not valid SOQL: check the mapping's filter",
    "INVALID_QUERY_FILTER_OPERATOR": "check the mapping's filter",
    "INSUFFICIENT_ACCESS": "give the integration user the permission named above",
    "API_DISABLED_FOR_ORG": "the org's edition or the user's profile has no API access",
    "NOT_FOUND": "the record or resource no longer exists",
}


def _first_error(content: Any) -> tuple[str, str]:
    """(errorCode, message) from a Salesforce error body (a list of dicts, or anything)."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode", "")), str(content[0].get("message", ""))
    if isinstance(content, dict):
        code = content.get("errorCode") or content.get("error") or ""
        msg = content.get("message") or content.get("error_description") or ""
        return str(code), str(msg)
    return "", str(content)[:300]


def classify(exc: BaseException, what: str, *, sobject: str | None = None) -> MigrationError:
    """Turn a simple-salesforce or requests failure during ``what`` into an engine error."""
    if isinstance(exc, MigrationError):
        return exc
    kw: dict[str, Any] = {"object_name": sobject}
    if isinstance(exc, requests.exceptions.SSLError):
        return UnreachableError(
            f"Salesforce {what}: TLS verification failed ({exc.__class__.__name__}); set "
            "salesforce.ca_cert to the certificate bundle to trust",
            **kw,
        )
    if isinstance(exc, requests.exceptions.RequestException):
        return TransientServiceError(
            f"Salesforce {what}: connection failed or dropped ({exc.__class__.__name__}); retrying",
            **kw,
        )
    if isinstance(exc, SalesforceExpiredSession):
        return AuthenticationError(
            f"Salesforce {what}: the session was refused (401 INVALID_SESSION_ID); check the "
            "credentials or access token in the salesforce settings",
            status=401,
            **kw,
        )
    if isinstance(exc, SalesforceAuthenticationFailed):
        return AuthenticationError(
            f"Salesforce {what}: login refused ({exc}); check username, password and token",
            **kw,
        )
    if isinstance(exc, SalesforceOperationError):
        return SourceError(f"Salesforce {what}: Bulk API job failed: {exc}", **kw)
    if isinstance(exc, SalesforceError):
        status = int(getattr(exc, "status", 0) or 0)
        code, message = _first_error(getattr(exc, "content", None))
        kw["status"] = status
        if code == "REQUEST_LIMIT_EXCEEDED" or status == 429:
            return ThrottledError(
                f"Salesforce {what}: API limit reached ({code or status}: {message}); backing off",
                **kw,
            )
        if status >= 500:
            return TransientServiceError(
                f"Salesforce {what}: server error {status} {code} {message}".rstrip(), **kw
            )
        advice = _ADVICE.get(code, "see the Salesforce message above")
        return SourceError(
            f"Salesforce {what}: {code or status} {message}; {advice}".replace("  ", " "), **kw
        )
    raise exc
