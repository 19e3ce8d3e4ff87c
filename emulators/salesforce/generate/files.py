"""Notes, Attachments and Salesforce Files (ContentVersion/ContentDocument/ContentDocumentLink).

"Documents, uploads and notes move with their record": each clean contact has a chance of a
note, an old-style attachment and a file, of many types and sizes. Bodies are small (a few KB,
real magic bytes first so type sniffing works) to keep tests fast; the one big file is planted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from typing import Any

from emulators.salesforce.generate import values as v
from emulators.salesforce.generate.population import Population, mix
from emulators.salesforce.generate.writer import IdAllocator, OrgWriter

# extension -> (ContentDocument.FileType, MIME type, leading magic bytes)
FILE_TYPES: dict[str, tuple[str, str, bytes]] = {
    "pdf": ("PDF", "application/pdf", b"%PDF-1.7\n"),
    "docx": ("WORD_X", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             b"PK\x03\x04"),
    "xlsx": ("EXCEL_X", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             b"PK\x03\x04"),
    "pptx": ("POWER_POINT_X",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation",
             b"PK\x03\x04"),
    "png": ("PNG", "image/png", b"\x89PNG\r\n\x1a\n"),
    "jpg": ("JPG", "image/jpeg", b"\xff\xd8\xff\xe0"),
    "gif": ("GIF", "image/gif", b"GIF89a"),
    "csv": ("CSV", "text/csv", b"Name,Email\n"),
    "txt": ("TEXT", "text/plain", b"Meeting notes\n"),
    "zip": ("ZIP", "application/zip", b"PK\x03\x04"),
    "html": ("HTML", "text/html", b"<!DOCTYPE html>"),
    "eml": ("UNKNOWN", "message/rfc822", b"From: "),
}  # fmt: skip
_EXTENSIONS = tuple(FILE_TYPES)
NOTE_BODIES = (
    "Call recap: budget approved for Q3, needs security review.",
    "Champion left the company; find a new sponsor.\nAsked for references.",
    "Prefers WhatsApp for quick questions.",
)


def file_body(rng: random.Random, ext: str, size: int) -> bytes:
    """``size`` deterministic bytes starting with the type's magic bytes."""
    magic = FILE_TYPES[ext][2]
    if size <= len(magic):
        return magic[:size]
    return magic + rng.randbytes(size - len(magic))


def _size(rng: random.Random) -> int:
    """Log-spread sizes from 32 bytes to 48 KB (median ~1 KB)."""
    return int(2 ** rng.uniform(5, 15.6))


def content_file(
    w: OrgWriter,
    ids: IdAllocator,
    *,
    title: str,
    ext: str,
    body: bytes,
    linked: str,
    owner: str,
    created: dt.datetime,
    rng: random.Random,
) -> str:
    """Write one file as Salesforce stores it (version, document, link); return the version id."""
    version_id = ids.next("ContentVersion")
    document_id = ids.next("ContentDocument")
    file_type = FILE_TYPES[ext][0]
    audit = v.system_fields(rng, created, owner)
    w.body(version_id, body)
    w.record(
        "ContentVersion",
        {
            "Id": version_id,
            "ContentDocumentId": document_id,
            "Title": title,
            "PathOnClient": f"{title}.{ext}",
            "FileExtension": ext,
            "FileType": file_type,
            "ContentSize": len(body),
            "VersionNumber": "1",
            "IsLatest": True,
            "Checksum": hashlib.md5(body, usedforsecurity=False).hexdigest(),
            "FirstPublishLocationId": linked,
            "ContentLocation": "S",
            "Origin": "C",
            "PublishStatus": "P",
            "OwnerId": owner,
            **audit,
        },
    )
    w.record(
        "ContentDocument",
        {
            "Id": document_id,
            "Title": title,
            "LatestPublishedVersionId": version_id,
            "FileType": file_type,
            "FileExtension": ext,
            "ContentSize": len(body),
            "PublishStatus": "P",
            "OwnerId": owner,
            **audit,
        },
    )
    w.record(
        "ContentDocumentLink",
        {
            "Id": ids.next("ContentDocumentLink"),
            "ContentDocumentId": document_id,
            "LinkedEntityId": linked,
            "ShareType": "V",
            "Visibility": "AllUsers",
            "IsDeleted": False,
            "SystemModstamp": audit["SystemModstamp"],
        },
    )
    return version_id


def attachment(
    w: OrgWriter,
    ids: IdAllocator,
    *,
    parent: str,
    name: str,
    ext: str,
    body: bytes,
    owner: str,
    created: dt.datetime,
    rng: random.Random,
) -> str:
    """Write one classic Attachment (body in ``files/<Id>``). Returns its id."""
    attachment_id = ids.next("Attachment")
    w.body(attachment_id, body)
    w.record(
        "Attachment",
        {
            "Id": attachment_id,
            "ParentId": parent,
            "Name": name,
            "ContentType": FILE_TYPES[ext][1],
            "BodyLength": len(body),
            "IsPrivate": False,
            "OwnerId": owner,
            **v.system_fields(rng, created, owner),
        },
    )
    return attachment_id


def note(
    w: OrgWriter,
    ids: IdAllocator,
    *,
    parent: str,
    title: str,
    body: str,
    owner: str,
    created: dt.datetime,
    rng: random.Random,
) -> str:
    note_id = ids.next("Note")
    record: dict[str, Any] = {"Id": note_id, "ParentId": parent, "Title": title, "Body": body}
    record.update({"IsPrivate": False, "OwnerId": owner, **v.system_fields(rng, created, owner)})
    w.record("Note", record)
    return note_id


def write_files(pop: Population, w: OrgWriter, ids: IdAllocator) -> None:
    """Per clean contact: ~10% a note, ~3% an attachment, ~10% a file (accounts get notes too)."""
    rng = random.Random(f"{pop.seed}:files")
    for n in range(pop.contacts):
        h = mix(pop.seed, 81, n)
        contact = pop.contact_id(n)
        owner = pop.owner_of(3, n)
        created = v.moment(rng, v.ORG_START, v.BASE_TIME)
        if h % 10 == 0:
            parent = contact if (h >> 4) % 3 else pop.account_id(pop.contact_account(n))
            note(w, ids, parent=parent, title="Call notes", body=rng.choice(NOTE_BODIES),
                 owner=owner, created=created, rng=rng)  # fmt: skip
        if (h >> 8) % 33 == 0:
            ext = rng.choice(_EXTENSIONS)
            attachment(w, ids, parent=contact, name=f"signed-nda-{n + 1}.{ext}", ext=ext,
                       body=file_body(rng, ext, _size(rng)), owner=owner, created=created,
                       rng=rng)  # fmt: skip
        if (h >> 16) % 10 == 0:
            ext = rng.choice(_EXTENSIONS)
            content_file(w, ids, title=f"Proposal {n + 1}", ext=ext,
                         body=file_body(rng, ext, _size(rng)), linked=contact, owner=owner,
                         created=created, rng=rng)  # fmt: skip
