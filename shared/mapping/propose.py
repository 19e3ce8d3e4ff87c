"""Propose field maps for an org's own custom fields, from its describe (docs/type-mapping.md).

Every org has custom fields the default map cannot know. Discovery reads their describe; this
module turns each into a field map with a custom column (``lfwd_<name>``) following the type
table of ``docs/type-mapping.md``, and adds them to the mapping a person then reviews and
confirms. Fields already mapped are left alone; nothing is proposed for fields the integration
user cannot see (they are not in the describe).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shared.mapping.models import ColumnDef, FieldMap
from shared.mapping.models import Mapping as MappingFile

MONEY_RANGE = (-922_337_203_685_477.0, 922_337_203_685_477.0)
DECIMAL_RANGE = (-100_000_000_000.0, 100_000_000_000.0)


def column_name(field: str, prefix: str = "lfwd", namespace: str = "leadfwd__") -> str:
    """Logical name of the custom column for a Salesforce custom field.

    ``leadfwd__LinkedIn_Url__c`` → ``lfwd_linkedinurl``; ``Home_Location__Latitude__s`` →
    ``lfwd_homelocationlatitude``.
    """
    name = field.removeprefix(namespace).removesuffix("__c").removesuffix("__s")
    return f"{prefix}_" + name.replace("_", "").lower()


def propose_field(
    describe: Mapping[str, Any], *, prefix: str = "lfwd", option_value_prefix: int = 72_700
) -> FieldMap | None:
    """One field map for a Salesforce custom field, or None for types we do not map.

    ``location`` compounds return None: their ``__Latitude__s``/``__Longitude__s`` parts are
    described (and staged) as separate ``double`` fields and are proposed on their own.
    """
    name = str(describe["name"])
    sf_type = str(describe.get("type", "string"))
    label = str(describe.get("label") or name)
    length = int(describe.get("length") or 0)
    scale = describe.get("scale")
    target = column_name(name, prefix)
    first = option_value_prefix * 10_000
    values = {
        str(p["value"]): first + i for i, p in enumerate(describe.get("picklistValues") or [])
    }
    col: dict[str, Any] = {"label": label}
    transform: str
    if sf_type == "location":
        return None
    if sf_type in ("string", "email", "phone", "url", "encryptedstring"):
        transform = {"email": "email", "phone": "phone", "url": "url"}.get(sf_type, "text")
        col.update(type="String", max_length=max(1, min(length or 255, 4000)))
        if sf_type in ("email", "phone", "url"):
            col["format"] = {"email": "Email", "phone": "Phone", "url": "Url"}[sf_type]
    elif sf_type == "textarea":
        transform = "memo"
        col.update(type="Memo", max_length=min(max(length, 2000), 1_048_576))
    elif sf_type == "picklist":
        transform = "choice"
        col.update(type="Picklist")
    elif sf_type == "multipicklist":
        transform = "multichoice"
        col.update(type="MultiSelectPicklist")
    elif sf_type == "boolean":
        transform = "boolean"
        col.update(type="Boolean")
    elif sf_type == "int":
        transform = "integer"
        col.update(type="Integer")
    elif sf_type == "long":
        transform = "bigint"
        col.update(type="BigInt")
    elif sf_type in ("double", "percent") and name.endswith(("__Latitude__s", "__Longitude__s")):
        transform = "float"
        bound = 90.0 if name.endswith("__Latitude__s") else 180.0
        col.update(
            type="Double", precision=min(int(scale or 5), 5), min_value=-bound, max_value=bound
        )
    elif sf_type in ("double", "percent") and scale == 0:
        transform = "integer"
        col.update(type="Integer")
    elif sf_type in ("double", "percent"):
        transform = "decimal"
        col.update(
            type="Decimal",
            precision=min(int(scale if scale is not None else 2), 10),
            min_value=DECIMAL_RANGE[0],
            max_value=DECIMAL_RANGE[1],
        )
    elif sf_type == "currency":
        transform = "money"
        col.update(
            type="Money",
            precision=min(int(scale if scale is not None else 2), 4),
            min_value=MONEY_RANGE[0],
            max_value=MONEY_RANGE[1],
        )
    elif sf_type == "date":
        transform = "date"
        col.update(type="DateTime", date_format="DateOnly")
    elif sf_type == "datetime":
        transform = "datetime"
        col.update(type="DateTime", date_format="DateAndTime")
    elif sf_type == "time":
        transform = "text"
        col.update(type="String", max_length=20)
    else:
        return None
    return FieldMap.model_validate(
        {
            "source": name,
            "target": target,
            "transform": transform,
            "values": values or None,
            "column": ColumnDef.model_validate(col),
        }
    )


def with_custom_fields(
    mapping: MappingFile,
    sobject: str,
    describe_fields: Iterable[Mapping[str, Any]],
    *,
    prefix: str = "lfwd",
    option_value_prefix: int = 72_700,
) -> MappingFile:
    """Add a field map for every unmapped custom field of ``sobject`` to its main entry."""
    out = []
    for obj in mapping.objects:
        if obj.source != sobject or obj.route is not None:
            out.append(obj)
            continue
        mapped = {f.source for f in obj.fields} | {f.target for f in obj.fields}
        extra = []
        for desc in describe_fields:
            if not desc.get("custom") or desc.get("name") in mapped:
                continue
            fm = propose_field(desc, prefix=prefix, option_value_prefix=option_value_prefix)
            if fm is not None and fm.target not in mapped:
                extra.append(fm)
                mapped.add(fm.target)
        out.append(obj.model_copy(update={"fields": [*obj.fields, *extra]}))
    return mapping.model_copy(update={"objects": out})
