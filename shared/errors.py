"""One exception tree for the whole engine, split by what the caller does next.

Every error the engine raises on purpose is a :class:`MigrationError`. Code that catches
errors decides by branch, never by message text::

    MigrationError                      base: carries object_name, record_id, status
    ├── RetryableError                  try the same call again later (honour retry_after)
    │   ├── ThrottledError              429 / REQUEST_LIMIT_EXCEEDED with Retry-After
    │   └── TransientServiceError       5xx, dropped connection, timeout
    ├── FatalError                      stop the run; state stays resumable
    │   ├── ConfigError                 bad or incomplete configuration (exit code 2)
    │   ├── AuthenticationError         bad credentials or token (401)
    │   ├── UnreachableError            the service cannot be reached at all
    │   ├── SourceError                 Salesforce refused a query or object (INVALID_FIELD...)
    │   ├── TargetError                 Dataverse refused something that is not one record's fault
    │   ├── SchemaError                 a column, table or key the mapping needs is missing
    │   ├── StageError                  stage unreadable, corrupt batch, disk full
    │   ├── MappingNotConfirmedError    the mapping was not confirmed, or changed since
    │   ├── ReconciliationGateError     a phase did not reconcile; the next phase must not start
    │   └── NotBuiltError               a part of the product that does not exist yet
    └── RecordError                     quarantine this one record and go on
        ├── TransformError              the source value cannot become a target value
        └── RejectedByTargetError       Dataverse rejected the record (server code + message)

Messages name the record, the field and the value, e.g.
``contact 003xx0000012AbCAAU: emailaddress1 'bob@' is not an email address``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "FatalError",
    "MappingNotConfirmedError",
    "MigrationError",
    "NotBuiltError",
    "ReconciliationGateError",
    "RecordError",
    "RejectedByTargetError",
    "RetryableError",
    "SchemaError",
    "SourceError",
    "StageError",
    "TargetError",
    "ThrottledError",
    "TransformError",
    "TransientServiceError",
    "UnreachableError",
]


class MigrationError(Exception):
    """Base of every error the engine raises on purpose.

    Args:
        message: What happened and what to do, naming the record, field and value.
        object_name: Source object or target table the error concerns, if any.
        record_id: Source (Salesforce) or target id of the record, if any.
        status: HTTP status or other numeric status from the service, if any.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        object_name: str | None = None,
        record_id: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.object_name = object_name
        self.record_id = record_id
        self.status = status

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description for reports and activity results."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "object": self.object_name,
            "record_id": self.record_id,
            "status": self.status,
        }


class RetryableError(MigrationError):
    """The same call may succeed later; wait ``retry_after`` seconds (or back off) first."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ThrottledError(RetryableError):
    """Service protection (Dataverse 429) or API allocation (Salesforce) refused the call."""


class TransientServiceError(RetryableError):
    """A 5xx, a dropped connection or a timeout: nothing says the request was wrong."""


class FatalError(MigrationError):
    """The run cannot go on; everything done so far stays on the stage and resumable."""


class ConfigError(FatalError):
    """Configuration is malformed or incomplete. Carries one message per problem."""

    exit_code = 2

    def __init__(self, problems: list[str], *, source: str | None = None) -> None:
        head = f"invalid configuration in {source}" if source else "invalid configuration"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems
        self.source = source


class AuthenticationError(FatalError):
    """The service rejected our credentials or token."""


class UnreachableError(FatalError):
    """The service could not be reached (DNS, refused connection, TLS failure)."""


class SourceError(FatalError):
    """Salesforce refused a request for a reason that is not transient."""


class TargetError(FatalError):
    """Dataverse refused a request for a reason that is not one record's fault."""


class SchemaError(FatalError):
    """A column, table or key the mapping needs does not exist in the target."""


class StageError(FatalError):
    """The stage cannot be read or written (missing or corrupt batch, disk full)."""


class MappingNotConfirmedError(FatalError):
    """The mapping was never confirmed by a person, or changed after confirmation."""


class ReconciliationGateError(FatalError):
    """A phase ended with unexplained differences; later phases must not start."""


class NotBuiltError(FatalError):
    """A part of the product that does not exist yet. The message names it."""

    exit_code = 3


class RecordError(MigrationError):
    """One record cannot be migrated; it goes to quarantine and the run goes on.

    Args:
        message: Human sentence naming record, field and value.
        reason_code: Stable code from docs/reason-codes.md.
        field: Source or target field concerned.
        value: The offending value (already truncated for display by the caller if huge).
        hint: What a person should do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        reason_code: str,
        field: str | None = None,
        value: Any = None,
        hint: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.reason_code = reason_code
        self.field = field
        self.value = value
        self.hint = hint

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update(reason_code=self.reason_code, field=self.field, value=self.value, hint=self.hint)
        return out


class TransformError(RecordError):
    """The source value cannot be turned into a valid target value."""


class RejectedByTargetError(RecordError):
    """Dataverse rejected the record; ``server_code`` is its hex error code."""

    def __init__(self, message: str, *, server_code: str | None = None, **kw: Any) -> None:
        kw.setdefault("reason_code", "TARGET_REJECTED")
        super().__init__(message, **kw)
        self.server_code = server_code

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["server_code"] = self.server_code
        return out
