"""What one stored row holds: value conversion, API value checks, system fields.

Shared by the org-directory loader and the REST writes, so a record loaded from a file and one
created through the API are stored the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulators.salesforce.errors import SalesforceApiError
from emulators.salesforce.schema import ObjectSchema
from emulators.salesforce.values import format_datetime, is_date, normalize_id, parse_datetime

__all__ = ["check_api_value", "fill_system_fields", "quote_ident", "to_column"]


def quote_ident(name: str) -> str:
    """Quote a table or column name for SQLite (API names never contain quotes)."""
    return '"' + name.replace('"', '""') + '"'


def fill_system_fields(
    obj: ObjectSchema, row: dict[str, Any], stamp: str, *, creating: bool, user: str
) -> None:
    """Fill what Salesforce sets itself on create: audit dates and users, owner, checkboxes
    (never null), and ``Name`` of people from FirstName and LastName."""
    fields = obj.fields
    if creating:
        for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            if name.lower() in fields and row.get(name) is None:
                row[name] = row.get("LastModifiedDate") or row.get("CreatedDate") or stamp
        for name in ("CreatedById", "LastModifiedById", "OwnerId"):
            if name.lower() in fields and row.get(name) is None:
                row[name] = user
        for name, default in obj.boolean_defaults:
            if row.get(name) is None:
                row[name] = default
    if creating and obj.has_names and row.get("Name") is None:
        parts = [row.get("FirstName"), row.get("LastName")]
        row["Name"] = " ".join(str(p) for p in parts if p) or None


def to_column(meta: Mapping[str, Any], value: Any, object_name: str) -> Any:
    """Convert one JSON value to its stored form, or raise naming the field and value.

    Raises:
        ValueError: the value does not fit the field's type.
    """
    if value is None:
        return None
    ftype = meta["type"]
    if ftype == "boolean":
        if not isinstance(value, bool):
            raise ValueError(
                f"{_where(meta, object_name)} is a checkbox; {value!r} is not true or false"
            )
        return int(value)
    if ftype in ("int", "long"):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ValueError(f"{_where(meta, object_name)} is a whole number; {value!r} is not")
        return int(value)
    if ftype in ("double", "currency", "percent"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{_where(meta, object_name)} is a number; {value!r} is not")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{_where(meta, object_name)} is {ftype}; {value!r} is not a string")
    if ftype == "datetime":
        if len(value) == 28 and value[10] == "T" and value[19] == "." and value[23:] == "+0000":
            return value  # already canonical (the usual case in org directories)
        return format_datetime(parse_datetime(value))
    if ftype == "date":
        if not is_date(value):
            raise ValueError(f"{_where(meta, object_name)} is a date; {value!r} is not YYYY-MM-DD")
        return value
    if ftype in ("id", "reference"):
        return normalize_id(value)
    return value


def _where(meta: Mapping[str, Any], object_name: str) -> str:
    return f"{object_name}.{meta['name']}"


def check_api_value(meta: Mapping[str, Any], value: Any) -> None:
    """Refuse what Salesforce refuses on write: text over its length, a malformed email."""
    if isinstance(value, str) and meta["length"] and len(value) > meta["length"]:
        raise SalesforceApiError(
            400,
            "STRING_TOO_LONG",
            f"{meta['label']}: data value too large: {value[:40]!r} (max length={meta['length']})",
            fields=[meta["name"]],
        )
    if meta["type"] == "email" and value:
        local, _, domain = str(value).partition("@")
        if not local or "." not in domain:
            raise SalesforceApiError(
                400,
                "INVALID_EMAIL_ADDRESS",
                f"{meta['label']}: invalid email address: {value}",
                fields=[meta["name"]],
            )
