"""Build an org's working copy (``org.sqlite``) from its org directory.

Every record is checked against the object's metadata; problems are collected (up to 25) and
reported together, naming the file, the line and the field, and nothing is written unless the
whole directory loads. A fingerprint of the inputs is stored so a changed directory is noticed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emulators.salesforce.content import file_type
from emulators.salesforce.errors import OrgDirectoryError
from emulators.salesforce.fields import fill_system_fields, quote_ident, to_column
from emulators.salesforce.orgdir import OrgConfig
from emulators.salesforce.schema import COLUMN_AFFINITY, ObjectSchema, OrgSchema, stored_fields
from emulators.salesforce.values import Clock, format_datetime

__all__ = ["WorkingCopyBuilder", "built_from", "create_table"]

_MAX_PROBLEMS = 25
_BLOB_FIELDS = {"ContentVersion": "VersionData", "Attachment": "Body"}


def built_from(db_path: Path) -> str | None:
    """The fingerprint ``db_path`` was built from, or None (missing, foreign or damaged)."""
    try:
        conn = sqlite3.connect(db_path)
        try:
            row = conn.execute(
                "SELECT value FROM _emulator_meta WHERE key = 'fingerprint'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def create_table(conn: sqlite3.Connection, obj: ObjectSchema) -> None:
    """One table per object; indexes on references, SystemModstamp and IsDeleted."""
    cols = []
    for f in stored_fields(obj.describe):
        affinity = COLUMN_AFFINITY.get(f["type"], "TEXT")
        extra = " PRIMARY KEY" if f["name"] == "Id" else ""
        cols.append(f"{quote_ident(f['name'])} {affinity}{extra}")
    table = quote_ident(obj.name)
    conn.execute(f"CREATE TABLE {table} ({', '.join(cols)})")
    for f in stored_fields(obj.describe):
        if f["type"] == "reference" or f["name"] in ("SystemModstamp", "IsDeleted"):
            index = quote_ident(f"ix_{obj.name}_{f['name']}")
            conn.execute(f"CREATE INDEX {index} ON {table} ({quote_ident(f['name'])})")


class WorkingCopyBuilder:
    """Loads one org directory into a fresh SQLite file."""

    def __init__(
        self, org_dir: Path, db_path: Path, schema: OrgSchema, config: OrgConfig, clock: Clock
    ) -> None:
        self.org_dir = org_dir
        self.db_path = db_path
        self.work_files = org_dir / "org.files"
        self.schema = schema
        self.config = config
        self.clock = clock

    def fingerprint(self) -> str:
        """A digest of the org directory's inputs (names, sizes, modification times)."""
        digest = hashlib.sha256()
        paths = [self.org_dir / "org.json"]
        paths += sorted((self.org_dir / "schema").glob("*.json"))
        paths += sorted((self.org_dir / "data").glob("*.jsonl"))
        for path in paths:
            if path.exists():
                st = path.stat()
                digest.update(
                    f"{path.relative_to(self.org_dir)}:{st.st_size}:{st.st_mtime_ns};".encode()
                )
        return digest.hexdigest()

    def build(self, fingerprint: str) -> None:
        """Write ``org.sqlite`` from the directory (atomically: a failed load leaves none)."""
        tmp = self.db_path.with_suffix(".sqlite.building")
        tmp.unlink(missing_ok=True)
        shutil.rmtree(self.work_files, ignore_errors=True)
        conn = sqlite3.connect(tmp)
        try:
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            for obj in self.schema.objects.values():
                create_table(conn, obj)
            problems = self._load_data(conn)
            if problems:
                raise OrgDirectoryError(problems[:_MAX_PROBLEMS], source=str(self.org_dir))
            self._ensure_integration_user(conn)
            self._ensure_organization(conn)
            conn.execute("CREATE TABLE _emulator_meta (key TEXT PRIMARY KEY, value TEXT)")
            conn.execute("INSERT INTO _emulator_meta VALUES ('fingerprint', ?)", (fingerprint,))
            conn.commit()
        finally:
            conn.close()
        for suffix in ("-wal", "-shm"):
            Path(str(self.db_path) + suffix).unlink(missing_ok=True)
        tmp.replace(self.db_path)

    def _load_data(self, conn: sqlite3.Connection) -> list[str]:
        problems: list[str] = []
        data_dir = self.org_dir / "data"
        if not data_dir.is_dir():
            return problems
        load_stamp = format_datetime(self.clock.now())
        for path in sorted(data_dir.glob("*.jsonl")):
            obj = self.schema.get(path.stem)
            if obj is None:
                problems.append(
                    f"{path}: no object named {path.stem!r} in the built-in metadata or "
                    "schema/; add schema/<Object>.json for a custom object"
                )
                continue
            columns = [f["name"] for f in stored_fields(obj.describe)]
            sql = (
                f"INSERT INTO {quote_ident(obj.name)} ({', '.join(map(quote_ident, columns))}) "
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            batch: list[list[Any]] = []
            with path.open(encoding="utf-8") as lines:
                for lineno, line in enumerate(lines, 1):
                    if not line.strip():
                        continue
                    try:
                        raw = json.loads(line)
                        if not isinstance(raw, dict):
                            raise TypeError("a record must be a JSON object")
                        row = self._row_from_file(obj, raw, load_stamp)
                    except (ValueError, TypeError) as exc:
                        problems.append(f"{path} line {lineno}: {exc}")
                        if len(problems) >= _MAX_PROBLEMS:
                            return problems
                        continue
                    batch.append([row.get(c) for c in columns])
                    if len(batch) >= 5000:
                        conn.executemany(sql, batch)
                        batch.clear()
            try:
                if batch:
                    conn.executemany(sql, batch)
            except sqlite3.IntegrityError as exc:
                problems.append(f"{path}: {exc} (every Id must be unique)")
        return problems

    def _row_from_file(
        self, obj: ObjectSchema, raw: Mapping[str, Any], load_stamp: str
    ) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "attributes":
                continue
            meta = obj.fields.get(key.lower())
            if meta is None:
                raise ValueError(
                    f"field {key!r} does not exist on {obj.name}; declare it in "
                    f"schema/{obj.name}.json"
                )
            if meta["type"] in ("address", "location"):
                raise ValueError(
                    f"{obj.name}.{meta['name']} is a compound field; store its parts instead"
                )
            if meta["type"] == "base64":
                continue
            row[meta["name"]] = to_column(meta, value, obj.name)
        if not row.get("Id"):
            raise ValueError(f"{obj.name} record has no Id")
        fill_system_fields(obj, row, load_stamp, creating=True, user=self.config.user.id)
        if obj.name in _BLOB_FIELDS:
            self._fill_blob_facts(obj, row)
        return row

    def _fill_blob_facts(self, obj: ObjectSchema, row: dict[str, Any]) -> None:
        path = self.org_dir / "files" / str(row["Id"])
        size = path.stat().st_size if path.is_file() else None
        if obj.name == "ContentVersion":
            if row.get("ContentSize") is None:
                row["ContentSize"] = size
            if row.get("PathOnClient") and not row.get("FileExtension"):
                ext = str(row["PathOnClient"]).rsplit(".", 1)
                row["FileExtension"] = ext[1].lower() if len(ext) == 2 else None
            if not row.get("FileType"):
                row["FileType"] = file_type(row.get("FileExtension"))
            if row.get("IsLatest") is None:
                row["IsLatest"] = 1
        elif obj.name == "Attachment" and row.get("BodyLength") is None:
            row["BodyLength"] = size

    def _ensure_organization(self, conn: sqlite3.Connection) -> None:
        """The one ``Organization`` row every org has, with ``org.json``'s id and name."""
        obj = self.schema.get("Organization")
        if obj is None or conn.execute('SELECT 1 FROM "Organization"').fetchone():
            return
        row: dict[str, Any] = {
            "Id": self.config.org_id,
            "Name": self.config.name[:80],
            "OrganizationType": "Enterprise Edition",
            "IsSandbox": 0,
            "InstanceName": "EMU1",
        }
        fill_system_fields(
            obj, row, format_datetime(self.clock.now()), creating=True, user=self.config.user.id
        )
        cols = list(row)
        conn.execute(
            f'INSERT INTO "Organization" ({", ".join(map(quote_ident, cols))}) '
            f"VALUES ({', '.join('?' for _ in cols)})",
            [row[c] for c in cols],
        )

    def _ensure_integration_user(self, conn: sqlite3.Connection) -> None:
        user = self.config.user
        found = conn.execute('SELECT 1 FROM "User" WHERE "Id" = ?', (user.id,)).fetchone()
        if found:
            return
        obj = self.schema.get("User")
        assert obj is not None
        row: dict[str, Any] = {
            "Id": user.id,
            "Username": user.username,
            "LastName": "Integration",
            "FirstName": "Migration",
            "Email": user.username,
            "Alias": "integ",
            "IsActive": 1,
            "TimeZoneSidKey": "GMT",
            "LocaleSidKey": "en_US",
            "EmailEncodingKey": "UTF-8",
            "LanguageLocaleKey": "en_US",
            "UserType": "Standard",
        }
        fill_system_fields(obj, row, format_datetime(self.clock.now()), creating=True, user=user.id)
        cols = list(row)
        conn.execute(
            f'INSERT INTO "User" ({", ".join(map(quote_ident, cols))}) '
            f"VALUES ({', '.join('?' for _ in cols)})",
            [row[c] for c in cols],
        )
