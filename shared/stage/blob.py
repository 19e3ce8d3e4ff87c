"""The Azure Blob storage stage backend: the same layout and contract as the directory.

Atomicity comes from the service: a block blob becomes visible only when its upload commits
(one Put Blob, or Put Block List after staged blocks), so readers never see a half-written
object. Batches are encoded into a local spooled temporary file first (memory stays bounded)
and uploaded as one commit; the manifest is uploaded only after the data commit succeeded.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any, NoReturn

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.storage.blob import ContainerClient

from shared.errors import AuthenticationError, StageError, UnreachableError
from shared.stage.codec import (
    DATA_SUFFIX,
    MANIFEST_SUFFIX,
    Meta,
    complete_batches,
    decode_manifest,
    encode_batch,
    encode_manifest,
    read_checked,
)
from shared.stage.keys import check_key, check_prefix

_SPOOL_BYTES = 8 << 20


class _ChunkReader(io.RawIOBase):
    """A read-only raw stream over an iterator of byte chunks (a blob download)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            nxt = next(self._chunks, None)
            if nxt is None:
                return 0
            self._pending = nxt
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class BlobStage:
    """A stage in one Blob container; see ``shared/stage/base.py`` for the contract."""

    def __init__(self, container: ContainerClient, *, create: bool = True) -> None:
        self.container = container
        self.where = f"blob container {container.container_name!r}"
        if create:
            try:
                container.create_container()
            except ResourceExistsError:
                pass
            except AzureError as exc:
                self._fail("create", container.container_name, exc)

    def __repr__(self) -> str:
        return f"BlobStage({self.container.container_name!r})"

    def _fail(self, action: str, key: str, exc: AzureError) -> NoReturn:
        """The one place Blob failures are classified."""
        if isinstance(exc, ResourceNotFoundError):
            raise StageError(f"{self.where}: {key} does not exist") from None
        status = exc.status_code if isinstance(exc, HttpResponseError) else None
        raw_code = getattr(exc, "error_code", None)
        code = str(getattr(raw_code, "value", raw_code) or type(exc).__name__)
        if isinstance(exc, ClientAuthenticationError) or status in {401, 403}:
            raise AuthenticationError(
                f"{self.where}: storage refused our credentials while trying to {action} {key} "
                f"({code}); check stage.connection_string, the identity's Storage Blob Data "
                "Contributor role and the account firewall",
                status=status,
            ) from None
        if isinstance(exc, ServiceRequestError):
            raise UnreachableError(
                f"{self.where}: storage cannot be reached to {action} {key} ({exc.message}); "
                "check stage.account_url / connection string and the network"
            ) from None
        raise StageError(
            f"{self.where}: cannot {action} {key} ({code}, HTTP {status}); check the storage "
            "account (quota, firewall, API version) and rerun. Nothing half-written was recorded.",
            status=status,
        ) from None

    # -- batches ----------------------------------------------------------------------

    def write_batch(
        self, key: str, records: Iterable[dict[str, Any]], meta: Meta = None
    ) -> dict[str, Any]:
        """Encode to a spooled temp file, upload the data, then the manifest."""
        check_key(key)
        self.delete(key + MANIFEST_SUFFIX)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
            manifest = encode_batch(key, records, spool, meta)
            spool.seek(0)
            self._upload(key + DATA_SUFFIX, spool, manifest["bytes"])
        self.put_bytes(key + MANIFEST_SUFFIX, encode_manifest(manifest))
        return manifest

    def batch_manifest(self, key: str) -> dict[str, Any] | None:
        """The manifest, or None when the batch is incomplete."""
        if not self.exists(key + MANIFEST_SUFFIX) or not self.exists(key + DATA_SUFFIX):
            return None
        return decode_manifest(key, self.get_bytes(key + MANIFEST_SUFFIX))

    def read_batch(self, key: str) -> Iterator[dict[str, Any]]:
        """Verify the checksum first (one streamed pass), then stream the records."""
        return read_checked(key, self.batch_manifest(key), self.open_read, self.where)

    def list_batches(self, prefix: str) -> list[str]:
        """Complete batches only."""
        return complete_batches(self.list_keys(prefix))

    # -- plain objects ----------------------------------------------------------------

    def _upload(self, key: str, data: Any, length: int | None = None) -> None:
        try:
            self.container.upload_blob(check_key(key), data, length=length, overwrite=True)
        except AzureError as exc:
            self._fail("write", key, exc)

    def put_bytes(self, key: str, data: bytes) -> None:
        """One Put Blob: atomic."""
        self._upload(key, data, len(data))

    def get_bytes(self, key: str) -> bytes:
        """Read a small object whole."""
        try:
            return self.container.download_blob(check_key(key)).readall()
        except AzureError as exc:
            self._fail("read", key, exc)

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int:
        """Upload from an iterator; blocks commit at the end, so the blob appears whole."""
        size = 0

        def counted() -> Iterator[bytes]:
            nonlocal size
            for chunk in chunks:
                size += len(chunk)
                yield chunk

        self._upload(key, counted())
        return size

    def open_read(self, key: str) -> IO[bytes]:
        """A buffered stream over the download's chunks; memory holds one chunk."""
        try:
            downloader = self.container.download_blob(check_key(key))
        except AzureError as exc:
            self._fail("read", key, exc)
        return io.BufferedReader(_ChunkReader(iter(downloader.chunks())))

    def exists(self, key: str) -> bool:
        """True when a committed blob exists under ``key``."""
        try:
            return bool(self.container.get_blob_client(check_key(key)).exists())
        except AzureError as exc:
            self._fail("check", key, exc)

    def list_keys(self, prefix: str) -> list[str]:
        """Every committed blob name starting with ``prefix``."""
        prefix = check_prefix(prefix)
        try:
            return sorted(b.name for b in self.container.list_blobs(name_starts_with=prefix))
        except AzureError as exc:
            self._fail("list", prefix or "/", exc)

    def delete(self, key: str) -> None:
        """Remove a blob if present."""
        try:
            self.container.delete_blob(check_key(key))
        except ResourceNotFoundError:
            return
        except AzureError as exc:
            self._fail("delete", key, exc)
