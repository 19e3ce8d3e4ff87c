"""Streaming writer of an org directory (format: docs/org-directory.md).

Records go straight to ``data/<Object>.jsonl`` as they are made, so memory stays flat however
large the org. Output is byte-stable: keys keep insertion order, separators are fixed and
non-ASCII text is written as UTF-8, never escaped, so a planted emoji stays visible in the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from emulators.salesforce.generate.sfids import id_for


def dump_json(value: Any) -> str:
    """The one JSON spelling of every file we write (stable, UTF-8, indented)."""
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


class IdAllocator:
    """Hands out the next id per object; sections with pure index ids reserve their range."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def reserve(self, sobject: str, count: int) -> None:
        """Ids ``1..count`` of ``sobject`` are taken by index-addressed clean records."""
        self._next[sobject] = max(self._next.get(sobject, 0), count)

    def next(self, sobject: str) -> str:
        n = self._next.get(sobject, 0) + 1
        self._next[sobject] = n
        return id_for(sobject, n)


class OrgWriter:
    """Writes one org directory; use as a context manager so every file is closed.

    Args:
        out: The org directory. Created if missing; it must not already hold an org.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.counts: dict[str, int] = {}
        self.file_bytes = 0
        self._handles: dict[str, IO[str]] = {}
        for sub in ("data", "files", "schema"):
            (out / sub).mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> OrgWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def record(self, sobject: str, record: dict[str, Any]) -> None:
        """Append one record (API field names, ``Id`` first) to ``data/<sobject>.jsonl``."""
        handle = self._handles.get(sobject)
        if handle is None:
            path = self.out / "data" / f"{sobject}.jsonl"
            handle = path.open("w", encoding="utf-8", newline="\n")
            self._handles[sobject] = handle
        handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.counts[sobject] = self.counts.get(sobject, 0) + 1

    def body(self, record_id: str, data: bytes) -> None:
        """Write a file body (ContentVersion.VersionData, Attachment.Body) to ``files/<Id>``."""
        (self.out / "files" / record_id).write_bytes(data)
        self.file_bytes += len(data)

    def json_file(self, relative: str, value: Any) -> None:
        """Write ``org.json``, ``schema/<Object>.json``, ``defects.json`` and friends."""
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_json(value), encoding="utf-8", newline="\n")

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()
