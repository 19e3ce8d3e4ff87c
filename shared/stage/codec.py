"""Batch encoding shared by both stage backends: gzip JSON lines plus a manifest.

Both backends write byte-identical batch files for the same records (gzip ``mtime`` is fixed
at 0), so a batch copied from a directory to Blob storage keeps its checksum.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, Protocol

from shared.errors import StageError

DATA_SUFFIX = ".jsonl.gz"
MANIFEST_SUFFIX = ".manifest.json"
FORMAT = "jsonl.gz/1"
_CHUNK = 1 << 16


class BinarySink(Protocol):
    """Anything bytes can be written to (a file, a spooled temp file, a guarded file)."""

    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


class _HashingWriter:
    """A write-only file object that hashes and counts what passes through it."""

    def __init__(self, sink: BinarySink) -> None:
        self.sink = sink
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        self.sink.write(data)
        return len(data)

    def flush(self) -> None:
        self.sink.flush()


Meta = dict[str, Any] | Callable[[], dict[str, Any]] | None


def encode_batch(
    key: str, records: Iterable[dict[str, Any]], sink: BinarySink, meta: Meta
) -> dict[str, Any]:
    """Write ``records`` gzip-compressed to ``sink``; return the manifest describing them.

    ``meta`` adds keys to the manifest; a callable is called after the last record was
    consumed, so it can record what is only known then (the last Id of the batch).

    Raises:
        StageError: a record that is not JSON-serialisable (named by its position and Id).
    """
    writer = _HashingWriter(sink)
    count = 0
    with gzip.GzipFile(fileobj=writer, mode="wb", compresslevel=6, mtime=0) as gz:
        for record in records:
            try:
                line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
            except (TypeError, ValueError) as exc:
                rid = record.get("Id") if isinstance(record, dict) else None
                raise StageError(
                    f"batch {key}: record #{count + 1} (Id {rid}) cannot be staged as JSON: {exc}",
                    record_id=str(rid) if rid else None,
                ) from None
            gz.write(line.encode("utf-8"))
            gz.write(b"\n")
            count += 1
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "count": count,
        "sha256": writer.sha.hexdigest(),
        "bytes": writer.size,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if callable(meta):
        meta = meta()
    if meta:
        manifest.update({k: v for k, v in meta.items() if k not in manifest})
    return manifest


def encode_manifest(manifest: dict[str, Any]) -> bytes:
    """Manifests are small, sorted JSON so they diff well."""
    return json.dumps(manifest, sort_keys=True, indent=1).encode("utf-8")


def decode_manifest(key: str, data: bytes) -> dict[str, Any]:
    """Parse a manifest; a damaged one is a StageError naming the batch."""
    try:
        manifest = json.loads(data)
    except ValueError:
        raise StageError(
            f"batch {key}: manifest is not valid JSON; delete the batch and re-extract it"
        ) from None
    if not isinstance(manifest, dict) or "count" not in manifest or "sha256" not in manifest:
        raise StageError(f"batch {key}: manifest lacks count/sha256; re-extract the batch")
    return manifest


def verify_checksum(key: str, stream: IO[bytes], manifest: dict[str, Any]) -> None:
    """Hash a whole batch file and compare it with its manifest before anyone reads it."""
    sha = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        sha.update(chunk)
    if sha.hexdigest() != manifest["sha256"]:
        raise StageError(
            f"batch {key}: data does not match its manifest sha256 (corrupt or overwritten); "
            "delete the batch and re-extract it"
        )


def decode_records(
    key: str, stream: IO[bytes], manifest: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """Yield records from a verified batch file and check the manifest count at the end."""
    count = 0
    with gzip.GzipFile(fileobj=stream, mode="rb") as gz:
        for line in gz:
            yield json.loads(line)
            count += 1
    if count != manifest["count"]:
        raise StageError(
            f"batch {key}: holds {count} records but its manifest says {manifest['count']}; "
            "re-extract the batch"
        )


def complete_batches(keys: Iterable[str]) -> list[str]:
    """Batch keys whose manifest and data both exist (a data file alone is not a batch)."""
    present = set(keys)
    return sorted(
        k.removesuffix(MANIFEST_SUFFIX)
        for k in present
        if k.endswith(MANIFEST_SUFFIX) and k.removesuffix(MANIFEST_SUFFIX) + DATA_SUFFIX in present
    )


def read_checked(
    key: str,
    manifest: dict[str, Any] | None,
    open_read: Callable[[str], IO[bytes]],
    where: str,
) -> Iterator[dict[str, Any]]:
    """Verify the checksum in one streamed pass, then stream the records (both backends)."""
    if manifest is None:
        raise StageError(
            f"{where}: batch {key} is missing or incomplete (no manifest); "
            "re-run extraction for this object"
        )
    with open_read(key + DATA_SUFFIX) as fh:
        verify_checksum(key, fh, manifest)
    with open_read(key + DATA_SUFFIX) as fh:
        yield from decode_records(key, fh, manifest)
