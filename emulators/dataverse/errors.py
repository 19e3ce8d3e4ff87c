"""Dataverse errors with the real HTTP status, hex code and message text.

Every refusal the emulator produces is a :class:`DataverseFault`; ``body()`` gives the real
``{"error": {"code", "message"}}`` shape, plus the ``@Microsoft.PowerApps.CDS.*`` annotations
when the client asked for them with ``Prefer: odata.include-annotations``.
"""

from __future__ import annotations

from typing import Any

PAYLOAD_HELP = "https://go.microsoft.com/fwlink/?linkid=2195293"


class DataverseFault(Exception):  # noqa: N818 - Dataverse calls these faults
    """A request Dataverse would refuse: HTTP ``status``, hex ``code`` and ``message``."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self, annotations: bool = False) -> dict[str, Any]:
        """The JSON error body as real Dataverse sends it."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if annotations:
            hexcode = self.code[2:] if self.code.startswith("0x") else self.code
            err["@Microsoft.PowerApps.CDS.ErrorDetails.OperationStatus"] = "0"
            err["@Microsoft.PowerApps.CDS.HelpLink"] = (
                "http://go.microsoft.com/fwlink/?LinkID=398563&error=Microsoft.Crm.CrmException%3a"
                f"{hexcode}&client=platform"
            )
            err["@Microsoft.PowerApps.CDS.InnerError.Message"] = self.message
        return {"error": err}


def payload_error(entity_set: str, inner: str) -> DataverseFault:
    """0x80048d19: the OData layer refused the payload (unknown property, bad type)."""
    return DataverseFault(
        400,
        "0x80048d19",
        f"Error identified in Payload provided by the user for Entity :'{entity_set}', For more "
        f"information on this error please follow this help link {PAYLOAD_HELP}  ---->  "
        f"InnerException : {inner}",
    )


def undeclared_property(entity_set: str, logical: str, prop: str) -> DataverseFault:
    """A property that is not a column of the table."""
    return payload_error(
        entity_set,
        f"Microsoft.OData.ODataException: The property '{prop}' does not exist on type "
        f"'Microsoft.Dynamics.CRM.{logical}'. Make sure to only use property names that are "
        "defined by the type or mark the type as open type.",
    )


def undeclared_annotation_only(entity_set: str, prop: str) -> DataverseFault:
    """An ``x@odata.bind`` whose navigation property does not exist (names are case-sensitive)."""
    return payload_error(
        entity_set,
        f"Microsoft.OData.ODataException: An undeclared property '{prop}' which only has "
        "property annotations in the payload but no property value was found in the payload. "
        "In OData, only declared navigation properties and declared named streams can be "
        "represented as properties without values.",
    )


def cannot_convert(entity_set: str, value: Any, edm: str) -> DataverseFault:
    """A value of the wrong JSON type for the column."""
    shown = value if isinstance(value, str) else _json_literal(value)
    return payload_error(
        entity_set,
        f"Microsoft.OData.ODataException: Cannot convert the literal '{shown}' to the expected "
        f"type '{edm}'.",
    )


def _json_literal(value: Any) -> str:
    if value is True:
        return "True"
    if value is False:
        return "False"
    return str(value)


def not_found(logical: str, key: str) -> DataverseFault:
    """0x80040217: the addressed or bound row does not exist."""
    return DataverseFault(404, "0x80040217", f"Entity '{logical}' With Id = {key} Does Not Exist")


def bad_request(message: str, code: str = "0x80040203") -> DataverseFault:
    """400 InvalidArgument (or another code given)."""
    return DataverseFault(400, code, message)


def odata_error(message: str, status: int = 400) -> DataverseFault:
    """An OData URL or syntax error: real Dataverse sends these with an empty code."""
    return DataverseFault(status, "0x0", message)
