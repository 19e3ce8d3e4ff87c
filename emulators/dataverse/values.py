"""Check and normalise one column value exactly as Dataverse would (pure functions).

Errors carry the real codes: 0x80048d19 for a JSON value of the wrong type, 0x80044331 for
text longer than MaxLength, 0x8004431A for a choice outside its options and 0x8004432F for a
number outside the column's range.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from emulators.dataverse.errors import DataverseFault, bad_request, cannot_convert
from emulators.dataverse.metadata import Column

EDM = {
    "String": "Edm.String",
    "Memo": "Edm.String",
    "Integer": "Edm.Int32",
    "BigInt": "Edm.Int64",
    "Decimal": "Edm.Decimal",
    "Double": "Edm.Double",
    "Money": "Edm.Decimal",
    "Boolean": "Edm.Boolean",
    "DateTime": "Edm.DateTimeOffset",
    "Picklist": "Edm.Int32",
    "State": "Edm.Int32",
    "Status": "Edm.Int32",
    "MultiSelectPicklist": "Edm.String",
    "Uniqueidentifier": "Edm.Guid",
    "EntityName": "Edm.String",
}
INT32 = (-2147483648, 2147483647)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_datetime(text: str) -> dt.datetime:
    """Parse an ISO 8601 date or date-time (``Z`` or offset); naive values are UTC."""
    value = text.strip()
    if len(value) == 10:
        parsed = dt.datetime.fromisoformat(value + "T00:00:00+00:00")
    else:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def format_datetime(value: dt.datetime) -> str:
    """The way Dataverse writes date-times: UTC, seconds, ``Z``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def range_error(col: Column, value: Any, code: str) -> DataverseFault:
    """0x8004432F / 0x8004431A with the platform's 'outside the valid range' sentence."""
    if col.options:
        accepted = ",".join(str(k) for k in sorted(col.options))
    else:
        accepted = f"{_num_text(col.min_value)} to {_num_text(col.max_value)}"
    return bad_request(
        f"A validation error occurred. The value {value} of '{col.logical}' on record of type "
        f"'{col.table}' is outside the valid range. Accepted Values: {accepted}",
        code,
    )


def _num_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def coerce(col: Column, value: Any, entity_set: str) -> Any:
    """Return the stored form of ``value`` for ``col`` or raise the fault Dataverse raises."""
    if value is None:
        return None
    kind = col.type
    edm = EDM.get(kind, "Edm.String")
    if kind in ("String", "Memo", "EntityName"):
        if not isinstance(value, str):
            raise cannot_convert(entity_set, value, edm)
        if col.max_length is not None and len(value) > col.max_length:
            raise bad_request(
                f"A validation error occurred. The length of the '{col.logical}' attribute of "
                f"the '{col.table}' entity exceeded the maximum allowed length of "
                f"'{col.max_length}'.",
                "0x80044331",
            )
        return value
    if kind in ("Integer", "BigInt"):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise cannot_convert(entity_set, value, edm)
        if kind == "Integer" and not INT32[0] <= value <= INT32[1]:
            raise cannot_convert(entity_set, value, edm)
        _check_range(col, value)
        return value
    if kind in ("Decimal", "Double", "Money"):
        if not _number(value):
            raise cannot_convert(entity_set, value, edm)
        _check_range(col, value)
        return float(value)
    if kind == "Boolean":
        if not isinstance(value, bool):
            raise cannot_convert(entity_set, value, edm)
        return value
    if kind == "DateTime":
        if not isinstance(value, str):
            raise cannot_convert(entity_set, value, edm)
        try:
            parsed = parse_datetime(value)
        except ValueError:
            raise cannot_convert(entity_set, value, edm) from None
        return format_datetime(parsed)
    if kind in ("Picklist", "State", "Status"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise cannot_convert(entity_set, value, edm)
        if value not in col.options:
            raise range_error(col, value, "0x8004431A")
        return value
    if kind == "MultiSelectPicklist":
        if not isinstance(value, str):
            raise cannot_convert(entity_set, value, edm)
        for part in value.split(","):
            if not part.strip().lstrip("-").isdigit():
                raise cannot_convert(entity_set, value, "Edm.Int32")
            if int(part) not in col.options:
                raise range_error(col, int(part), "0x8004431A")
        return ",".join(str(int(p)) for p in value.split(","))
    if kind == "Uniqueidentifier":
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise cannot_convert(entity_set, value, edm) from None
    raise cannot_convert(entity_set, value, edm)


def _check_range(col: Column, value: float) -> None:
    if col.min_value is not None and value < col.min_value:
        raise range_error(col, value, "0x8004432F")
    if col.max_value is not None and value > col.max_value:
        raise range_error(col, value, "0x8004432F")
