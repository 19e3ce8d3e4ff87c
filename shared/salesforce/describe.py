"""Field lists from describe: compound fields expanded, parent paths typed, FLS gaps found.

Extraction never uses ``FIELDS(ALL)``: it names every field, so what is staged is exactly
what the mapping asked for and a missing field is an error at the start, not a silent gap.
Compound fields (``MailingAddress``, geolocations) are expanded into their parts because
Bulk API 2.0 rejects them and the transform maps the parts. Dotted paths (``Owner.Email``)
are typed by following the relationship to the parent object's describe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.errors import SourceError
from shared.quoting import soql_quote

COMPOUND_TYPES = frozenset({"address", "location"})
Describe = dict[str, Any]


@dataclass
class DescribeCache:
    """Describes fetched once per object per run (``fetch`` is the client's describe)."""

    fetch: Callable[[str], Describe]
    cache: dict[str, Describe] = field(default_factory=dict)

    def get(self, sobject: str) -> Describe:
        """The describe of ``sobject``, fetched on first use."""
        if sobject not in self.cache:
            self.cache[sobject] = self.fetch(sobject)
        return self.cache[sobject]


def fields_by_name(describe: Describe) -> dict[str, dict[str, Any]]:
    """Describe fields keyed by lower-cased API name (SOQL names are case-insensitive)."""
    return {f["name"].lower(): f for f in describe.get("fields", [])}


def compound_parts(describe: Describe, name: str) -> list[str]:
    """The component fields of a compound field, in describe order."""
    return [f["name"] for f in describe.get("fields", []) if f.get("compoundFieldName") == name]


@dataclass(frozen=True)
class ResolvedFields:
    """The field list to query and the describe type of each (for Bulk CSV typing)."""

    fields: list[str]
    types: dict[str, str]
    missing: list[str]


def resolve_fields(sobject: str, wanted: Sequence[str], describes: DescribeCache) -> ResolvedFields:
    """Expand compound fields, type every path, and list the fields describe does not show.

    A field missing from describe either does not exist or is hidden by field-level
    security; :func:`explain_missing` tells which.
    """
    root = describes.get(sobject)
    by_name = fields_by_name(root)
    out: list[str] = []
    types: dict[str, str] = {}
    missing: list[str] = []
    for name in wanted:
        if "." in name:
            sf_type = _path_type(sobject, name, describes)
            if sf_type is None:
                missing.append(name)
                continue
            _add(out, types, name, sf_type)
            continue
        meta = by_name.get(name.lower())
        if meta is None:
            missing.append(name)
            continue
        if meta["type"] in COMPOUND_TYPES:
            for part in compound_parts(root, meta["name"]):
                _add(out, types, part, by_name[part.lower()]["type"])
            continue
        _add(out, types, meta["name"], meta["type"])
    return ResolvedFields(out, types, missing)


def _add(out: list[str], types: dict[str, str], name: str, sf_type: str) -> None:
    if name not in types:
        out.append(name)
        types[name] = sf_type


def _path_type(sobject: str, path: str, describes: DescribeCache) -> str | None:
    """Follow ``Rel.Rel.Field`` through describes; None when a step does not exist."""
    current = describes.get(sobject)
    parts = path.split(".")
    for pos, rel in enumerate(parts[:-1]):
        ref = next(
            (
                f
                for f in current.get("fields", [])
                if (f.get("relationshipName") or "").lower() == rel.lower()
            ),
            None,
        )
        if ref is None:
            return None
        targets = ref.get("referenceTo") or []
        if len(targets) != 1:
            # Polymorphic (Who, What, Owner on Lead): the Name object exposes Id, Type, Name...
            rest = parts[pos + 1 :]
            if len(rest) != 1:
                return "string"
            return "id" if rest[0].lower() == "id" else "string"
        current = describes.get(targets[0])
    meta = fields_by_name(current).get(parts[-1].lower())
    return None if meta is None else str(meta["type"])


def field_definitions(
    tooling: Callable[[str], list[dict[str, Any]]], sobject: str
) -> dict[str, str]:
    """Every field defined on ``sobject`` per the Tooling API, visible or not: name → type."""
    soql = (
        "SELECT QualifiedApiName, DataType FROM FieldDefinition "
        f"WHERE EntityDefinition.QualifiedApiName = {soql_quote(sobject)}"
    )
    return {r["QualifiedApiName"]: str(r.get("DataType") or "") for r in tooling(soql)}


def hidden_fields(describe: Describe, definitions: dict[str, str]) -> list[str]:
    """Fields that exist (FieldDefinition) but describe does not show: hidden by FLS."""
    visible = fields_by_name(describe)
    return sorted(n for n in definitions if n.lower() not in visible)


def explain_missing(
    sobject: str, missing: Sequence[str], definitions: dict[str, str] | None
) -> SourceError:
    """One clear error for fields the mapping names but describe does not show."""
    lines = []
    for name in missing:
        base = name.split(".")[0]
        if definitions is not None and any(d.lower() == base.lower() for d in definitions):
            lines.append(
                f"{sobject}.{name} exists but field-level security hides it from the "
                "integration user: grant Read access in a permission set, or remove it from "
                "the mapping"
            )
        elif definitions is None:
            lines.append(
                f"{sobject}.{name} is not visible: it does not exist or field-level security "
                "hides it (the Tooling API could not tell which); check Setup and the mapping"
            )
        else:
            lines.append(f"{sobject}.{name} does not exist: correct the mapping")
    return SourceError("; ".join(lines), object_name=sobject)
