"""The stage interface. Two backends share it and the same layout (see docs/stage.md).

Layout under the stage root (keys use ``/`` in both backends)::

    <run_id>/raw/<Object>/<batch:05d>.jsonl.gz        extracted records, gzip JSON lines
    <run_id>/raw/<Object>/<batch:05d>.manifest.json   {"count", "sha256", ...}; written last
    <run_id>/files/<Object>/<record id>              file bodies, streamed
    <run_id>/journal/...                             the loader's write-ahead journal
    <run_id>/history/...                             the local host's orchestration history
    <run_id>/reports/...                             reports (also copied to the work dir)

A batch exists only once its manifest exists: writers put the data first and the manifest
last, each atomically, so a crash never leaves a half batch that looks complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any, Protocol

from shared.stage.codec import Meta


class Stage(Protocol):
    """Storage for batches, files, journals and reports, addressed by ``/``-separated keys."""

    def write_batch(
        self, key: str, records: Iterable[dict[str, Any]], meta: Meta = None
    ) -> dict[str, Any]:
        """Write ``<key>.jsonl.gz`` then ``<key>.manifest.json``; return the manifest.

        The manifest holds ``count``, ``sha256`` (of the gzip file), ``bytes``, ``format``,
        ``written_at`` plus any ``meta`` keys (extraction records ``last_id`` there). A
        callable ``meta`` is called after the last record was consumed.
        """
        ...

    def read_batch(self, key: str) -> Iterator[dict[str, Any]]:
        """Yield the records of a complete batch, verifying count and sha256.

        Raises:
            StageError: missing manifest, missing data, or a checksum/count mismatch.
        """
        ...

    def batch_manifest(self, key: str) -> dict[str, Any] | None:
        """The manifest of a complete batch, or None if the batch is not complete."""
        ...

    def list_batches(self, prefix: str) -> list[str]:
        """Keys (without suffix) of complete batches under ``prefix``, sorted."""
        ...

    def put_bytes(self, key: str, data: bytes) -> None:
        """Write a small object atomically."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """Read a small object. Raises StageError when missing."""
        ...

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int:
        """Stream a large object (a file body) atomically; return its size in bytes."""
        ...

    def open_read(self, key: str) -> IO[bytes]:
        """Open a stored object for streaming reads."""
        ...

    def exists(self, key: str) -> bool:
        """True if an object is stored under ``key``."""
        ...

    def list_keys(self, prefix: str) -> list[str]:
        """Every object key under ``prefix``, sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove an object if present."""
        ...
