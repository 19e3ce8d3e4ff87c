"""Salesforce Files side effects of uploading a ``ContentVersion`` through the API.

As in Salesforce, a new version without ``ContentDocumentId`` creates its
``ContentDocument`` (title, size, extension, ``LatestPublishedVersionId``), and one with
``FirstPublishLocationId`` is shared to that record by a ``ContentDocumentLink``; the file
type is derived from the extension.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulators.salesforce.store import OrgStore

__all__ = ["file_type", "publish_new_version"]

_FILE_TYPES = {
    "pdf": "PDF", "txt": "TEXT", "csv": "CSV", "png": "PNG", "jpg": "JPG", "jpeg": "JPEG",
    "gif": "GIF", "doc": "WORD", "docx": "WORD_X", "xls": "EXCEL", "xlsx": "EXCEL_X",
    "ppt": "POWER_POINT", "pptx": "POWER_POINT_X", "zip": "ZIP", "html": "HTML",
    "htm": "HTML", "xml": "XML", "json": "JSON", "rtf": "RTF", "mp4": "MP4", "mp3": "MP3",
    "eml": "EML", "msg": "MSG", "snote": "SNOTE",
}  # fmt: skip


def file_type(extension: str | None) -> str:
    """Salesforce's ``FileType`` for a file extension (``UNKNOWN`` when unrecognised)."""
    return _FILE_TYPES.get((extension or "").lower(), "UNKNOWN")


def publish_new_version(
    store: OrgStore, conn: sqlite3.Connection, version: dict[str, Any], stamp: str
) -> None:
    """Fill a new version's file facts and create its document and link (same transaction)."""
    version["FileType"] = file_type(version.get("FileExtension"))
    version.setdefault("IsLatest", 1)
    version.setdefault("VersionNumber", "1")
    if version.get("ContentDocumentId"):
        return
    doc_obj = store.schema.get("ContentDocument")
    link_obj = store.schema.get("ContentDocumentLink")
    if doc_obj is None or link_obj is None:
        return
    doc_id = store.new_id(conn, doc_obj)
    document = {
        "Id": doc_id,
        "Title": version.get("Title"),
        "LatestPublishedVersionId": version["Id"],
        "ContentSize": version.get("ContentSize"),
        "FileExtension": version.get("FileExtension"),
        "FileType": version["FileType"],
        "PublishStatus": "P" if version.get("FirstPublishLocationId") else "R",
        "ContentModifiedDate": stamp,
    }
    store.insert_row(conn, doc_obj, store.new_row(doc_obj, document, stamp))
    version["ContentDocumentId"] = doc_id
    where = version.get("FirstPublishLocationId")
    if where:
        link = {"Id": store.new_id(conn, link_obj), "ContentDocumentId": doc_id,
                "LinkedEntityId": where, "ShareType": "I", "Visibility": "AllUsers"}  # fmt: skip
        store.insert_row(conn, link_obj, store.new_row(link_obj, link, stamp))
