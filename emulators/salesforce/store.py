"""The org's working copy: one SQLite table per sObject, and the writes the API makes to it.

Columns are the API field names with SQLite affinities (booleans 0/1, numbers INTEGER/REAL,
everything else TEXT; datetimes in canonical UTC form so text order is time order); the copy
is built by ``orgload``. Binary bodies stay files: ``files/<Id>`` from the org directory,
``org.files/<Id>`` for bodies written through the API (removed by a rebuild). One connection,
guarded by a lock, serves all request threads.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import sqlite3
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from emulators.salesforce.errors import SalesforceApiError
from emulators.salesforce.fields import (
    check_api_value,
    fill_system_fields,
    quote_ident,
    to_column,
)
from emulators.salesforce.orgdir import OrgConfig
from emulators.salesforce.orgload import WorkingCopyBuilder, built_from
from emulators.salesforce.schema import ObjectSchema, OrgSchema, stored_fields
from emulators.salesforce.values import Clock, normalize_id

__all__ = ["OrgStore", "quote_ident"]

_SYSTEM_SET_ON_WRITE = ("LastModifiedDate", "SystemModstamp", "LastModifiedById")
# What a delete takes with it (child object → the fields that point at the deleted record).
_CASCADE: dict[str, tuple[str, ...]] = {
    "Contact": ("AccountId",),
    "Opportunity": ("AccountId",),
    "Task": ("WhoId", "WhatId"),
    "Event": ("WhoId", "WhatId"),
    "Note": ("ParentId",),
    "Attachment": ("ParentId",),
}
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class OrgStore:
    """The SQLite working copy of one org directory, and the writes the API makes to it."""

    def __init__(self, org_dir: Path, schema: OrgSchema, config: OrgConfig, clock: Clock) -> None:
        self.org_dir = org_dir
        self.schema = schema
        self.config = config
        self.clock = clock
        self.db_path = org_dir / "org.sqlite"
        self.work_files = org_dir / "org.files"
        self.lock = threading.RLock()
        self.conn: sqlite3.Connection | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def open(self, *, reset: bool = False) -> None:
        """Open ``org.sqlite``, building it from the org directory if missing or ``reset``."""
        with self.lock:
            self.close()
            builder = WorkingCopyBuilder(
                self.org_dir, self.db_path, self.schema, self.config, self.clock
            )
            fingerprint = builder.fingerprint()
            if not reset and self.db_path.exists() and built_from(self.db_path) != fingerprint:
                sys.stderr.write(
                    f"salesforce emulator: {self.org_dir} changed since org.sqlite was built; "
                    "reloading it (changes made through the API are discarded)\n"
                )
                reset = True
            if reset or not self.db_path.exists():
                builder.build(fingerprint)
            self.conn = sqlite3.connect(self.db_path, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        """Close the connection (the file stays)."""
        with self.lock:
            if self.conn is not None:
                self.conn.close()
                self.conn = None

    def _db(self) -> sqlite3.Connection:
        if self.conn is None:
            raise RuntimeError("the org store is not open")
        return self.conn

    # -- reads -----------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read statement and return every row."""
        with self.lock:
            return self._db().execute(sql, params).fetchall()

    def get_row(self, obj: ObjectSchema, record_id: str) -> dict[str, Any] | None:
        """A record's stored columns by id (deleted ones included), or None."""
        cols = [f["name"] for f in stored_fields(obj.describe)]
        rows = self.execute(
            f"SELECT {', '.join(map(quote_ident, cols))} FROM {quote_ident(obj.name)} "
            'WHERE "Id" = ?',
            (normalize_id(record_id),),
        )
        return dict(zip(cols, rows[0], strict=True)) if rows else None

    def blob_path(self, record_id: str) -> Path | None:
        """The file holding a record's binary body, or None."""
        for folder in (self.work_files, self.org_dir / "files"):
            candidate = folder / record_id
            if candidate.is_file():
                return candidate
        return None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction under the store lock."""
        with self.lock:
            conn = self._db()
            try:
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    # -- writes (REST API) -----------------------------------------------------------------

    def create(self, obj: ObjectSchema, values: Mapping[str, Any]) -> str:
        """Insert a record from an API body; returns its new 18-character id."""
        row, blob = self._api_values(obj, values, creating=True)
        missing = [
            f["name"]
            for f in obj.visible.values()
            if not f["nillable"]
            and f["createable"]
            and not f["defaultedOnCreate"]
            and f["type"] not in ("boolean", "address", "location", "base64")
            and row.get(f["name"]) is None
            and f["name"] not in ("OwnerId",)
        ]
        if missing:
            raise SalesforceApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                fields=missing,
            )
        with self.transaction() as conn:
            new_id = self.new_id(conn, obj)
            row["Id"] = new_id
            stamp = self.clock.stamp()
            fill_system_fields(obj, row, stamp, creating=True, user=self.config.user.id)
            if blob is not None:
                self._write_blob(obj, row, new_id, blob)
            if obj.name == "ContentVersion":
                from emulators.salesforce.content import publish_new_version

                publish_new_version(self, conn, row, stamp)
            self.insert_row(conn, obj, row)
        return new_id

    def insert_row(
        self, conn: sqlite3.Connection, obj: ObjectSchema, row: Mapping[str, Any]
    ) -> None:
        """Insert one complete row (inside a transaction)."""
        cols = list(row)
        conn.execute(
            f"INSERT INTO {quote_ident(obj.name)} ({', '.join(map(quote_ident, cols))}) "
            f"VALUES ({', '.join('?' for _ in cols)})",
            [row[c] for c in cols],
        )

    def new_row(self, obj: ObjectSchema, values: dict[str, Any], stamp: str) -> dict[str, Any]:
        """``values`` completed with system fields as a create would fill them."""
        fill_system_fields(obj, values, stamp, creating=True, user=self.config.user.id)
        return values

    def update(self, obj: ObjectSchema, record_id: str, values: Mapping[str, Any]) -> None:
        """Apply an API PATCH; maintains LastModifiedDate and SystemModstamp."""
        current = self._live_row(obj, record_id)
        row, blob = self._api_values(obj, values, creating=False)
        if obj.has_names and ("FirstName" in row or "LastName" in row):
            first = row.get("FirstName", current.get("FirstName"))
            last = row.get("LastName", current.get("LastName"))
            row["Name"] = " ".join(str(p) for p in (first, last) if p)
        stamp = self.clock.stamp()
        for name in _SYSTEM_SET_ON_WRITE:
            if name.lower() in obj.fields:
                row[name] = self.config.user.id if name.endswith("ById") else stamp
        if blob is not None:
            self._write_blob(obj, row, current["Id"], blob)
        self._set(obj, current["Id"], row)

    def delete(self, obj: ObjectSchema, record_id: str) -> None:
        """Soft-delete: the row stays for ``queryAll`` with ``IsDeleted`` true.

        Like Salesforce, the delete cascades to what the record owns: an account's contacts
        and opportunities, and every deleted record's tasks and events (``WhoId``/``WhatId``)
        and notes and attachments (``ParentId``) go to the recycle bin with it.
        """
        current = self._live_row(obj, record_id)
        self._soft_delete(obj, current["Id"], self.clock.stamp())

    def purge(self, record_ids: list[str]) -> int:
        """Empty deleted records from the recycle bin: the rows are removed for good.

        Raises:
            ValueError: an id that is not a deleted record of this org.
        """
        found: list[tuple[ObjectSchema, str]] = []
        for record_id in record_ids:
            obj = self.schema.object_for_id(record_id)
            row = self.get_row(obj, record_id) if obj is not None else None
            if obj is None or row is None or not row.get("IsDeleted"):
                raise ValueError(f"{record_id} is not a deleted record (delete it first)")
            found.append((obj, str(row["Id"])))
        with self.transaction() as conn:
            for obj, record_id in found:
                conn.execute(f'DELETE FROM {quote_ident(obj.name)} WHERE "Id" = ?', [record_id])
        return len(found)

    def _soft_delete(self, obj: ObjectSchema, record_id: str, stamp: str) -> None:
        row: dict[str, Any] = {"IsDeleted": 1}
        for name in _SYSTEM_SET_ON_WRITE:
            if name.lower() in obj.fields:
                row[name] = self.config.user.id if name.endswith("ById") else stamp
        self._set(obj, record_id, row)
        for child_name, fields in _CASCADE.items():
            child = self.schema.get(child_name)
            if child is None:
                continue
            for field_name in fields:
                if field_name.lower() not in child.fields:
                    continue
                if child_name in ("Contact", "Opportunity") and obj.name != "Account":
                    continue
                rows = self.execute(
                    f'SELECT "Id" FROM {quote_ident(child.name)} WHERE '
                    f'{quote_ident(field_name)} = ? AND "IsDeleted" = 0',
                    (record_id,),
                )
                for (child_id,) in rows:
                    self._soft_delete(child, str(child_id), stamp)

    def _set(self, obj: ObjectSchema, record_id: str, row: Mapping[str, Any]) -> None:
        if not row:
            return
        assignments = ", ".join(f"{quote_ident(c)} = ?" for c in row)
        with self.transaction() as conn:
            conn.execute(
                f'UPDATE {quote_ident(obj.name)} SET {assignments} WHERE "Id" = ?',
                [*row.values(), record_id],
            )

    def _live_row(self, obj: ObjectSchema, record_id: str) -> dict[str, Any]:
        current = self.get_row(obj, record_id)
        if current is None or current["Id"][:3] != obj.key_prefix:
            raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if current.get("IsDeleted"):
            raise SalesforceApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return current

    def _api_values(
        self, obj: ObjectSchema, values: Mapping[str, Any], *, creating: bool
    ) -> tuple[dict[str, Any], bytes | None]:
        row: dict[str, Any] = {}
        blob: bytes | None = None
        readonly: list[str] = []
        for key, value in values.items():
            if key == "attributes":
                continue
            meta = obj.visible.get(key.lower())
            if meta is None:
                raise SalesforceApiError(
                    400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                )
            allowed = meta["createable"] if creating else meta["updateable"]
            if not allowed:
                readonly.append(meta["name"])
                continue
            if meta["type"] == "base64":
                try:
                    blob = base64.b64decode(str(value), validate=True)
                except ValueError:
                    raise SalesforceApiError(
                        400, "JSON_PARSER_ERROR", f"{meta['name']}: value is not valid base64"
                    ) from None
                continue
            try:
                converted = to_column(meta, value, obj.name)
            except (ValueError, TypeError) as exc:
                raise SalesforceApiError(
                    400, "JSON_PARSER_ERROR", f"{exc}", fields=[meta["name"]]
                ) from None
            check_api_value(meta, converted)
            row[meta["name"]] = converted
        if readonly:
            raise SalesforceApiError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(readonly)}. Please check the "
                "security settings of this field and verify that it is read/write for your "
                "profile or permission set.",
                fields=readonly,
            )
        return row, blob

    def _write_blob(self, obj: ObjectSchema, row: dict[str, Any], rid: str, blob: bytes) -> None:
        self.work_files.mkdir(parents=True, exist_ok=True)
        (self.work_files / rid).write_bytes(blob)
        if obj.name == "ContentVersion":
            row["ContentSize"] = len(blob)
            row["Checksum"] = hashlib.md5(blob).hexdigest()  # noqa: S324 - what Salesforce reports
            path = row.get("PathOnClient")
            if path and "." in str(path):
                row["FileExtension"] = str(path).rsplit(".", 1)[1].lower()
            row.setdefault("IsLatest", 1)
            row.setdefault("VersionNumber", "1")
        elif obj.name == "Attachment":
            row["BodyLength"] = len(blob)

    def new_id(self, conn: sqlite3.Connection, obj: ObjectSchema) -> str:
        """A fresh id with the object's key prefix (inside a transaction)."""
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _emulator_ids (prefix TEXT PRIMARY KEY, next INTEGER)"
        )
        got = conn.execute(
            "SELECT next FROM _emulator_ids WHERE prefix = ?", (obj.key_prefix,)
        ).fetchone()
        counter = int(got[0]) if got else 1
        while True:
            digits = ""
            n = counter
            while n:
                n, rem = divmod(n, 62)
                digits = _BASE62[rem] + digits
            candidate = normalize_id(obj.key_prefix + "7EM" + digits.rjust(9, "0"))
            counter += 1
            clash = conn.execute(
                f'SELECT 1 FROM {quote_ident(obj.name)} WHERE "Id" = ?', (candidate,)
            ).fetchone()
            if not clash:
                break
        conn.execute(
            "INSERT OR REPLACE INTO _emulator_ids (prefix, next) VALUES (?, ?)",
            (obj.key_prefix, counter),
        )
        return candidate
