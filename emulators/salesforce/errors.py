"""Errors the emulator answers with, in Salesforce's own shape.

``SalesforceApiError`` is a :class:`shared.errors.SourceError` (Salesforce refused a request)
carrying the HTTP status and Salesforce ``errorCode``; the HTTP layer turns it into the real
body ``[{"message": ..., "errorCode": ...}]``. A bad org directory is a
:class:`shared.errors.ConfigError` listing every problem found (file, line, field).
"""

from __future__ import annotations

from typing import Any

from shared.errors import ConfigError, SourceError

__all__ = ["OrgDirectoryError", "SalesforceApiError", "invalid_field", "invalid_type"]


class SalesforceApiError(SourceError):
    """One Salesforce API error: HTTP ``status``, ``error_code`` and the real message."""

    def __init__(
        self, status: int, error_code: str, message: str, *, fields: list[str] | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.error_code = error_code
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        """The JSON error list the REST API returns."""
        item: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]


class OrgDirectoryError(ConfigError):
    """The org directory cannot be loaded; one problem per file, line and field."""


def invalid_field(field: str, entity: str) -> SalesforceApiError:
    """The real ``INVALID_FIELD`` for an unknown (or FLS-hidden) column."""
    return SalesforceApiError(
        400,
        "INVALID_FIELD",
        f"No such column '{field}' on entity '{entity}'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference your "
        "WSDL or the describe call for the appropriate names.",
    )


def invalid_type(name: str) -> SalesforceApiError:
    """The real ``INVALID_TYPE`` for an unknown sObject in a query."""
    return SalesforceApiError(
        400,
        "INVALID_TYPE",
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, "
        "be sure to append the '__c' after the entity name. Please reference your WSDL or the "
        "describe call for the appropriate names.",
    )
