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

__all__ = ["LOOKUP_ANNOTATIONS", "read_by_ids"]

# ~55 characters per id in the filter: 100 ids keep the URL near 6 KB, far below limits.
CHUNK = 100
LOOKUP_ANNOTATIONS = (
    'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname,'
    'Microsoft.Dynamics.CRM.associatednavigationproperty"'
)


async def read_by_ids(
    client: DataverseClient,
    table: TableInfo,
    ids: Iterable[str],
    *,
    select: Iterable[str] | None = None,
    chunk: int = CHUNK,
) -> dict[str, dict[str, Any]]:
    """Return ``{id: row}`` for those ``ids`` that exist (ids compared lower-case).

    Rows carry ``@odata.etag`` and, for lookups, the logical name and navigation property
    annotations, so a pre-image can be restored exactly.

    Args:
        select: Columns to read; every column when None.
    """
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
