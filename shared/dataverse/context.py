"""Per-run facts the loader reads once from the environment and then reuses.

Table metadata, bulk-message support and ``maxuploadfilesize`` do not change during a run
(schema deploy happens before), so asking once per table saves a request per batch.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from shared.dataverse.client import DataverseClient
from shared.dataverse.metadata import (
    BulkSupport,
    TableInfo,
    bulk_support,
    fetch_table,
    max_upload_file_size,
)

__all__ = ["LoadContext"]


@dataclass
class LoadContext:
    """Caches of target metadata shared by every batch of a run in one process.

    Args:
        client: The Dataverse client the loader writes with.
        batch_size: Rows per bulk request.
    """

    client: DataverseClient
    batch_size: int = 500
    _tables: dict[str, TableInfo] = field(default_factory=dict)
    _support: dict[str, BulkSupport] = field(default_factory=dict)
    _max_upload: int | None = None
    chunked_files: bool | None = None
    """Whether the chunked annotation upload works here; learnt on the first large file."""
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def table(self, logical: str) -> TableInfo:
        """Metadata of one table, read on first use.

        Read with ``Consistency: Strong``: a load that starts right after deploy-schema must
        see the new columns, not the ~30 s metadata cache.
        """
        async with self._lock:
            if logical not in self._tables:
                self._tables[logical] = await fetch_table(self.client, logical, strong=True)
            return self._tables[logical]

    async def support(self, logical: str) -> BulkSupport:
        """Which bulk messages one table supports, asked on first use."""
        async with self._lock:
            if logical not in self._support:
                self._support[logical] = await bulk_support(self.client, logical)
            return self._support[logical]

    async def max_upload(self) -> int:
        """``maxuploadfilesize`` in bytes of Base64 text."""
        async with self._lock:
            if self._max_upload is None:
                self._max_upload = await max_upload_file_size(self.client)
            return self._max_upload
