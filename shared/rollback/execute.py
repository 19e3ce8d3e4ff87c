"""Apply a rollback entry by entry, recording every row's outcome on the stage.

Resumable and idempotent: each journal entry's outcome is stored once it is applied
(``<rollback run>/rollback/entries/<entry>.json``); a rerun skips entries already done, and
re-reading the rows of a half-done entry turns finished rows into ``already_gone`` /
``already_restored``. Deletes and restores carry ``If-Match`` with the ETag just read, so a
change made in between is kept (the server answers 412) rather than overwritten.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

import httpx

from shared.crashpoints import reach
from shared.dataverse.client import DataverseClient
from shared.dataverse.journal import JournalEntry, read_run_journal
from shared.dataverse.metadata import TableInfo, fetch_table
from shared.dataverse.reads import read_by_ids
from shared.delta.deletions import body_key, parties_key
from shared.rollback.actions import (
    TABLE_ANNOTATION,
    RowAction,
    changed_by_someone_else,
    plan_entry,
    recreate_payload,
)
from shared.stage.base import Stage


def entry_name(entry: JournalEntry) -> str:
    """A stable, stage-safe name for one journal entry."""
    return f"{entry.phase_index:02d}-{entry.object}-{entry.batch:05d}-{entry.seq:04d}-{entry.kind}"


def outcome_key(rollback_id: str, entry: JournalEntry) -> str:
    """Where the outcome of one entry is stored."""
    return f"{rollback_id}/rollback/entries/{entry_name(entry)}.json"


def created_by_run(entries: Iterable[JournalEntry]) -> set[str]:
    """Every id any entry of the run created (lower case)."""
    return {i.lower() for e in entries for i in e.created}


class Rollback:
    """Undo one run's journal with one Dataverse client.

    Args:
        client: Connected Dataverse client (``connect()`` called: its user id is one of the
            migration's identities).
        stage: The stage holding the run's journal and the rollback's outcomes.
        target_run_id: The run to undo.
        rollback_id: This rollback's own run id (its outcomes and history live under it).
        dry_run: Decide and record, but write nothing.
        migration_users: Extra systemuser ids the migration wrote as (besides the client's).
    """

    def __init__(
        self,
        client: DataverseClient,
        stage: Stage,
        *,
        target_run_id: str,
        rollback_id: str,
        dry_run: bool = False,
        migration_users: Iterable[str] = (),
    ) -> None:
        self.client = client
        self.stage = stage
        self.target_run_id = target_run_id
        self.rollback_id = rollback_id
        self.dry_run = dry_run
        users = {u.lower() for u in migration_users}
        if client.user_id:
            users.add(client.user_id.lower())
        self.migration_users = users
        self._tables: dict[str, TableInfo] = {}
        self._entries: list[JournalEntry] | None = None

    def entries(self) -> list[JournalEntry]:
        """The run's journal, in undo order (cached)."""
        if self._entries is None:
            self._entries = read_run_journal(self.stage, self.target_run_id)
        return self._entries

    async def _table(self, logical: str) -> TableInfo:
        if logical not in self._tables:
            self._tables[logical] = await fetch_table(self.client, logical)
        return self._tables[logical]

    async def _entity_sets(self, entry: JournalEntry) -> dict[str, str]:
        tables = {entry.table: entry.entity_set}
        for pre in entry.pre_images.values():
            for key, value in pre.get("values", {}).items():
                if (
                    key.endswith(TABLE_ANNOTATION)
                    and isinstance(value, str)
                    and value not in tables
                ):
                    tables[value] = (await self._table(value)).entity_set
        return tables

    async def apply(self, entry: JournalEntry) -> dict[str, Any]:
        """Undo one entry (or reuse its stored outcome); return the outcome record."""
        key = outcome_key(self.rollback_id, entry)
        if self.stage.exists(key):
            stored: dict[str, Any] = json.loads(self.stage.get_bytes(key))
            return stored
        table = await self._table(entry.table)
        ids = list(entry.created) + list(entry.pre_images)
        current = await read_by_ids(self.client, table, ids) if ids else {}
        actions = plan_entry(
            entry,
            current,
            migration_users=self.migration_users,
            created_by_run=created_by_run(self.entries()),
            entity_sets=await self._entity_sets(entry),
        )
        rows = [await self._perform(entry, action) for action in actions]
        record = {
            "entry": entry_name(entry),
            "table": entry.table,
            "kind": entry.kind,
            "dry_run": self.dry_run,
            "rows": rows,
        }
        self.stage.put_bytes(key, json.dumps(record, sort_keys=True).encode("utf-8"))
        return record

    async def _perform(self, entry: JournalEntry, action: RowAction) -> dict[str, Any]:
        row = {k: v for k, v in asdict(action).items() if k != "etag"}
        row["object"] = entry.object
        if self.dry_run or action.outcome not in {"delete", "restore", "recreate"}:
            if self.dry_run and action.outcome in {"delete", "restore", "recreate"}:
                row["outcome"] = f"would_{action.outcome}"
            return _done(row)
        if action.outcome == "recreate":
            row.update(await self._recreate(entry, action.id))
            reach("rollback.row")
            return _done(row)
        if entry.kind == "parties":
            row.update(await self._restore_parties(entry, action.id, action.payload))
            reach("rollback.row")
            return _done(row)
        path = f"{entry.entity_set}({action.id})"
        etag = action.etag
        for _attempt in range(4):
            status = await self._write(entry, action, path, etag)
            if status != 412:
                break
            # The row changed since it was read. If the change was the rollback's own doing
            # (deleting a parent clears its children's lookups), try again with the new ETag;
            # if anyone else changed it, it is kept.
            current = await read_by_ids(self.client, await self._table(entry.table), [action.id])
            row_now = current.get(action.id.lower())
            if row_now is None:
                status = 404
                break
            reason = changed_by_someone_else(row_now, self.migration_users)
            if reason:
                row["reason"] = reason
                break
            etag = row_now.get("@odata.etag")
        reach("rollback.row")
        if action.outcome == "delete":
            row["outcome"] = {404: "already_gone", 412: "kept"}.get(status, "deleted")
        else:
            row["outcome"] = {404: "already_gone", 412: "kept"}.get(status, "restored")
        if row["outcome"] == "kept" and not row.get("reason"):
            row["reason"] = "changed between the rollback's read and its write"
        return _done(row)

    async def _recreate(self, entry: JournalEntry, rid: str) -> dict[str, Any]:
        """Put back a row a delta deleted: same id, its columns, then its state."""
        table = await self._table(entry.table)
        pre = entry.pre_images[rid]
        body, state = recreate_payload(pre, table, await self._entity_sets(entry))
        stored = body_key(entry.run_id, rid)
        if table.logical == "annotation" and self.stage.exists(stored):
            body["documentbody"] = base64.b64encode(self.stage.get_bytes(stored)).decode()
        party_list = parties_key(entry.run_id, rid)
        if table.is_activity and self.stage.exists(party_list):
            body[f"{table.logical}_activity_parties"] = json.loads(self.stage.get_bytes(party_list))
        response = await self._patch(
            entry, rid, body, "recreate", {"If-None-Match": "*"}, frozenset({412})
        )
        if response.status_code == 412:
            return {"outcome": "already_restored", "reason": "the row exists"}
        if state:
            changed = await self._patch(entry, rid, state, "restore state", ok=frozenset({400}))
            if changed.status_code == 400:
                return {
                    "outcome": "recreated",
                    "reason": f"re-created open: its state {state} was refused "
                    f"({changed.text[:200]}); close it in Dynamics",
                }
        return {"outcome": "recreated"}

    async def _restore_parties(
        self, entry: JournalEntry, rid: str, pre: dict[str, Any]
    ) -> dict[str, Any]:
        """Put back an activity's party list; a closed activity is reopened around it."""
        closed = pre.get("statecode") not in (None, 0)

        async def patch(body: dict[str, Any], what: str) -> int:
            return (await self._patch(entry, rid, body, what, ok=frozenset({404}))).status_code

        if closed and await patch({"statecode": 0}, "reopen") == 404:
            return {"outcome": "already_gone"}
        status = await patch({f"{entry.table}_activity_parties": pre["parties"]}, "parties")
        if status == 404:
            return {"outcome": "already_gone"}
        if closed:
            state = {"statecode": pre["statecode"], "statuscode": pre.get("statuscode")}
            await patch(state, "re-close")
        return {"outcome": "restored"}

    async def _patch(
        self,
        entry: JournalEntry,
        rid: str,
        body: dict[str, Any],
        what: str,
        headers: dict[str, str] | None = None,
        ok: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """One PATCH of a journalled row (``If-Match: *`` unless ``headers`` say otherwise)."""
        return await self.client.request(
            "PATCH",
            f"{entry.entity_set}({rid})",
            json=body,
            headers=headers or {"If-Match": "*"},
            ok_statuses=ok,
            action=f"rollback {what} {entry.entity_set}",
            object_name=entry.table,
            record_id=rid,
        )

    async def _write(
        self, entry: JournalEntry, action: RowAction, path: str, etag: str | None
    ) -> int:
        headers = {"If-Match": etag or "*"}
        response = await self.client.request(
            "DELETE" if action.outcome == "delete" else "PATCH",
            path,
            json=None if action.outcome == "delete" else action.payload,
            headers=headers,
            ok_statuses=frozenset({404, 412}),
            action=f"rollback {action.outcome} {entry.entity_set}",
            object_name=entry.table,
            record_id=action.id,
        )
        return response.status_code


def _done(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("payload", None)
    return row
