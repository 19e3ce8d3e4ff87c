"""Tooling API objects: ``EntityDefinition`` and ``FieldDefinition``, the full field list.

``FieldDefinition`` lists every field of every object *including* those field-level security
hides from the integration user, which is how discovery finds hidden fields
(``FieldDefinition`` names minus describe names). The rows are rebuilt from the org schema
each time the emulator opens the store, and queried with the same SOQL engine.
"""

from __future__ import annotations

from typing import Any

from emulators.salesforce.metadata import describe_object
from emulators.salesforce.schema import ObjectSchema, OrgSchema
from emulators.salesforce.store import OrgStore, quote_ident

__all__ = ["data_type_label", "install_tooling"]


def _f(name: str, ftype: str = "string", **kw: Any) -> dict[str, Any]:
    return {"name": name, "type": ftype, "label": name, **kw}


_ENTITY = {
    "name": "EntityDefinition",
    "label": "Entity Definition",
    "keyPrefix": None,
    "fields": [
        _f("Id", "id", durableId=True),
        _f("DurableId"),
        _f("QualifiedApiName"),
        _f("DeveloperName"),
        _f("Label"),
        _f("PluralLabel"),
        _f("KeyPrefix"),
        _f("NamespacePrefix"),
        _f("IsCustomizable", "boolean"),
        _f("IsQueryable", "boolean"),
    ],
}
_FIELD = {
    "name": "FieldDefinition",
    "label": "Field Definition",
    "keyPrefix": None,
    "fields": [
        _f("Id", "id", durableId=True),
        _f("DurableId"),
        _f("QualifiedApiName"),
        _f("DeveloperName"),
        _f("Label"),
        _f("DataType"),
        _f("ValueTypeId"),
        _f("Length", "int"),
        _f("Precision", "int"),
        _f("Scale", "int"),
        _f("IsNillable", "boolean"),
        _f("IsCalculated", "boolean"),
        _f("IsCompound", "boolean"),
        _f("IsApiFilterable", "boolean"),
        _f("IsApiSortable", "boolean"),
        _f("IsIndexed", "boolean"),
        _f("NamespacePrefix"),
        _f("RelationshipName"),
        _f("ExtraTypeInfo"),
        _f(
            "EntityDefinitionId",
            "reference",
            referenceTo=["EntityDefinition"],
            relationshipName="EntityDefinition",
            durableId=True,
        ),
    ],
}
_VALUE_TYPES = {
    "boolean": "boolean",
    "int": "int",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "date": "date",
    "datetime": "datetime",
    "id": "id",
    "reference": "id",
}


def data_type_label(meta: dict[str, Any]) -> str:
    """FieldDefinition ``DataType``, the setup UI's type label (``Text(80)``, ``Lookup(User)``)."""
    t = meta["type"]
    length, precision, scale = meta.get("length", 0), meta.get("precision", 0), meta.get("scale", 0)
    if t == "reference":
        kind = "Master-Detail" if meta.get("cascadeDelete") else "Lookup"
        return f"{kind}({','.join(meta.get('referenceTo', []))})"
    labels = {
        "id": "Lookup()",
        "string": f"Text({length})",
        "textarea": f"Long Text Area({length})" if length > 255 else f"Text Area({length})",
        "email": "Email",
        "phone": "Phone",
        "url": f"URL({length})",
        "picklist": "Picklist",
        "combobox": "Picklist",
        "multipicklist": "Picklist (Multi-Select)",
        "boolean": "Checkbox",
        "int": f"Number({meta.get('digits') or 9}, 0)",
        "double": f"Number({precision}, {scale})",
        "currency": f"Currency({precision}, {scale})",
        "percent": f"Percent({precision}, {scale})",
        "date": "Date",
        "datetime": "Date/Time",
        "time": "Time",
        "base64": "File",
        "address": "Address",
        "location": "Geolocation",
        "encryptedstring": f"Text (Encrypted)({length})",
    }
    return str(labels.get(t, t))


def _developer_name(api_name: str, namespace: str | None) -> str:
    name = api_name[len(namespace) + 2 :] if namespace else api_name
    return name[:-3] if name.endswith("__c") else name


def _namespace(api_name: str) -> str | None:
    bare = api_name[:-3] if api_name.endswith("__c") else api_name
    return bare.split("__", 1)[0] if "__" in bare else None


def _entity_row(obj: ObjectSchema) -> dict[str, Any]:
    ns = _namespace(obj.name)
    return {
        "Id": obj.name,
        "DurableId": obj.name,
        "QualifiedApiName": obj.name,
        "DeveloperName": _developer_name(obj.name, ns),
        "Label": obj.describe.get("label"),
        "PluralLabel": obj.describe.get("labelPlural"),
        "KeyPrefix": obj.describe.get("keyPrefix"),
        "NamespacePrefix": ns,
        "IsCustomizable": 1,
        "IsQueryable": 1,
    }


def _field_row(obj: ObjectSchema, meta: dict[str, Any]) -> dict[str, Any]:
    ns = _namespace(meta["name"])
    return {
        "Id": f"{obj.name}.{meta['name']}",
        "DurableId": f"{obj.name}.{meta['name']}",
        "QualifiedApiName": meta["name"],
        "DeveloperName": _developer_name(meta["name"], ns),
        "Label": meta.get("label"),
        "DataType": data_type_label(meta),
        "ValueTypeId": _VALUE_TYPES.get(meta["type"], "string"),
        "Length": meta.get("length", 0),
        "Precision": meta.get("precision", 0),
        "Scale": meta.get("scale", 0),
        "IsNillable": int(bool(meta.get("nillable"))),
        "IsCalculated": int(bool(meta.get("calculated"))),
        "IsCompound": int(meta["type"] in ("address", "location")),
        "IsApiFilterable": int(bool(meta.get("filterable"))),
        "IsApiSortable": int(bool(meta.get("sortable"))),
        "IsIndexed": int(meta["type"] in ("id", "reference") or bool(meta.get("externalId"))),
        "NamespacePrefix": ns,
        "RelationshipName": meta.get("relationshipName"),
        "ExtraTypeInfo": meta.get("extraTypeInfo"),
        "EntityDefinitionId": obj.name,
    }


def install_tooling(store: OrgStore) -> OrgSchema:
    """(Re)build the Tooling tables from the org's full schema; returns the Tooling schema."""
    tooling = OrgSchema(
        {"EntityDefinition": describe_object(_ENTITY), "FieldDefinition": describe_object(_FIELD)}
    )
    entities = [_entity_row(o) for o in store.schema.objects.values()]
    fields = [_field_row(o, f) for o in store.schema.objects.values() for f in o.describe["fields"]]
    with store.transaction() as conn:
        for obj, rows in ((tooling.get("EntityDefinition"), entities),
                          (tooling.get("FieldDefinition"), fields)):  # fmt: skip
            assert obj is not None
            cols = [f["name"] for f in obj.describe["fields"]]
            table = quote_ident(obj.name)
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} ({', '.join(map(quote_ident, cols))})")
            conn.executemany(
                f"INSERT INTO {table} VALUES ({', '.join('?' for _ in cols)})",
                [[r.get(c) for c in cols] for r in rows],
            )
            if obj.name == "FieldDefinition":
                conn.execute(f'CREATE INDEX ix_fd_entity ON {table} ("EntityDefinitionId")')
    return tooling
