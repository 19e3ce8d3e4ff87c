"""Turn stored rows into Web API JSON: ``_x_value`` lookups, ETags, formatted values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulators.dataverse.environment import Environment
from emulators.dataverse.errors import odata_error
from emulators.dataverse.metadata import Column, Table
from emulators.dataverse.protocol import AnnotationFilter
from emulators.dataverse.store import Row

NameOf = Callable[[str, str], str | None]
FORMATTED = "@OData.Community.Display.V1.FormattedValue"
LOOKUP_NAME = "@Microsoft.Dynamics.CRM.lookuplogicalname"
NAV_NAME = "@Microsoft.Dynamics.CRM.associatednavigationproperty"


def navigation_name(table: Table, column: Column, target: str) -> str | None:
    """The single-valued navigation property that binds ``column`` to ``target``."""
    for nav, (col, nav_target) in table.navigation().items():
        if col.logical == column.logical and (nav_target == target or col.type == "Owner"):
            return nav
    return None


def _annotate(
    table: Table,
    col: Column,
    row: Row,
    value: Any,
    prop: str,
    wanted: AnnotationFilter,
    out: dict[str, Any],
) -> None:
    if col.is_lookup:
        target = row.get(f"@t.{col.logical}")
        if wanted.wants(LOOKUP_NAME[1:]):
            out[prop + LOOKUP_NAME] = target
        nav = navigation_name(table, col, str(target)) if target else None
        if nav and wanted.wants(NAV_NAME[1:]):
            out[prop + NAV_NAME] = nav
    elif col.options and col.type != "MultiSelectPicklist" and wanted.wants(FORMATTED[1:]):
        out[prop + FORMATTED] = col.options.get(int(value), "")
    elif col.type == "Boolean" and wanted.wants(FORMATTED[1:]):
        out[prop + FORMATTED] = "Yes" if value else "No"


def property_name(table: Table, logical: str) -> str:
    """The JSON property of a column: ``_x_value`` for lookups, else the logical name."""
    col = table.columns[logical]
    return f"_{logical}_value" if col.is_lookup else logical


def column_of_property(table: Table, prop: str) -> str:
    """Inverse of :func:`property_name`; raises the real error for unknown properties."""
    if prop.startswith("_") and prop.endswith("_value"):
        logical = prop[1:-6]
        col = table.columns.get(logical)
        if col is not None and col.is_lookup:
            return logical
    col = table.columns.get(prop)
    if col is None or col.is_lookup or col.type == "PartyList":
        raise odata_error(
            f"Could not find a property named '{prop}' on type 'Microsoft.Dynamics.CRM."
            f"{table.logical}'."
        )
    return prop


def etag(row: Row) -> str:
    """``W/"<versionnumber>"``."""
    return f'W/"{row.get("versionnumber", 0)}"'


def name_resolver(env: Environment) -> NameOf:
    """Primary name of a row (the formatted value of a lookup pointing at it)."""

    def name_of(target: str, row_id: str) -> str | None:
        table = env.tables.get(target)
        row = env.store.get(target, row_id) if table else None
        if table is None or row is None:
            return None
        value = row.get(table.primary_name)
        return None if value is None else str(value)

    return name_of


def represent(
    table: Table,
    row: Row,
    select: list[str] | None,
    annotations: AnnotationFilter | None = None,
    name_of: NameOf | None = None,
) -> dict[str, Any]:
    """The JSON object of one row, limited to ``select`` (logical column names) if given.

    ``name_of`` gives lookups their formatted value (the target's primary name) when the
    client asked for ``OData.Community.Display.V1.FormattedValue``.
    """
    out: dict[str, Any] = {"@odata.etag": etag(row)}
    names = (
        select
        if select
        else [
            c for c, col in table.columns.items() if col.type != "PartyList" and c != "documentbody"
        ]
    )
    if table.primary_id not in names:
        names = [*names, table.primary_id]
    for logical in names:
        col = table.columns[logical]
        value = row.get(logical)
        prop = property_name(table, logical)
        if col.type == "DateTime" and value and col.behavior == "DateOnly":
            value = value[:10]
        out[prop] = value
        if annotations and value is not None:
            _annotate(table, col, row, value, prop, annotations, out)
            if col.is_lookup and name_of and annotations.wants(FORMATTED[1:]):
                out[prop + FORMATTED] = name_of(str(row.get(f"@t.{logical}")), str(value))
    return out
