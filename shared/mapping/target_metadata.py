"""The target's own description of its tables, read once per run from the live Dataverse.

Validation trusts what the environment says (``EntityDefinitions(LogicalName='x')?$expand=
Attributes``, the typed casts for choice option sets, ``organizations?$select=
maxuploadfilesize``), never our own files: a column someone shortened in the sandbox is caught
before a write, not by thousands of 400s. This module is pure: the loader's Dataverse client
fetches the JSON and passes it to :meth:`TargetMetadata.from_entity_definitions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import SchemaError

_INT32 = (-2_147_483_648, 2_147_483_647)


@dataclass(frozen=True)
class Column:
    """One attribute of a table, reduced to what validation needs.

    Attributes:
        type: ``AttributeTypeName`` without the ``Type`` suffix (``String``, ``Memo``,
            ``Integer``, ``BigInt``, ``Decimal``, ``Double``, ``Money``, ``Boolean``,
            ``DateTime``, ``Picklist``, ``State``, ``Status``, ``MultiSelectPicklist``,
            ``Lookup``, ``Customer``, ``Owner``, ``PartyList``, ...).
        options: Valid option values of a choice column (None when not a choice).
        required: RequiredLevel is ``SystemRequired`` (the API enforces it).
        date_only: A DateTime column holding only a date (Format/behaviour ``DateOnly``).
    """

    logical_name: str
    schema_name: str
    type: str
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    precision: int | None = None
    date_only: bool = False
    required: bool = False
    valid_for_create: bool = True
    targets: tuple[str, ...] = ()
    options: frozenset[int] | None = None


@dataclass(frozen=True)
class Table:
    """One Dataverse table."""

    logical_name: str
    entity_set: str
    primary_id: str
    columns: Mapping[str, Column]
    has_notes: bool = True
    schema_names: Mapping[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column | None:
        """Column by logical name."""
        return self.columns.get(name)

    def lookup_target(self, nav: str) -> tuple[Column, str] | None:
        """Resolve a single-valued navigation (``parentcustomerid_account``) to its column.

        Handles the plain lookup (``parentaccountid``), the per-target form of polymorphic
        lookups (``<column>_<table>``), the regarding form (``regardingobjectid_<table>_<this
        table>``) and custom lookups in schema-name casing (``lfwd_AccountId``).
        """
        col = self.columns.get(nav) or self.columns.get(self.schema_names.get(nav, ""))
        if col is not None and col.targets:
            return (col, col.targets[0]) if len(col.targets) == 1 else None
        for name, col in self.columns.items():
            if not col.targets or not nav.startswith(name + "_"):
                continue
            rest = nav[len(name) + 1 :]
            for target in col.targets:
                if rest in (target, f"{target}_{self.logical_name}"):
                    return col, target
        return None


def _type_of(attr: Mapping[str, Any]) -> str:
    name = (attr.get("AttributeTypeName") or {}).get("Value")
    if isinstance(name, str) and name.endswith("Type"):
        return name[: -len("Type")]
    return str(attr.get("AttributeType") or "Unknown")


def _options(attr: Mapping[str, Any]) -> frozenset[int] | None:
    for key in ("OptionSet", "GlobalOptionSet"):
        opts = (attr.get(key) or {}).get("Options")
        if opts is not None:
            return frozenset(int(o["Value"]) for o in opts)
    return None


def _column(attr: Mapping[str, Any], options: frozenset[int] | None) -> Column:
    kind = _type_of(attr)
    behavior = (attr.get("DateTimeBehavior") or {}).get("Value")
    lo, hi = attr.get("MinValue"), attr.get("MaxValue")
    if kind == "Integer":
        lo = _INT32[0] if lo is None else lo
        hi = _INT32[1] if hi is None else hi
    return Column(
        logical_name=str(attr["LogicalName"]),
        schema_name=str(attr.get("SchemaName") or attr["LogicalName"]),
        type=kind,
        max_length=attr.get("MaxLength"),
        min_value=None if lo is None else float(lo),
        max_value=None if hi is None else float(hi),
        precision=attr.get("Precision"),
        date_only=behavior == "DateOnly",
        required=(attr.get("RequiredLevel") or {}).get("Value") == "SystemRequired",
        valid_for_create=bool(attr.get("IsValidForCreate", True)),
        targets=tuple(attr.get("Targets") or ()),
        options=options if options is not None else _options(attr),
    )


@dataclass(frozen=True)
class TargetMetadata:
    """Every table the mapping writes, as the live environment describes it."""

    tables: Mapping[str, Table]
    max_upload_bytes: int | None = None

    @classmethod
    def from_entity_definitions(
        cls,
        entities: Iterable[Mapping[str, Any]],
        picklists: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        organization: Mapping[str, Any] | None = None,
    ) -> TargetMetadata:
        """Build from the Web API's JSON.

        Args:
            entities: One ``EntityDefinitions(LogicalName='x')?$expand=Attributes`` body each.
            picklists: Per table logical name, the ``value`` lists of the typed casts
                (``.../Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$expand=
                OptionSet,GlobalOptionSet``, and the same for ``MultiSelectPicklist``,
                ``State`` and ``Status``): each item has ``LogicalName`` and an option set.
            organization: The ``organizations?$select=maxuploadfilesize`` row.
        """
        tables: dict[str, Table] = {}
        for ent in entities:
            name = str(ent["LogicalName"])
            opts = {
                str(p["LogicalName"]): o
                for p in (picklists or {}).get(name, ())
                if (o := _options(p)) is not None
            }
            cols = {
                str(a["LogicalName"]): _column(a, opts.get(str(a["LogicalName"])))
                for a in ent.get("Attributes") or ()
            }
            tables[name] = Table(
                logical_name=name,
                entity_set=str(ent.get("EntitySetName") or name + "s"),
                primary_id=str(ent.get("PrimaryIdAttribute") or name + "id"),
                columns=cols,
                has_notes=bool(ent.get("HasNotes", True)),
                schema_names={c.schema_name: n for n, c in cols.items()},
            )
        size = (organization or {}).get("maxuploadfilesize")
        return cls(tables=tables, max_upload_bytes=int(size) if size is not None else None)

    def table(self, name: str) -> Table:
        """The table called ``name``.

        Raises:
            SchemaError: the environment has no such table.
        """
        try:
            return self.tables[name]
        except KeyError:
            raise SchemaError(
                f"table '{name}' does not exist in the target environment (or was not read)",
                object_name=name,
            ) from None
