"""The directory stage backend (the default): one file per key under a root directory.

Every write goes to a hidden temporary file in the target directory, is flushed and
``fsync``-ed, then renamed over the final name (atomic on POSIX), and the directory is
``fsync``-ed so the rename survives a power cut. A batch's data file lands first and its
manifest last, so a crash or a full disk at any point leaves either the old complete batch,
no batch, or stray temporaries that no listing shows.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from shared.errors import StageError
from shared.stage.codec import (
    DATA_SUFFIX,
    MANIFEST_SUFFIX,
    BinarySink,
    Meta,
    complete_batches,
    decode_manifest,
    encode_batch,
    encode_manifest,
    read_checked,
)
from shared.stage.keys import check_key, check_prefix

_TMP_MARK = ".tmp-"

_ADVICE = {
    errno.ENOSPC: "the disk is full: free space or point stage.path at a larger volume",
    errno.EDQUOT: "the disk quota is used up: free space or point stage.path elsewhere",
    errno.EFBIG: "the file size limit was reached: free space or raise the limit (ulimit -f)",
    errno.EROFS: "the file system is read-only: point stage.path at a writable directory",
    errno.EACCES: "permission denied: give this user write access or change stage.path",
    errno.EPERM: "permission denied: give this user write access or change stage.path",
}


class LocalStage:
    """A stage in a local directory; see ``shared/stage/base.py`` for the contract."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStage({str(self.root)!r})"

    # -- paths and errors -------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _fail(self, action: str, key: str, exc: OSError) -> StageError:
        advice = _ADVICE.get(exc.errno or 0, "check the stage directory, then rerun")
        reason = exc.strerror or type(exc).__name__
        return StageError(
            f"stage {self.root}: cannot {action} {key} ({reason}); {advice}. "
            "Nothing half-written was recorded; the rerun resumes from the last complete batch."
        )

    def _atomic_write(self, key: str, fill: Callable[[BinarySink], Any]) -> Any:
        """Write through ``fill(file)`` into a temp file, fsync, rename; return fill's result.

        Errors raised by ``fill``'s own data source (a dropped Salesforce connection is an
        ``OSError`` too) propagate unchanged; only file-system failures become StageError.
        """
        final = self._path(key)
        tmp = final.with_name(f".{final.name}{_TMP_MARK}{uuid.uuid4().hex}")
        try:
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
                raw = tmp.open("xb")
            except OSError as exc:
                raise _DiskError(exc) from exc
            try:
                result = fill(_GuardedFile(raw))
                try:
                    raw.flush()
                    os.fsync(raw.fileno())
                    raw.close()
                except OSError as exc:
                    raise _DiskError(exc) from exc
            finally:
                with contextlib.suppress(OSError):
                    raw.close()
            try:
                tmp.replace(final)
            except OSError as exc:
                raise _DiskError(exc) from exc
            _fsync_dir(final.parent)
        except _DiskError as err:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise self._fail("write", key, err.cause) from None
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return result

    # -- batches ----------------------------------------------------------------------

    def write_batch(
        self, key: str, records: Iterable[dict[str, Any]], meta: Meta = None
    ) -> dict[str, Any]:
        """Write the data file, then the manifest; extra ``meta`` goes into the manifest."""
        self.delete(key + MANIFEST_SUFFIX)  # an old manifest must never vouch for new data
        manifest: dict[str, Any] = self._atomic_write(
            key + DATA_SUFFIX, lambda fh: encode_batch(key, records, fh, meta)
        )
        self.put_bytes(key + MANIFEST_SUFFIX, encode_manifest(manifest))
        return manifest

    def batch_manifest(self, key: str) -> dict[str, Any] | None:
        """The manifest, or None when the batch is incomplete (no manifest or no data)."""
        manifest_path = self._path(key + MANIFEST_SUFFIX)
        if not manifest_path.is_file() or not self._path(key + DATA_SUFFIX).is_file():
            return None
        return decode_manifest(key, self.get_bytes(key + MANIFEST_SUFFIX))

    def read_batch(self, key: str) -> Iterator[dict[str, Any]]:
        """Verify the checksum first, then yield records; the count is checked at the end."""
        return read_checked(key, self.batch_manifest(key), self.open_read, f"stage {self.root}")

    def list_batches(self, prefix: str) -> list[str]:
        """Complete batches only: a data file without its manifest is not listed."""
        return complete_batches(self.list_keys(prefix))

    # -- plain objects ----------------------------------------------------------------

    def put_bytes(self, key: str, data: bytes) -> None:
        """Write a small object atomically."""
        self._atomic_write(key, lambda fh: fh.write(data))

    def get_bytes(self, key: str) -> bytes:
        """Read a small object whole."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StageError(f"stage {self.root}: {key} does not exist") from None
        except OSError as exc:
            raise self._fail("read", key, exc) from None

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> int:
        """Stream chunks to a temp file and rename; memory holds one chunk at a time."""

        def fill(fh: BinarySink) -> int:
            size = 0
            for chunk in chunks:
                fh.write(chunk)
                size += len(chunk)
            return size

        size: int = self._atomic_write(key, fill)
        return size

    def open_read(self, key: str) -> IO[bytes]:
        """Open for streaming reads; the caller closes it."""
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise StageError(f"stage {self.root}: {key} does not exist") from None
        except OSError as exc:
            raise self._fail("read", key, exc) from None

    def exists(self, key: str) -> bool:
        """True when a complete object is stored under ``key``."""
        return self._path(key).is_file()

    def list_keys(self, prefix: str) -> list[str]:
        """Every key starting with ``prefix`` (a plain string prefix, as in Blob storage)."""
        prefix = check_prefix(prefix)
        base_key = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = self._path(base_key) if base_key else self.root
        if not base.is_dir():
            return []
        out = []
        for path in base.rglob("*"):
            if path.name.startswith(".") or not path.is_file():
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                out.append(key)
        return sorted(out)

    def delete(self, key: str) -> None:
        """Remove an object if present."""
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise self._fail("delete", key, exc) from None


class _DiskError(Exception):
    """An OSError from the file system (as opposed to one from the record source)."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _GuardedFile:
    """Marks write failures as the disk's, so they are told apart from source failures."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw

    def write(self, data: bytes) -> int:
        try:
            return self._raw.write(data)
        except OSError as exc:
            raise _DiskError(exc) from exc

    def flush(self) -> None:
        try:
            self._raw.flush()
        except OSError as exc:
            raise _DiskError(exc) from exc


def _fsync_dir(path: Path) -> None:
    # Directory fsync makes the rename durable; not every platform allows it.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
