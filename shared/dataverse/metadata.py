"""What the target environment looks like, read once per run from the live Web API.

The loader needs, per table: the entity set, the primary key column, which columns exist
(records are never written to a column that does not exist yet), and which bulk messages the
table supports (asked of ``sdkmessagefilters`` at run time, because support on core tables
has changed over the years). Files need the environment's ``maxuploadfilesize``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.dataverse.client import DataverseClient
from shared.errors import SchemaError, TargetError
from shared.mapping.target_metadata import TargetMetadata
from shared.quoting import odata_key, odata_quote

__all__ = [
    "Attribute",
    "BulkSupport",
    "TableInfo",
    "bulk_support",
    "fetch_entity_definition",
    "fetch_table",
    "fetch_target_metadata",
    "max_upload_file_size",
    "message_supported",
    "missing_columns",
]

DEFAULT_MAX_UPLOAD = 5_242_880


@dataclass(frozen=True)
class Attribute:
    """The facts about one column the loader and schema deploy rely on."""

    logical: str
    schema: str
    type: str
    valid_create: bool = True
    valid_update: bool = True
    targets: tuple[str, ...] = ()
    is_custom: bool = False
    max_length: int | None = None


@dataclass(frozen=True)
class TableInfo:
    """One table: names, primary key, columns and alternate keys (schema name → status)."""

    logical: str
    entity_set: str
    primary_id: str
    is_activity: bool
    attributes: dict[str, Attribute] = field(default_factory=dict)
    keys: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)

    @property
    def odata_type(self) -> str:
        """``Microsoft.Dynamics.CRM.<table>``, required on every bulk-message item."""
        return f"Microsoft.Dynamics.CRM.{self.logical}"


@dataclass(frozen=True)
class BulkSupport:
    """Which bulk messages one table accepts."""

    upsert_multiple: bool
    create_multiple: bool
    update_multiple: bool


def _attribute(raw: dict[str, Any]) -> Attribute:
    return Attribute(
        logical=str(raw["LogicalName"]),
        schema=str(raw.get("SchemaName") or raw["LogicalName"]),
        type=str(raw.get("AttributeType") or ""),
        valid_create=bool(raw.get("IsValidForCreate", True)),
        valid_update=bool(raw.get("IsValidForUpdate", True)),
        targets=tuple(raw.get("Targets") or ()),
        is_custom=bool(raw.get("IsCustomAttribute", False)),
        max_length=int(raw["MaxLength"]) if raw.get("MaxLength") else None,
    )


def table_from_definition(raw: dict[str, Any]) -> TableInfo:
    """Build :class:`TableInfo` from one ``EntityDefinitions`` JSON (Attributes/Keys expanded)."""
    keys = {
        str(k["SchemaName"]): (
            tuple(k.get("KeyAttributes") or ()),
            str(k.get("EntityKeyIndexStatus") or "Unknown"),
        )
        for k in raw.get("Keys") or ()
    }
    return TableInfo(
        logical=str(raw["LogicalName"]),
        entity_set=str(raw["EntitySetName"]),
        primary_id=str(raw["PrimaryIdAttribute"]),
        is_activity=bool(raw.get("IsActivity", False)),
        attributes={a.logical: a for a in map(_attribute, raw.get("Attributes") or ())},
        keys=keys,
    )


async def fetch_entity_definition(
    client: DataverseClient, logical: str, *, strong: bool = False
) -> dict[str, Any]:
    """The raw ``EntityDefinitions(LogicalName=...)`` JSON with Attributes and Keys.

    Args:
        strong: Send ``Consistency: Strong`` to bypass the ~30 s metadata cache (right after
            schema deploy).

    Raises:
        SchemaError: the table does not exist in the environment.
    """
    headers = {"Consistency": "Strong"} if strong else None
    response = await client.request(
        "GET",
        "EntityDefinitions" + odata_key(LogicalName=logical),
        params={"$expand": "Attributes,Keys"},
        headers=headers,
        action=f"read metadata of {logical}",
        object_name=logical,
        ok_statuses=frozenset({404}),
    )
    if response.status_code == 404:
        raise SchemaError(
            f"table {logical!r} does not exist in the target environment; check the mapping's "
            "target table names or install the solution that provides it",
            object_name=logical,
        )
    data: dict[str, Any] = response.json()
    return data


async def fetch_table(client: DataverseClient, logical: str, *, strong: bool = False) -> TableInfo:
    """Read one table's metadata (see :func:`fetch_entity_definition`)."""
    return table_from_definition(await fetch_entity_definition(client, logical, strong=strong))


def missing_columns(table: TableInfo, columns: list[str]) -> list[str]:
    """Columns (or ``nav@odata.bind`` keys, checked by their lookup) the table lacks.

    A bind key is accepted when a lookup column of that name or prefix exists
    (``parentcustomerid_account`` → ``parentcustomerid``), since navigation names are derived
    from lookup names.
    """
    lookups = [a.logical for a in table.attributes.values() if a.targets or a.type == "Lookup"]
    out = []
    for col in columns:
        if col.startswith("@") or col.endswith("_activity_parties"):
            continue
        if "@odata.bind" in col:
            nav = col.split("@", 1)[0].lower()
            if not any(nav == name or nav.startswith(name + "_") for name in lookups):
                out.append(col)
        elif col not in table.attributes:
            out.append(col)
    return out


async def message_supported(client: DataverseClient, message: str, table: str) -> bool:
    """True when ``sdkmessagefilters`` lists ``message`` for ``table`` (a non-empty value)."""
    params = {
        "$select": "sdkmessagefilterid",
        "$filter": "sdkmessageid/name eq @message and primaryobjecttypecode eq @table",
        "@message": odata_quote(message),
        "@table": odata_quote(table),
    }
    try:
        data = await client.get_json(
            "sdkmessagefilters", params=params, action=f"check {message} on {table}"
        )
    except TargetError:
        # The environment does not let us read message filters: assume the message is not
        # there, so the loader uses the fallback every environment supports.
        return False
    return bool(data.get("value"))


async def bulk_support(client: DataverseClient, table: str) -> BulkSupport:
    """Ask which of UpsertMultiple, CreateMultiple and UpdateMultiple ``table`` supports."""
    return BulkSupport(
        upsert_multiple=await message_supported(client, "UpsertMultiple", table),
        create_multiple=await message_supported(client, "CreateMultiple", table),
        update_multiple=await message_supported(client, "UpdateMultiple", table),
    )


async def max_upload_file_size(client: DataverseClient) -> int:
    """The environment's ``maxuploadfilesize`` in bytes (applies to the Base64 text)."""
    data = await client.get_json(
        "organizations",
        params={"$select": "maxuploadfilesize"},
        action="read maxuploadfilesize",
    )
    rows = data.get("value") or []
    if not rows or rows[0].get("maxuploadfilesize") is None:
        return DEFAULT_MAX_UPLOAD
    return int(rows[0]["maxuploadfilesize"])


CHOICE_CASTS = (
    "PicklistAttributeMetadata",
    "MultiSelectPicklistAttributeMetadata",
    "StateAttributeMetadata",
    "StatusAttributeMetadata",
)


async def fetch_target_metadata(client: DataverseClient, tables: Iterable[str]) -> TargetMetadata:
    """Read what validation needs from the live environment and build ``TargetMetadata``.

    Per table: the entity definition with Attributes, and the typed casts of its choice
    columns with their option sets (the base Attributes expansion carries no options); once:
    ``maxuploadfilesize``. Read once per run, before any transform.
    """
    entities: list[dict[str, Any]] = []
    picklists: dict[str, list[dict[str, Any]]] = {}
    for logical in sorted(set(tables)):
        entities.append(await fetch_entity_definition(client, logical))
        base = "EntityDefinitions" + odata_key(LogicalName=logical) + "/Attributes/"
        for cast in CHOICE_CASTS:
            data = await client.get_json(
                base + "Microsoft.Dynamics.CRM." + cast,
                params={"$select": "LogicalName", "$expand": "OptionSet,GlobalOptionSet"},
                action=f"read {cast} of {logical}",
                object_name=logical,
            )
            picklists.setdefault(logical, []).extend(data.get("value") or [])
    organization = {"maxuploadfilesize": await max_upload_file_size(client)}
    return TargetMetadata.from_entity_definitions(entities, picklists, organization)
