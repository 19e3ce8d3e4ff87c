"""Read target rows by primary key, in chunks that keep URLs short.

Used by the journal (which ids exist, their values and ETags before a write) and by
reconciliation (presence and field-level read-back). One function so both ask the same way.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from typing import Any

from shared.dataverse.client import DataverseClient
from shared.dataverse.metadata import TableInfo
from shared.quoting import odata_quote

__all__ = ["CHUNK", "LOOKUP_ANNOTATIONS", "URL_BUDGET", "ids_per_read", "read_by_ids"]

# Reads are most of a load's requests (the journal's and reconciliation's), and requests
# per second are a service-protection limit, so each read asks for as many ids as a safe URL
# holds. Dataverse accepts URLs up to 32 KB; 12 KB of filter also stays under the 16 KB
# request line many HTTP servers and proxies allow.
URL_BUDGET = 12_000
CHUNK = 100  # the old fixed size: still what callers that pass no table-specific size get
LOOKUP_ANNOTATIONS = (
    'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname,'
    'Microsoft.Dynamics.CRM.associatednavigationproperty"'
)


def ids_per_read(table: TableInfo) -> int:
    """How many ids one read of ``table`` asks for: ``pk eq <uuid> or `` URL-encoded each."""
    per_id = len(table.primary_id) + len("%20eq%20") + 36 + len("%20or%20")
    return max(1, min(250, URL_BUDGET // per_id))


async def read_by_ids(
    client: DataverseClient,
    table: TableInfo,
    ids: Iterable[str],
    *,
    select: Iterable[str] | None = None,
    chunk: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Return ``{id: row}`` for those ``ids`` that exist (ids compared lower-case).

    Rows carry ``@odata.etag`` and, for lookups, the logical name and navigation property
    annotations, so a pre-image can be restored exactly.

    Args:
        select: Columns to read; every column when None.
        chunk: Ids per request (default :func:`ids_per_read`: as many as a safe URL holds).
    """
    chunk = chunk or ids_per_read(table)
    wanted = [str(uuid.UUID(i)) for i in ids]
    cols = list(select) if select is not None else None
    if cols is not None and table.primary_id not in cols:
        cols.insert(0, table.primary_id)

    async def one(part: list[str]) -> list[dict[str, Any]]:
        params = {
            "$filter": " or ".join(
                f"{table.primary_id} eq {odata_quote(uuid.UUID(i))}" for i in part
            )
        }
        if cols is not None:
            params["$select"] = ",".join(cols)
        return [
            row
            async for row in client.get_all(
                table.entity_set,
                params=params,
                headers={"Prefer": LOOKUP_ANNOTATIONS},
                action=f"read {table.entity_set} by id",
                object_name=table.logical,
            )
        ]

    # Chunks go out together; the client's limiter bounds how many are in flight.
    pages = await asyncio.gather(
        *(one(wanted[start : start + chunk]) for start in range(0, len(wanted), chunk))
    )
    found: dict[str, dict[str, Any]] = {}
    for rows in pages:
        for row in rows:
            key = str(row.get(table.primary_id, "")).lower()
            if key:
                found[key] = row
    return found
