"""``EntityDefinitions``: read table/column/key metadata; create columns and alternate keys.

Custom columns are usable by data writes as soon as they are created (real Dataverse also
accepts data for a new column at once; ``PublishXml`` only matters for forms and views), and
are stored so they survive restarts. Alternate keys go Pending → Active after
``Options.key_activation_seconds`` and only then address rows.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict
from typing import Any

from lark import Token, Tree

from emulators.dataverse.addressing import parse_key
from emulators.dataverse.environment import Environment, KeyDef
from emulators.dataverse.errors import DataverseFault, bad_request, odata_error
from emulators.dataverse.metadata import Column, Table
from emulators.dataverse.metadata.model import ODATA_TYPE_OF
from emulators.dataverse.odata_filter import parse
from emulators.dataverse.protocol import ApiReply, ApiRequest

NS = "Microsoft.Dynamics.CRM."
_PATH = re.compile(
    r"^EntityDefinitions(?:\(([^)]*)\))?(?:/(Attributes|Keys)(?:\(([^)]*)\))?)?(?:/Microsoft\.Dynamics\.CRM\.(\w+))?$"
)
_CREATABLE = {
    "StringAttributeMetadata": "String",
    "MemoAttributeMetadata": "Memo",
    "IntegerAttributeMetadata": "Integer",
    "BigIntAttributeMetadata": "BigInt",
    "DecimalAttributeMetadata": "Decimal",
    "DoubleAttributeMetadata": "Double",
    "MoneyAttributeMetadata": "Money",
    "BooleanAttributeMetadata": "Boolean",
    "DateTimeAttributeMetadata": "DateTime",
    "PicklistAttributeMetadata": "Picklist",
    "MultiSelectPicklistAttributeMetadata": "MultiSelectPicklist",
}
_KEY_TYPES = frozenset(
    {"String", "Integer", "Decimal", "DateTime", "Lookup", "Picklist", "Customer", "Owner"}
)


def _label(text: str) -> dict[str, Any]:
    local = {"Label": text, "LanguageCode": 1033}
    return {"LocalizedLabels": [local], "UserLocalizedLabel": local}


def _label_text(value: Any, default: str) -> str:
    try:
        return str(value["LocalizedLabels"][0]["Label"])
    except (KeyError, IndexError, TypeError):
        return default


def entity_json(table: Table) -> dict[str, Any]:
    """EntityMetadata of one table (without Attributes/Keys)."""
    return {
        "MetadataId": table.metadata_id,
        "LogicalName": table.logical,
        "SchemaName": table.schema,
        "EntitySetName": table.entity_set,
        "LogicalCollectionName": table.entity_set,
        "PrimaryIdAttribute": table.primary_id,
        "PrimaryNameAttribute": table.primary_name,
        "ObjectTypeCode": table.otc,
        "IsActivity": table.is_activity,
        "IsCustomEntity": False,
        "HasNotes": table.logical not in ("annotation", "activityparty", "organization"),
        "OwnershipType": "UserOwned" if "ownerid" in table.columns else "OrganizationOwned",
        "DisplayName": _label(table.schema),
    }


def attribute_json(table: Table, col: Column, expand_options: bool = False) -> dict[str, Any]:
    """AttributeMetadata of one column, with the type-specific properties."""
    odata_type = ODATA_TYPE_OF.get(col.type, "AttributeMetadata")
    type_name = (
        "MultiSelectPicklistType" if col.type == "MultiSelectPicklist" else f"{col.type}Type"
    )
    out: dict[str, Any] = {
        "@odata.type": f"#{NS}{odata_type}",
        "MetadataId": col.metadata_id,
        "LogicalName": col.logical,
        "SchemaName": col.schema,
        "EntityLogicalName": table.logical,
        "AttributeType": "Virtual" if col.type == "MultiSelectPicklist" else col.type,
        "AttributeTypeName": {"Value": type_name},
        "IsCustomAttribute": col.is_custom,
        "IsPrimaryId": col.is_primary,
        "IsPrimaryName": col.logical == table.primary_name,
        "IsValidForCreate": col.valid_create,
        "IsValidForUpdate": col.valid_update,
        "IsValidForRead": True,
        "RequiredLevel": {
            "Value": col.required,
            "CanBeChanged": True,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
        "DisplayName": _label(col.schema),
    }
    if col.max_length is not None:
        out["MaxLength"] = col.max_length
    if col.min_value is not None:
        out["MinValue"], out["MaxValue"] = col.min_value, col.max_value
    if col.precision is not None:
        out["Precision"] = col.precision
    if col.format:
        out["Format"] = col.format
    if col.type == "DateTime":
        out["DateTimeBehavior"] = {"Value": col.behavior}
    if col.is_lookup or col.type == "PartyList":
        out["Targets"] = list(col.targets)
    if col.type == "Boolean":
        out["DefaultValue"] = bool(col.default)
    if expand_options and col.options:
        out["OptionSet"] = {
            "@odata.type": f"#{NS}OptionSetMetadata",
            "IsGlobal": False,
            "OptionSetType": "State" if col.type == "State" else "Picklist",
            "Options": [
                {"Value": v, "Label": _label(text)} for v, text in sorted(col.options.items())
            ],
        }
    elif expand_options and col.type == "Boolean":
        out["OptionSet"] = {
            "OptionSetType": "Boolean",
            "TrueOption": {"Value": 1, "Label": _label("Yes")},
            "FalseOption": {"Value": 0, "Label": _label("No")},
        }
    return out


def key_json(env: Environment, kdef: KeyDef) -> dict[str, Any]:
    """EntityKeyMetadata with the live index status."""
    return {
        "MetadataId": kdef.metadata_id,
        "SchemaName": kdef.schema_name,
        "LogicalName": kdef.schema_name.lower(),
        "EntityLogicalName": kdef.entity,
        "KeyAttributes": kdef.attributes,
        "DisplayName": _label(kdef.schema_name),
        "EntityKeyIndexStatus": env.key_status(kdef),
    }


def _select(obj: dict[str, Any], select: str | None) -> dict[str, Any]:
    if not select:
        return obj
    names = {s.strip() for s in select.split(",")}
    keep = {"MetadataId", "OptionSet", "Attributes", "Keys"}
    return {k: v for k, v in obj.items() if k in names or k.startswith("@") or k in keep}


def _eval(node: Tree[Token] | Token, obj: dict[str, Any]) -> Any:
    if not isinstance(node, Tree):
        return str(node)
    kind = node.data
    if kind == "or_expr":
        return any(_eval(c, obj) for c in node.children)
    if kind == "and_expr":
        return all(_eval(c, obj) for c in node.children)
    if kind == "not_":
        return not _eval(node.children[0], obj)
    if kind == "compare":
        left, op, right = (
            _eval(node.children[0], obj),
            str(node.children[1]).lower(),
            _eval(node.children[2], obj),
        )
        return {"eq": left == right, "ne": left != right}.get(op, False)
    text = str(node.children[0]) if node.children else ""
    if kind == "prop":
        value: Any = obj
        for part in text.split("/"):
            value = value.get(part) if isinstance(value, dict) else None
        return value
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if kind in ("true", "false"):
        return kind == "true"
    if kind == "number":
        return int(text) if text.isdigit() else float(text)
    if kind == "guid":
        return text.lower()
    if kind == "null":
        return None
    raise odata_error("This $filter is not supported on metadata by the emulator.", 501)


def _filtered(items: list[dict[str, Any]], text: str | None) -> list[dict[str, Any]]:
    if not text:
        return items
    tree = parse(text)
    return [i for i in items if _eval(tree, i)]


def _expand(env: Environment, table: Table, text: str, out: dict[str, Any]) -> None:
    for part in re.findall(r"(\w+)(?:\(([^)]*)\))?", text):
        name, inner = part
        opts = dict(re.findall(r"\$(\w+)=([^;]+)", inner))
        if name == "Attributes":
            attrs = [attribute_json(table, c) for c in table.columns.values()]
            out["Attributes"] = [
                _select(a, opts.get("select")) for a in _filtered(attrs, opts.get("filter"))
            ]
        elif name == "Keys":
            out["Keys"] = [
                _select(key_json(env, k), opts.get("select"))
                for k in env.keys.get(table.logical, [])
            ]


def _find_table(env: Environment, key_text: str) -> Table:
    key = parse_key(key_text)
    if isinstance(key, str):
        for table in env.tables.values():
            if table.metadata_id == key:
                return table
        raise DataverseFault(404, "0x80060888", f"Could not find entity with id '{key}'.")
    return env.table(str(key.get("LogicalName")))


def _find_column(table: Table, key_text: str) -> Column:
    key = parse_key(key_text)
    for col in table.columns.values():
        if (isinstance(key, str) and col.metadata_id == key) or (
            isinstance(key, dict) and col.logical == key.get("LogicalName")
        ):
            return col
    raise DataverseFault(
        404, "0x80060888", f"Could not find attribute {key_text} on entity '{table.logical}'."
    )


def handle(env: Environment, req: ApiRequest, path: str) -> ApiReply:
    """Every ``EntityDefinitions`` URL the product and common clients use."""
    match = _PATH.match(path)
    if not match:
        raise odata_error(f"Resource not found for the segment '{path}'.", 404)
    entity_key, child, child_key, cast = match.groups()
    q = req.query
    if entity_key is None:
        if req.method != "GET":
            raise bad_request("Creating tables is not supported by the emulator.", "0x80040315")
        items = [entity_json(t) for t in env.tables.values()]
        out = []
        for item in _filtered(items, q.get("$filter")):
            table = env.tables[item["LogicalName"]]
            if q.get("$expand"):
                _expand(env, table, q["$expand"], item)
            out.append(_select(item, q.get("$select")))
        return ApiReply(
            200, {"@odata.context": req.url("$metadata#EntityDefinitions"), "value": out}
        )
    table = _find_table(env, entity_key)
    if child is None:
        item = entity_json(table)
        if q.get("$expand"):
            _expand(env, table, q["$expand"], item)
        body = _select(item, q.get("$select"))
        body["@odata.context"] = req.url("$metadata#EntityDefinitions/$entity")
        return ApiReply(200, body)
    if child == "Attributes":
        if req.method == "POST" and child_key is None:
            return _create_column(env, table, req)
        if child_key is None:
            attrs = [
                attribute_json(table, c, "OptionSet" in q.get("$expand", ""))
                for c in table.columns.values()
            ]
            if cast:
                attrs = [a for a in attrs if a["@odata.type"] == f"#{NS}{cast}"]
            attrs = [_select(a, q.get("$select")) for a in _filtered(attrs, q.get("$filter"))]
            return ApiReply(
                200,
                {
                    "@odata.context": req.url("$metadata#EntityDefinitions/Attributes"),
                    "value": attrs,
                },
            )
        col = _find_column(table, child_key)
        body = attribute_json(table, col, "OptionSet" in q.get("$expand", ""))
        if cast and body["@odata.type"] != f"#{NS}{cast}":
            raise odata_error(f"The attribute '{col.logical}' is not of type '{cast}'.", 404)
        body = _select(body, q.get("$select"))
        body["@odata.context"] = req.url("$metadata#EntityDefinitions/Attributes/$entity")
        return ApiReply(200, body)
    if req.method == "POST" and child_key is None:
        return _create_key(env, table, req)
    keys = [key_json(env, k) for k in env.keys.get(table.logical, [])]
    return ApiReply(
        200,
        {
            "@odata.context": req.url("$metadata#EntityDefinitions/Keys"),
            "value": [_select(k, q.get("$select")) for k in keys],
        },
    )


def _create_column(env: Environment, table: Table, req: ApiRequest) -> ApiReply:
    body = req.json()
    odata_type = str(body.get("@odata.type", "")).rsplit(".", 1)[-1]
    kind = _CREATABLE.get(odata_type)
    if kind is None:
        raise bad_request(
            f"Creating columns of type '{odata_type}' is not supported.", "0x80040315"
        )
    schema = str(body.get("SchemaName") or "")
    prefix, sep, rest = schema.partition("_")
    if not sep or not prefix.isalnum() or not rest or not schema.replace("_", "").isalnum():
        raise bad_request(
            f"The schema name {schema!r} must start with a publisher customization prefix, "
            "e.g. 'new_'.",
            "0x80044363",
        )
    logical = schema.lower()
    if logical in table.columns:
        raise DataverseFault(
            400,
            "0x80044363",
            f"An attribute with the specified name {schema} already exists on entity "
            f"{table.logical}.",
        )
    col = Column(
        table=table.logical,
        logical=logical,
        schema=schema,
        type=kind,
        is_custom=True,
        required=str((body.get("RequiredLevel") or {}).get("Value", "None")),
    )
    if col.required == "SystemRequired":
        raise bad_request("Custom columns cannot be SystemRequired.")
    if kind in ("String", "Memo"):
        col.max_length = int(body.get("MaxLength") or 100)
        col.format = (body.get("FormatName") or {}).get("Value") or body.get("Format")
    elif kind in ("Integer", "BigInt", "Decimal", "Double", "Money"):
        defaults = {
            "Integer": (-2147483648, 2147483647),
            "BigInt": (-9223372036854775808, 9223372036854775807),
            "Decimal": (-100000000000, 100000000000),
            "Double": (-100000000000, 100000000000),
            "Money": (-922337203685477, 922337203685477),
        }[kind]
        col.min_value = float(body.get("MinValue", defaults[0]))
        col.max_value = float(body.get("MaxValue", defaults[1]))
        if kind in ("Decimal", "Double", "Money"):
            col.precision = int(body.get("Precision", 2))
            if kind == "Double" and not 0 <= col.precision <= 5:
                raise bad_request("The precision of a Float column must be between 0 and 5.")
    elif kind == "Boolean":
        col.default = 1 if body.get("DefaultValue") else None
    elif kind == "DateTime":
        col.format = body.get("Format") or "DateAndTime"
    else:
        options = (body.get("OptionSet") or {}).get("Options") or []
        col.options = {
            int(o["Value"]): _label_text(o.get("Label"), str(o["Value"])) for o in options
        }
        if not col.options:
            raise bad_request("A choice column needs at least one option in OptionSet.Options.")
    table.columns[logical] = col
    spec = asdict(col)
    spec["targets"] = list(col.targets)
    env.store.put_spec("custom_column", table.logical, logical, spec)
    url = req.url(f"EntityDefinitions({table.metadata_id})/Attributes({col.metadata_id})")
    return ApiReply(204, None, {"OData-EntityId": url})


def _create_key(env: Environment, table: Table, req: ApiRequest) -> ApiReply:
    body = req.json()
    schema = str(body.get("SchemaName") or "")
    attrs = [str(a).lower() for a in body.get("KeyAttributes") or []]
    if not schema or not attrs or len(attrs) > 16:
        raise bad_request("An alternate key needs a SchemaName and 1 to 16 KeyAttributes.")
    existing = env.keys.setdefault(table.logical, [])
    if len(existing) >= 10:
        raise bad_request(f"The table {table.logical} already has the maximum of 10 keys.")
    if any(k.schema_name.lower() == schema.lower() for k in existing):
        raise DataverseFault(400, "0x80060886", f"A key with the name {schema} already exists.")
    for attr in attrs:
        col = table.columns.get(attr)
        if col is None or col.type not in _KEY_TYPES:
            raise bad_request(
                f"The attribute '{attr}' cannot be part of an alternate key of {table.logical}.",
                "0x80060889",
            )
    kdef = KeyDef(
        entity=table.logical,
        schema_name=schema,
        attributes=attrs,
        created=env.clock(),
        metadata_id=str(uuid.uuid4()),
    )
    existing.append(kdef)
    env.store.ensure_index(table.logical, schema.lower(), attrs)
    env.store.put_spec("entity_key", table.logical, schema, asdict(kdef))
    url = req.url(f"EntityDefinitions({table.metadata_id})/Keys({kdef.metadata_id})")
    return ApiReply(204, None, {"OData-EntityId": url})
