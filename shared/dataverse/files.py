"""Note bodies (annotations with a file): inline when small, chunked when large.

``maxuploadfilesize`` applies to the **Base64 text**, which is 4/3 of the file. A file whose
Base64 form fits is sent inline as ``documentbody``, in bulk requests kept under a byte budget
so a batch of large notes never becomes one giant request. A larger file goes through
``InitializeAnnotationBlocksUpload`` → ``UploadBlock``\\* → ``CommitAnnotationBlocksUpload``,
streamed from the stage in 4 MB blocks. Where the environment lacks those messages the note
is quarantined as ``FILE_TOO_LARGE`` with the sizes, never truncated.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.dataverse.bulk import Item, rejection_for
from shared.dataverse.client import DataverseClient
from shared.dataverse.context import LoadContext
from shared.errors import MigrationError, RecordError
from shared.rows import Rejection, TargetRow
from shared.stage.base import Stage

__all__ = ["BLOCK_BYTES", "FilePlan", "base64_size", "plan_files", "upload_chunked"]

BLOCK_BYTES = 4 * 1024 * 1024
INLINE_BUDGET = 16 * 1024 * 1024  # Base64 bytes per bulk request of inline notes
UNAVAILABLE_STATUSES = frozenset({404, 405, 501})


def base64_size(size: int) -> int:
    """Length of the Base64 text of ``size`` bytes (what ``maxuploadfilesize`` measures)."""
    return 4 * ((size + 2) // 3)


@dataclass
class FilePlan:
    """How each file row travels: inline groups, chunked uploads, or quarantine."""

    inline_groups: list[list[TargetRow]] = field(default_factory=list)
    chunked: list[TargetRow] = field(default_factory=list)


def plan_files(rows: Sequence[TargetRow], max_upload: int) -> FilePlan:
    """Split file rows by their Base64 size against ``maxuploadfilesize``."""
    plan = FilePlan()
    group: list[TargetRow] = []
    used = 0
    for row in rows:
        assert row.file is not None
        size = base64_size(row.file.size)
        if size > max_upload:
            plan.chunked.append(row)
            continue
        if group and used + size > INLINE_BUDGET:
            plan.inline_groups.append(group)
            group, used = [], 0
        group.append(row)
        used += size
    if group:
        plan.inline_groups.append(group)
    return plan


def inline_items(stage: Stage, rows: Sequence[TargetRow]) -> list[Item]:
    """Items whose payload carries the body as ``documentbody`` (read from the stage now)."""
    items = []
    for row in rows:
        assert row.file is not None
        body = _read_all(stage, row.file.stage_key)
        payload = {
            **row.payload,
            "documentbody": base64.b64encode(body).decode("ascii"),
            "filename": row.file.filename,
            "mimetype": row.file.mimetype,
        }
        items.append(Item(row, payload))
    return items


def _read_all(stage: Stage, key: str) -> bytes:
    with stage.open_read(key) as fh:
        return fh.read()


def _blocks(stage: Stage, key: str) -> Iterator[bytes]:
    with stage.open_read(key) as fh:
        while chunk := fh.read(BLOCK_BYTES):
            yield chunk


def too_large(row: TargetRow, max_upload: int, why: str) -> Rejection:
    """The quarantine entry for a note body the environment cannot take."""
    assert row.file is not None
    return Rejection(
        source_object=row.source_object,
        source_id=row.source_id,
        reason_code="FILE_TOO_LARGE",
        field="documentbody",
        value={
            "filename": row.file.filename,
            "bytes": row.file.size,
            "base64_bytes": base64_size(row.file.size),
            "maxuploadfilesize": max_upload,
        },
        message=f"{row.table} {row.source_id}: file {row.file.filename!r} is "
        f"{base64_size(row.file.size)} bytes as Base64, above maxuploadfilesize {max_upload}, "
        f"and {why}",
        hint="raise maxuploadfilesize (up to 131072000) or move the file by hand",
    )


async def upload_chunked(
    client: DataverseClient, context: LoadContext, stage: Stage, row: TargetRow
) -> Rejection | None:
    """Create or replace one note with its body sent in blocks; None when it landed.

    Returns:
        A ``FILE_TOO_LARGE`` rejection when the environment lacks chunked upload, or the
        server's rejection when it refused the note.
    """
    assert row.file is not None
    max_upload = await context.max_upload()
    if context.chunked_files is False:
        return too_large(row, max_upload, "this environment has no chunked annotation upload")
    target: dict[str, Any] = {
        "@odata.type": "Microsoft.Dynamics.CRM.annotation",
        "annotationid": row.id,
        **row.payload,
        "filename": row.file.filename,
        "mimetype": row.file.mimetype,
    }
    try:
        init = await client.request(
            "POST",
            "InitializeAnnotationBlocksUpload",
            json={"Target": target},
            action="InitializeAnnotationBlocksUpload",
            object_name=row.table,
            record_id=row.id,
        )
    except MigrationError as exc:
        if exc.status in UNAVAILABLE_STATUSES and not _names_record(exc):
            context.chunked_files = False
            return too_large(row, max_upload, "this environment has no chunked annotation upload")
        if isinstance(exc, RecordError):
            return rejection_for(row, exc, "file upload")
        raise
    context.chunked_files = True
    token = init.json()["FileContinuationToken"]
    block_ids: list[str] = []
    for n, block in enumerate(_blocks(stage, row.file.stage_key)):
        block_id = base64.b64encode(f"{n:08d}".encode()).decode("ascii")
        await client.request(
            "POST",
            "UploadBlock",
            json={
                "BlockId": block_id,
                "BlockData": base64.b64encode(block).decode("ascii"),
                "FileContinuationToken": token,
            },
            action="UploadBlock",
            object_name=row.table,
            record_id=row.id,
        )
        block_ids.append(block_id)
    await client.request(
        "POST",
        "CommitAnnotationBlocksUpload",
        json={"Target": target, "BlockList": block_ids, "FileContinuationToken": token},
        action="CommitAnnotationBlocksUpload",
        object_name=row.table,
        record_id=row.id,
    )
    return None


def _names_record(exc: MigrationError) -> bool:
    """A 404 that names a record (a bound lookup) is not "message unavailable"."""
    return "with id" in exc.message.lower()
