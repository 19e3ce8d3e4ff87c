"""Built-in describe metadata: Salesforce standard objects and the Leadfwd managed package.

The JSON files beside this module hold each object's describe ``fields[]`` in compact form
(only what differs from describe defaults). ``standard/`` follows Salesforce's Object Reference
(each file's ``source`` names the page); ``leadfwd/`` is the assumed Leadfwd package of
``docs/leadfwd-schema.md``: whole custom objects, plus ``"extends": true`` files that add the
package's fields to standard objects.

Everything here returns full describe dictionaries, so the org generator, the importer and the
emulator's own describe endpoint all see the same shape.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "SOAP_TYPES",
    "describe_object",
    "load_builtin_metadata",
    "merge_schema",
    "normalize_field",
]

_HERE = Path(__file__).parent

SOAP_TYPES: dict[str, str] = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "long": "xsd:long",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "time": "xsd:time",
    "base64": "xsd:base64Binary",
    "address": "urn:address",
    "location": "urn:location",
}
_TEXT_TYPES = {
    "string",
    "textarea",
    "email",
    "phone",
    "url",
    "picklist",
    "multipicklist",
    "combobox",
    "encryptedstring",
}
_NOT_FILTERABLE = {"textarea", "base64", "address", "location"}


def normalize_field(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Fill a compact field entry (``name``, ``type``, ``label`` at least) to describe shape.

    Raises:
        ValueError: ``name`` or ``type`` is missing, naming the entry.
    """
    if "name" not in raw or "type" not in raw:
        raise ValueError(f"field entry {dict(raw)!r} needs at least 'name' and 'type'")
    ftype = str(raw["type"]).lower()
    name = str(raw["name"])
    custom = bool(raw.get("custom", name.endswith("__c")))
    length = int(raw.get("length", 18 if ftype in ("id", "reference") else 0))
    if ftype in _TEXT_TYPES and not length:
        length = 255
    is_system = ftype == "id"
    field: dict[str, Any] = {
        "aggregatable": ftype not in _NOT_FILTERABLE,
        "autoNumber": False,
        "byteLength": length * 3 if ftype in _TEXT_TYPES else length,
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": not is_system,
        "custom": custom,
        "defaultValue": False if ftype == "boolean" else None,
        "defaultValueFormula": None,
        "defaultedOnCreate": ftype == "boolean" or name in ("OwnerId", "IsDeleted"),
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": 0,
        "encrypted": False,
        "externalId": False,
        "extraTypeInfo": None,
        "filterable": ftype not in _NOT_FILTERABLE,
        "groupable": ftype not in _NOT_FILTERABLE | {"double", "currency", "percent", "datetime"},
        "htmlFormatted": False,
        "idLookup": is_system,
        "inlineHelpText": None,
        "label": str(raw.get("label", name)),
        "length": length,
        "name": name,
        "nameField": False,
        "namePointing": False,
        "nillable": ftype != "boolean",
        "permissionable": custom and ftype != "boolean",
        "picklistValues": [],
        "polymorphicForeignKey": False,
        "precision": 0,
        "referenceTargetField": None,
        "referenceTo": [],
        "relationshipName": None,
        "relationshipOrder": None,
        "restrictedPicklist": False,
        "scale": 0,
        "soapType": SOAP_TYPES.get(ftype, "xsd:string"),
        "sortable": ftype not in _NOT_FILTERABLE,
        "type": ftype,
        "unique": False,
        "updateable": not is_system,
    }
    for key, value in raw.items():
        if key in ("type", "length"):
            continue
        field[key] = copy.deepcopy(value)
    if field["picklistValues"]:
        field["picklistValues"] = [
            {
                "active": bool(p.get("active", True)),
                "defaultValue": bool(p.get("defaultValue", False)),
                "label": p.get("label", p["value"]),
                "validFor": p.get("validFor"),
                "value": p["value"],
            }
            for p in field["picklistValues"]
        ]
    if ftype == "reference":
        field["polymorphicForeignKey"] = len(field["referenceTo"]) > 1
        field["namePointing"] = len(field["referenceTo"]) > 1
    return field


def describe_object(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a compact object entry into a describe dict (``fields`` normalised, flags set)."""
    name = str(raw["name"])
    custom = bool(raw.get("custom", name.endswith("__c")))
    out: dict[str, Any] = {
        "name": name,
        "label": raw.get("label", name),
        "labelPlural": raw.get("labelPlural", raw.get("label", name)),
        "keyPrefix": raw.get("keyPrefix"),
        "custom": custom,
        "customSetting": False,
        "createable": True,
        "updateable": True,
        "deletable": True,
        "undeletable": True,
        "queryable": True,
        "retrieveable": True,
        "replicateable": True,
        "searchable": True,
        "layoutable": True,
        "triggerable": True,
        "feedEnabled": False,
        "mergeable": name in ("Account", "Contact", "Lead"),
        "deprecatedAndHidden": False,
        "activateable": False,
        "isInterface": False,
        "isSubtype": False,
        "hasSubtypes": False,
        "fields": [normalize_field(f) for f in raw.get("fields", [])],
        "childRelationships": [],
        "recordTypeInfos": [],
        "source": raw.get("source"),
    }
    for key in ("filterRequired", "keyPrefixVerified"):
        if key in raw:
            out[key] = raw[key]
    return out


def merge_schema(
    objects: Mapping[str, dict[str, Any]], extra: Iterable[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Return ``objects`` plus the org-specific schema entries (``schema/<Object>.json``).

    An entry naming an existing object adds (or replaces, by name) fields on it; a new object
    name adds a whole object. Inputs are not mutated.
    """
    merged = {k: copy.deepcopy(v) for k, v in objects.items()}
    for entry in extra:
        name = str(entry["name"])
        if name in merged and not entry.get("replace"):
            target = merged[name]
            by_name = {f["name"]: i for i, f in enumerate(target["fields"])}
            for raw in entry.get("fields", []):
                field = normalize_field(raw)
                if field["name"] in by_name:
                    target["fields"][by_name[field["name"]]] = field
                else:
                    by_name[field["name"]] = len(target["fields"])
                    target["fields"].append(field)
        else:
            merged[name] = describe_object(entry)
    _add_child_relationships(merged)
    return merged


_PRIMARY_POINTERS = {
    "AccountId", "WhoId", "WhatId", "ParentId", "LinkedEntityId", "ContentDocumentId",
    "ActionCadenceId", "ActivityId", "RelatedToId", "ContactId",
}  # fmt: skip
_NAMED = {("Account", "ParentId"): "ChildAccounts",
          ("ContentDocumentLink", "LinkedEntityId"): "ContentDocumentLinks"}  # fmt: skip


def _child_relationship_name(child: dict[str, Any], field: dict[str, Any]) -> str | None:
    """Salesforce's default name: the child's plural label (``Contacts``,
    ``leadfwd__Sequence_Steps__r``); None for audit and owner lookups, as in Salesforce."""
    plural = str(child.get("labelPlural") or child["name"]).replace(" ", "_")
    name = str(field["name"])
    if (child["name"], name) in _NAMED:
        return _NAMED[(child["name"], name)]
    if name.endswith("__c"):
        namespace = name.split("__", 1)[0] + "__" if name.count("__") > 1 else ""
        return f"{namespace}{plural}__r"
    return plural.replace("_", "") if name in _PRIMARY_POINTERS else None


def _add_child_relationships(objects: dict[str, dict[str, Any]]) -> None:
    for obj in objects.values():
        obj["childRelationships"] = []
    for child in objects.values():
        for field in child["fields"]:
            if field["type"] != "reference" or not field.get("relationshipName"):
                continue
            for parent in field["referenceTo"]:
                if parent not in objects:
                    continue
                rel = _child_relationship_name(child, field)
                taken = {c["relationshipName"] for c in objects[parent]["childRelationships"]}
                objects[parent]["childRelationships"].append(
                    {
                        "cascadeDelete": bool(field.get("cascadeDelete")),
                        "childSObject": child["name"],
                        "deprecatedAndHidden": False,
                        "field": field["name"],
                        "junctionIdListNames": [],
                        "junctionReferenceTo": [],
                        "relationshipName": None if rel in taken else rel,
                        "restrictedDelete": False,
                    }
                )


@functools.cache
def _builtin() -> dict[str, dict[str, Any]]:
    base: dict[str, dict[str, Any]] = {}
    for path in sorted((_HERE / "standard").glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        base[raw["name"]] = describe_object(raw)
    package = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((_HERE / "leadfwd").glob("*.json"))
    ]
    return merge_schema(base, package)


def load_builtin_metadata() -> dict[str, dict[str, Any]]:
    """Every built-in object's full describe dict, by API name (a fresh copy each call).

    Standard objects plus the Leadfwd package (its custom objects, and its fields already
    merged into Contact, Lead and Task). Field-level security is not applied here.
    """
    return copy.deepcopy(_builtin())
