"""The state of one emulated Dataverse environment: metadata, keys, users, tokens, versions.

Standard tables come from the cited metadata file; custom columns and alternate keys created
through the metadata API are stored in SQLite and re-applied on start, so a restart with the
same ``--data`` directory sees the same schema and rows.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from emulators.dataverse.errors import DataverseFault, odata_error
from emulators.dataverse.metadata import Column, Table, load_standard_tables
from emulators.dataverse.store import Store
from emulators.dataverse.values import format_datetime

_NS = uuid.UUID("5d0d9a8e-3b7e-5c61-8a42-6b8f0f4a2c10")
APP_USER_ID = str(uuid.uuid5(_NS, "application-user"))
ORG_ID = str(uuid.uuid5(_NS, "organization"))
BUSINESS_UNIT_ID = str(uuid.uuid5(_NS, "business-unit"))
DEFAULT_MAX_UPLOAD = 5_242_880


@dataclass
class Options:
    """Behaviour switches fixed at start (``--owner-disabled-check``, key build delay)."""

    owner_disabled_check: bool = True
    key_activation_seconds: float = 1.0


@dataclass
class KeyDef:
    """An alternate key; its index is Pending until ``activation_seconds`` have passed.

    When the delay is over the index "job" runs once: if existing rows already share key
    values the key becomes ``Failed`` (as real Dataverse's index job fails), else ``Active``.
    The outcome is stored in ``outcome``.
    """

    entity: str
    schema_name: str
    attributes: list[str]
    created: float
    metadata_id: str = field(default="")
    outcome: str | None = None


class Environment:
    """Everything the request handlers share. Thread-safe through the store's lock."""

    def __init__(
        self, data_dir: Path, options: Options | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.data_dir = data_dir
        self.options = options or Options()
        self.clock = clock
        self.store = Store(data_dir)
        self._version_lock = threading.Lock()
        # Chunked note transfers in progress, by continuation token (memory only).
        self.block_uploads: dict[str, dict[str, Any]] = {}
        self.block_downloads: dict[str, bytes] = {}
        self.load()

    def load(self) -> None:
        """(Re)build metadata from the standard file plus stored customisations; seed defaults."""
        self.tables: dict[str, Table] = load_standard_tables()
        for entity, _name, spec in self.store.specs("custom_column"):
            # JSON keeps choice values as strings and targets as a list: give back the types.
            spec["options"] = {int(k): v for k, v in (spec.get("options") or {}).items()}
            spec["targets"] = tuple(spec.get("targets", ()))
            self.tables[entity].columns[spec["logical"]] = Column(**spec)
        self.keys: dict[str, list[KeyDef]] = {}
        for entity, _name, spec in self.store.specs("entity_key"):
            self.keys.setdefault(entity, []).append(KeyDef(**spec))
        self.by_set = {t.entity_set: t for t in self.tables.values()}
        self.version = self.store.max_version(self.tables)
        self._index_lookups()
        self._seed()

    def _index_lookups(self) -> None:
        """Index the lookups that deletes cascade over and parties are read by."""
        self.store.ensure_index("activityparty", "activityid", ["activityid"])
        self.store.ensure_index("annotation", "objectid", ["objectid"])
        for table in self.tables.values():
            if table.is_activity:
                self.store.ensure_index(table.logical, "regarding", ["regardingobjectid"])
        self.store.ensure_index("activityparty", "partyid", ["partyid"])
        for table, column in self.removable_links():
            self.store.ensure_index(table.logical, column.logical, [column.logical])
        for entity, keys in self.keys.items():
            for kdef in keys:
                self.store.ensure_index(entity, kdef.schema_name.lower(), kdef.attributes)

    def removable_links(self, target: str | None = None) -> list[tuple[Table, Column]]:
        """Lookups that deleting a ``target`` row clears (Remove Link), by table and column.

        Owner and system lookups (to users, teams, business units) and the cascading ones
        (regarding, note object, party activity) are not in this list.
        """
        cascading = {"regardingobjectid", "objectid", "activityid", "partyid"}
        out = []
        for table in self.tables.values():
            for column in table.columns.values():
                if column.type not in ("Lookup", "Customer") or column.logical in cascading:
                    continue
                if not (column.valid_create or column.valid_update):
                    continue
                if target is None or target in column.targets:
                    out.append((table, column))
        return out

    def _seed(self) -> None:
        now = self.now_iso()
        if self.store.get("organization", ORG_ID) is None:
            self.store.put_many(
                "organization",
                [
                    (
                        ORG_ID,
                        {
                            "organizationid": ORG_ID,
                            "name": "emulator",
                            "maxuploadfilesize": DEFAULT_MAX_UPLOAD,
                            "languagecode": 1033,
                            "createdon": now,
                            "modifiedon": now,
                            "versionnumber": self.next_version(),
                        },
                    )
                ],
            )
        if self.store.get("systemuser", APP_USER_ID) is None:
            self.add_user(
                {
                    "systemuserid": APP_USER_ID,
                    "fullname": "# Migration Application User",
                    "internalemailaddress": "migration-app@emulator.invalid",
                    "accessmode": 4,
                    "applicationid": str(uuid.uuid5(_NS, "application-id")),
                }
            )
        if not self.store.kv_get("default_token"):
            token = secrets.token_urlsafe(32)
            self.store.put_token(token, APP_USER_ID)
            self.store.kv_set("default_token", token)
        self.default_token: str = self.store.kv_get("default_token")
        self._tokens = self.store.tokens()

    # -- clock and versions -------------------------------------------------------------------
    def now_iso(self) -> str:
        """Current time as Dataverse writes it."""
        import datetime as dt

        return format_datetime(dt.datetime.fromtimestamp(self.clock(), dt.UTC))

    def next_version(self) -> int:
        """A new, globally increasing row version (the ETag is ``W/"<version>"``)."""
        with self._version_lock:
            self.version += 1
            return self.version

    # -- lookups ------------------------------------------------------------------------------
    def table_by_set(self, entity_set: str) -> Table:
        """The table of an entity set name, or the real 404 for an unknown segment."""
        table = self.by_set.get(entity_set)
        if table is None:
            raise odata_error(f"Resource not found for the segment '{entity_set}'.", 404)
        return table

    def table(self, logical: str) -> Table:
        """A table by logical name (metadata API), or the real 404 message."""
        table = self.tables.get(logical)
        if table is None:
            raise DataverseFault(404, "0x80060888", f"Could not find entity with name '{logical}'.")
        return table

    def key_status(self, kdef: KeyDef) -> str:
        """Pending, then Active or Failed once the index job has run (see :class:`KeyDef`)."""
        if kdef.outcome is not None:
            return kdef.outcome
        if self.clock() - kdef.created < self.options.key_activation_seconds:
            return "Pending"
        duplicated = self.store.has_duplicates(kdef.entity, kdef.attributes)
        kdef.outcome = "Failed" if duplicated else "Active"
        self.store.put_spec("entity_key", kdef.entity, kdef.schema_name, asdict(kdef))
        return kdef.outcome

    def active_keys(self, logical: str) -> list[KeyDef]:
        """Alternate keys whose index is Active (only those can address rows)."""
        return [k for k in self.keys.get(logical, []) if self.key_status(k) == "Active"]

    def user_for_token(self, token: str) -> str | None:
        """The systemuserid a bearer token stands for."""
        return self._tokens.get(token)

    def issue_token(self, systemuserid: str) -> str:
        """A new bearer token for an existing user."""
        token = secrets.token_urlsafe(32)
        self.store.put_token(token, systemuserid)
        self._tokens[token] = systemuserid
        return token

    def add_user(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Create (or replace) a systemuser row from admin input; returns the stored row."""
        uid = (
            str(uuid.UUID(spec["systemuserid"])) if spec.get("systemuserid") else str(uuid.uuid4())
        )
        now = self.now_iso()
        full = spec.get("fullname") or spec.get("internalemailaddress") or uid
        first, _, last = str(full).partition(" ")
        row = {
            "systemuserid": uid,
            "fullname": full,
            "firstname": spec.get("firstname", first),
            "lastname": spec.get("lastname", last or first),
            "internalemailaddress": spec.get("internalemailaddress"),
            "domainname": spec.get("internalemailaddress"),
            "isdisabled": bool(spec.get("isdisabled", False)),
            "accessmode": spec.get("accessmode", 0),
            "applicationid": spec.get("applicationid"),
            "createdon": now,
            "modifiedon": now,
            "versionnumber": self.next_version(),
        }
        self.store.put_many("systemuser", [(uid, row)])
        return row

    def organization(self) -> dict[str, Any]:
        """The single organization row."""
        row = self.store.get("organization", ORG_ID)
        assert row is not None
        return row

    def reset(self) -> None:
        """Drop every row and customisation; keep the default user and its token."""
        token = self.default_token
        self.store.drop_all_rows()
        self.store.put_token(token, APP_USER_ID)
        self.store.kv_set("default_token", token)
        self.load()
