"""One org's schema: built-in metadata + the org directory's ``schema/`` files + FLS.

Field and object names are case-insensitive in the API, so every lookup goes through the
lower-cased maps here. ``visible`` fields are those the integration user's profile can read
(describe, SOQL, record GET); ``fields`` also holds the FLS-hidden ones, which only Tooling
``FieldDefinition`` lists.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulators.salesforce.errors import OrgDirectoryError
from emulators.salesforce.metadata import load_builtin_metadata, merge_schema, normalize_field

__all__ = ["COLUMN_AFFINITY", "ObjectSchema", "OrgSchema", "stored_fields"]

COLUMN_AFFINITY: dict[str, str] = {
    "boolean": "INTEGER",
    "int": "INTEGER",
    "long": "INTEGER",
    "double": "REAL",
    "currency": "REAL",
    "percent": "REAL",
}
_NOT_STORED = {"address", "location", "base64"}
_PERSON_NAMES = {"Contact", "Lead", "User"}


def stored_fields(describe: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The fields kept as SQLite columns (compound fields and base64 bodies are not)."""
    return [f for f in describe["fields"] if f["type"] not in _NOT_STORED]


@dataclass
class ObjectSchema:
    """One sObject: its full describe, and case-insensitive views of its fields."""

    describe: dict[str, Any]
    hidden: frozenset[str] = frozenset()
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    visible: dict[str, dict[str, Any]] = field(default_factory=dict)
    relationships: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        hidden_lower = {h.lower() for h in self.hidden}
        for f in self.describe["fields"]:
            low = f["name"].lower()
            self.fields[low] = f
            if low not in hidden_lower:
                self.visible[low] = f
                rel = f.get("relationshipName")
                if f["type"] == "reference" and rel:
                    self.relationships[str(rel).lower()] = f

    @functools.cached_property
    def boolean_defaults(self) -> list[tuple[str, int]]:
        """(field, stored default) for every checkbox: a checkbox is never null."""
        return [
            (f["name"], 1 if f.get("defaultValue") is True else 0)
            for f in self.fields.values()
            if f["type"] == "boolean"
        ]

    @property
    def name(self) -> str:
        return str(self.describe["name"])

    @property
    def key_prefix(self) -> str:
        return str(self.describe["keyPrefix"])

    @property
    def has_names(self) -> bool:
        """Contact, Lead and User: ``Name`` is built from FirstName and LastName."""
        return self.name in _PERSON_NAMES

    def visible_describe(self) -> dict[str, Any]:
        """The describe the integration user sees: FLS-hidden fields left out."""
        out = {k: v for k, v in self.describe.items() if k not in ("fields", "source")}
        out["fields"] = [f for f in self.describe["fields"] if f["name"].lower() in self.visible]
        out.pop("filterRequired", None)
        out.pop("keyPrefixVerified", None)
        return out

    def compound_parts(self, compound: str) -> list[dict[str, Any]]:
        """The visible fields that make up a compound (address) field."""
        return [f for f in self.visible.values() if f.get("compoundFieldName") == compound]


class OrgSchema:
    """Every object of one org, with field-level security applied."""

    def __init__(
        self,
        objects: Mapping[str, dict[str, Any]],
        hidden_fields: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        hidden = {k.lower(): frozenset(v) for k, v in (hidden_fields or {}).items()}
        self.objects: dict[str, ObjectSchema] = {
            name.lower(): ObjectSchema(desc, hidden.get(name.lower(), frozenset()))
            for name, desc in objects.items()
        }
        self.by_prefix: dict[str, ObjectSchema] = {
            o.key_prefix: o for o in self.objects.values() if o.describe.get("keyPrefix")
        }

    @classmethod
    def for_org(
        cls,
        extra_schema: Iterable[Mapping[str, Any]] = (),
        hidden_fields: Mapping[str, Iterable[str]] | None = None,
        *,
        source: str | None = None,
    ) -> OrgSchema:
        """Built-in metadata merged with an org directory's ``schema/`` entries.

        Raises:
            OrgDirectoryError: ``hidden_fields`` names a missing field, or two objects share
                a key prefix (``source`` names the org directory in the message).
        """
        entries = [_complete_custom_object(e) for e in extra_schema]
        schema = cls(merge_schema(load_builtin_metadata(), entries), hidden_fields)
        seen: dict[str, str] = {}
        problems = []
        for obj_name, names in (hidden_fields or {}).items():
            target = schema.get(obj_name)
            if target is None:
                problems.append(f"org.json hidden_fields: no object named {obj_name!r}")
                continue
            problems += [
                f"org.json hidden_fields: {target.name}.{name} does not exist"
                for name in names
                if name.lower() not in target.fields
            ]
        for obj in schema.objects.values():
            prefix = obj.describe.get("keyPrefix")
            if prefix and prefix in seen:
                problems.append(
                    f"schema/{obj.name}.json: key prefix {prefix!r} is already used by "
                    f'{seen[prefix]}; set a distinct "keyPrefix"'
                )
            elif prefix:
                seen[prefix] = obj.name
        if problems:
            raise OrgDirectoryError(problems, source=source)
        return schema

    def get(self, name: str) -> ObjectSchema | None:
        """The object named ``name`` (any case), or None."""
        return self.objects.get(name.lower())

    def object_for_id(self, record_id: str) -> ObjectSchema | None:
        """The object whose key prefix starts ``record_id``."""
        return self.by_prefix.get(record_id[:3])

    def names(self) -> list[str]:
        """Object API names in a stable order."""
        return sorted(o.name for o in self.objects.values())


_CUSTOM_PREFIX_START = 0x100


def _complete_custom_object(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Add Id, Name, OwnerId and the system fields a custom object always has."""
    out = dict(entry)
    name = str(out["name"])
    if not name.endswith("__c") or not out.get("custom", True):
        return out
    out["custom"] = True
    if not out.get("keyPrefix"):
        digest = sum(ord(c) * (i + 1) for i, c in enumerate(name)) % 0xE00 + _CUSTOM_PREFIX_START
        out["keyPrefix"] = "a" + format(digest, "02X")[-2:].rjust(2, "0")
    have = {str(f["name"]).lower() for f in out.get("fields", [])}
    required: list[dict[str, Any]] = [
        {
            "name": "Id",
            "type": "id",
            "label": "Record ID",
            "createable": False,
            "updateable": False,
            "nillable": False,
        },
        {
            "name": "Name",
            "type": "string",
            "label": f"{out.get('label', name)} Name",
            "length": 80,
            "nameField": True,
        },
        {
            "name": "OwnerId",
            "type": "reference",
            "label": "Owner ID",
            "referenceTo": ["User"],
            "relationshipName": "Owner",
            "nillable": False,
        },
        {
            "name": "IsDeleted",
            "type": "boolean",
            "label": "Deleted",
            "createable": False,
            "updateable": False,
        },
        {
            "name": "CreatedDate",
            "type": "datetime",
            "label": "Created Date",
            "createable": False,
            "updateable": False,
            "nillable": False,
        },
        {
            "name": "CreatedById",
            "type": "reference",
            "label": "Created By ID",
            "referenceTo": ["User"],
            "relationshipName": "CreatedBy",
            "createable": False,
            "updateable": False,
        },
        {
            "name": "LastModifiedDate",
            "type": "datetime",
            "label": "Last Modified Date",
            "createable": False,
            "updateable": False,
            "nillable": False,
        },
        {
            "name": "LastModifiedById",
            "type": "reference",
            "label": "Last Modified By ID",
            "referenceTo": ["User"],
            "relationshipName": "LastModifiedBy",
            "createable": False,
            "updateable": False,
        },
        {
            "name": "SystemModstamp",
            "type": "datetime",
            "label": "System Modstamp",
            "createable": False,
            "updateable": False,
            "nillable": False,
        },
    ]
    added = [normalize_field(f) for f in required if str(f["name"]).lower() not in have]
    out["fields"] = added + list(out.get("fields", []))
    return out
