"""Read metadata (and a few sampled records) from the live org and environment.

The same shapes the offline mode reads from saved files come from the real APIs here: the
Salesforce describe of each object through the extract engineer's client (plus a small
``LIMIT n`` sample for value profiles), and the Dataverse ``EntityDefinitions`` with
``$expand=Attributes`` through the loader's client. Choice options are not part of that
expansion, so they are read with one cast query per choice kind and merged in, which gives
the same JSON the offline mode accepts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from shared.dataverse.auth import token_source
from shared.dataverse.client import DataverseClient, http_client
from shared.dataverse.metadata import fetch_entity_definition
from shared.errors import SchemaError
from shared.mapping_review.metadata import SourceObject, TargetTable, parse_describe
from shared.mapping_review.metadata import parse_entity_definition as parse_table
from shared.quoting import odata_key
from shared.salesforce.client import SalesforceClient, connect
from shared.settings import Settings

log = logging.getLogger(__name__)

#: Field types a plain SOQL sample cannot select (compound) or should not pull (file bodies).
_UNSAMPLED = frozenset({"address", "location", "base64"})
_CHOICE_CASTS = (
    "PicklistAttributeMetadata",
    "StatusAttributeMetadata",
    "StateAttributeMetadata",
    "MultiSelectPicklistAttributeMetadata",
    "BooleanAttributeMetadata",
)


def sample_soql(describe: dict[str, Any], size: int) -> str | None:
    """``SELECT <every scalar field> FROM <object> ORDER BY CreatedDate DESC LIMIT n``.

    Field and object names come from the describe itself (identifiers, never user values);
    ``size`` is an int. Returns None when there is nothing to sample.
    """
    if size <= 0:
        return None
    names = [str(f["name"]) for f in describe["fields"] if f.get("type") not in _UNSAMPLED]
    if not names:
        return None
    order = " ORDER BY CreatedDate DESC" if "CreatedDate" in names else ""
    return f"SELECT {', '.join(names)} FROM {describe['name']}{order} LIMIT {int(size)}"


def fetch_sources(
    client: SalesforceClient, objects: Iterable[str], sample_size: int = 20
) -> dict[str, SourceObject]:
    """Describe (and sample) each wanted object the integration user can see.

    Objects the org does not have (or hides from the integration user) are left out and
    logged; the proposal then has no pair for them.
    """
    visible = {str(o["name"]) for o in client.describe_global().get("sobjects", [])}
    out: dict[str, SourceObject] = {}
    for name in objects:
        if name not in visible:
            log.warning("object %s is not visible to the integration user; not proposed", name)
            continue
        describe = client.describe(name)
        soql = sample_soql(describe, sample_size)
        records: list[dict[str, Any]] = []
        if soql is not None:
            records = list(next(client.query_pages(soql, sobject=name)).get("records", []))
        out[name] = parse_describe(describe, records)
    return out


async def fetch_definition_with_choices(client: DataverseClient, table: str) -> dict[str, Any]:
    """``EntityDefinitions(...)?$expand=Attributes`` with each choice column's options merged."""
    raw = await fetch_entity_definition(client, table)
    by_name = {str(a.get("LogicalName")): a for a in raw.get("Attributes") or []}
    for cast in _CHOICE_CASTS:
        response = await client.request(
            "GET",
            f"EntityDefinitions{odata_key(LogicalName=table)}/Attributes/"
            f"Microsoft.Dynamics.CRM.{cast}",
            params={"$select": "LogicalName", "$expand": "OptionSet"},
            action=f"read choice options of {table}",
            object_name=table,
        )
        for attr in response.json().get("value", []):
            target = by_name.get(str(attr.get("LogicalName")))
            if target is not None and attr.get("OptionSet"):
                target["OptionSet"] = attr["OptionSet"]
    return raw


async def fetch_targets(client: DataverseClient, tables: Iterable[str]) -> dict[str, TargetTable]:
    """Read each wanted table; tables the environment lacks are left out and logged."""
    out: dict[str, TargetTable] = {}
    for table in tables:
        try:
            raw = await fetch_definition_with_choices(client, table)
        except SchemaError as exc:
            log.warning("%s; not proposed", exc)
            continue
        out[table] = parse_table(raw)
    return out


def read_live(
    settings: Settings, objects: Iterable[str], tables: Iterable[str], sample_size: int = 20
) -> tuple[dict[str, SourceObject], dict[str, TargetTable]]:
    """Connect with the run's settings and read both sides (the live ``propose-map``)."""
    sf = connect(settings.salesforce)
    try:
        sources = fetch_sources(sf, objects, sample_size)
    finally:
        sf.session.close()

    async def targets() -> dict[str, TargetTable]:
        async with http_client(settings.dataverse) as http:
            client = DataverseClient.from_settings(
                http, settings.dataverse, token_source(settings.dataverse)
            )
            return await fetch_targets(client, tables)

    return sources, asyncio.run(targets())
