"""Apply the source's deletions to the target, journalled so a rollback can put rows back.

Policies (``delta.delete_policy``):

- ``delete`` (default): the row is deleted. Before that, its full pre-image is journalled
  (kind ``delete``), and so are the rows Dataverse would delete with it by cascade (the
  activities regarding it and the notes attached to it), which are deleted first, explicitly,
  so nothing leaves the target without a journal entry. Note bodies are kept on the stage
  beside the journal (``<run>/deleted-bodies/<id>``).
- ``deactivate``: the row is set inactive (``statecode`` only, so the state's default status
  applies: account/contact Inactive, lead Disqualified, activities Canceled), journalled as a
  state change (kind ``close``). Tables with no inactive state (notes, and opportunities, which
  close only through Win/Lose) are reported, not changed.
- ``report``: nothing is changed; every deletion is listed in the delta report.

Journal placement: deletions go after the delta's loads, children before parents. Their
journal phase index is ``200 - phase`` for the deleted rows and ``100`` for cascade rows, so a
rollback (which walks phase indexes downwards) re-creates parents first, then their children,
then the cascaded activities and notes.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.crashpoints import reach
from shared.dataverse.context import LoadContext
from shared.dataverse.journal import Journal
from shared.dataverse.metadata import TableInfo
from shared.dataverse.reads import LOOKUP_ANNOTATIONS, read_by_ids
from shared.quoting import odata_quote
from shared.rollback.actions import NAV_ANNOTATION, TABLE_ANNOTATION
from shared.stage.base import Stage

__all__ = [
    "CASCADE_PHASE_INDEX",
    "INACTIVE_STATE",
    "DeletionResult",
    "apply_deletions",
    "body_key",
    "deletion_phase_index",
]

Policy = Literal["delete", "deactivate", "report"]
INACTIVE_STATE: dict[str, int] = {
    "account": 1,
    "contact": 1,
    "lead": 2,
    "task": 2,
    "phonecall": 2,
    "appointment": 2,
    "email": 2,
}
CASCADE_PHASE_INDEX = 100
LINK_PHASE_INDEX = 50
_FILTER_CHUNK = 50


def deletion_phase_index(phase_index: int) -> int:
    """Journal phase index of the deletions of one load phase (parents undone first)."""
    return 200 - phase_index


def body_key(run_id: str, row_id: str) -> str:
    """Where a deleted note's body is kept for a rollback."""
    return f"{run_id}/deleted-bodies/{row_id.lower()}"


@dataclass
class DeletionResult:
    """What happened to the deletions of one mapping entry."""

    entry: str
    table: str
    requested: int = 0
    deleted: int = 0
    deactivated: int = 0
    already_gone: int = 0
    cascade_deleted: int = 0
    not_applied: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "table": self.table,
            "requested": self.requested,
            "deleted": self.deleted,
            "deactivated": self.deactivated,
            "already_gone": self.already_gone,
            "cascade_deleted": self.cascade_deleted,
            "not_applied": self.not_applied,
            "rows": self.rows,
        }


def parties_key(run_id: str, row_id: str) -> str:
    """Where a deleted activity's party list is kept for a rollback."""
    return f"{run_id}/deleted-parties/{row_id.lower()}.json"


def _or(column: str, ids: list[str]) -> str:
    return " or ".join(f"{column} eq {odata_quote(uuid.UUID(i))}" for i in ids)


async def _find(
    context: LoadContext, table: TableInfo, column: str, ids: list[str], select: str
) -> list[dict[str, Any]]:
    """Rows of ``table`` whose ``column`` is one of ``ids`` (lookup annotations included)."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), _FILTER_CHUNK):
        part = ids[start : start + _FILTER_CHUNK]
        async for row in context.client.get_all(
            table.entity_set,
            params={"$select": select, "$filter": _or(column, part)},
            headers={"Prefer": LOOKUP_ANNOTATIONS},
            action=f"read {table.entity_set} that point at deleted rows",
        ):
            out.append(row)
    return out


def _party_item(row: dict[str, Any], entity_sets: dict[str, str]) -> dict[str, Any]:
    """One party as the loader writes it: a bound party, or the address used."""
    item: dict[str, Any] = {"participationtypemask": row.get("participationtypemask")}
    logical = row.get("_partyid_value" + TABLE_ANNOTATION)
    if row.get("_partyid_value") and isinstance(logical, str) and logical in entity_sets:
        item[f"partyid_{logical}@odata.bind"] = f"/{entity_sets[logical]}({row['_partyid_value']})"
    else:
        item["addressused"] = row.get("addressused")
    return item


@dataclass
class _Deleter:
    """Deletes rows with what hangs on them, journalling everything a rollback needs."""

    context: LoadContext
    stage: Stage
    run_id: str
    entry: str
    phase_index: int
    tables: list[TableInfo]
    result: DeletionResult

    async def _entity_sets(self) -> dict[str, str]:
        out = {t.logical: t.entity_set for t in self.tables}
        for logical in ("systemuser", "contact", "lead", "account"):
            if logical not in out:
                out[logical] = (await self.context.table(logical)).entity_set
        return out

    async def party_lists(self, table: TableInfo, ids: list[str]) -> dict[str, list[Any]]:
        """The party lists of activities ``ids`` of ``table``, in a stable order."""
        parties = await self.context.table("activityparty")
        rows = await _find(
            self.context,
            parties,
            "_activityid_value",
            ids,
            "participationtypemask,addressused,_partyid_value,_activityid_value",
        )
        sets = await self._entity_sets()
        out: dict[str, list[Any]] = {i: [] for i in ids}
        for row in rows:
            out.setdefault(str(row["_activityid_value"]).lower(), []).append(_party_item(row, sets))
        return {k: sorted(v, key=lambda p: json.dumps(p, sort_keys=True)) for k, v in out.items()}

    async def delete(self, table: TableInfo, ids: list[str], depth: int) -> int:
        """Delete ``ids`` of ``table`` and their dependents; return how many were deleted."""
        ids = sorted({i.lower() for i in ids})
        if not ids:
            return 0
        for child, child_ids in await self._dependents(table, ids):
            self.result.cascade_deleted += await self.delete(child, child_ids, depth + 1)
            self.result.rows += [
                {"id": i, "table": child.logical, "outcome": "cascade_deleted"} for i in child_ids
            ]
        await self._journal_links(table, ids)
        await self._journal_parties(table, ids)
        if depth == 0:
            journal = self._journal(deletion_phase_index(self.phase_index), "deletions", self.entry)
        else:
            journal = self._journal(
                CASCADE_PHASE_INDEX - depth, "cascade", f"{self.entry}-{table.logical}"
            )
        entry = await journal.begin(self.context.client, table, "delete", ids, [])
        if table.is_activity and entry.current:
            for rid, plist in (await self.party_lists(table, sorted(entry.current))).items():
                self.stage.put_bytes(parties_key(self.run_id, rid), json.dumps(plist).encode())
        for rid, row in entry.current.items():
            body = row.get("documentbody")
            if body:
                self.stage.put_bytes(body_key(self.run_id, rid), base64.b64decode(str(body)))
        deleted: list[str] = []
        for rid in sorted(entry.current):
            response = await self.context.client.request(
                "DELETE",
                f"{table.entity_set}({rid})",
                ok_statuses=frozenset({404}),
                action=f"delete {table.entity_set} deleted in Salesforce",
                object_name=table.logical,
                record_id=rid,
            )
            if response.status_code != 404:
                deleted.append(rid)
            reach("delta.deleting")
        journal.finish(entry, written=deleted, rejected=[])
        return len(deleted)

    def _journal(self, phase_index: int, phase: str, name: str) -> Journal:
        return Journal(
            self.stage,
            run_id=self.run_id,
            phase_index=phase_index,
            phase=phase,
            sobject=name,
            batch=0,
        )

    async def _dependents(
        self, table: TableInfo, ids: list[str]
    ) -> list[tuple[TableInfo, list[str]]]:
        """What Dynamics deletes with these rows: activities regarding them, their notes."""
        if table.logical == "annotation":
            return []
        out = []
        for child in self.tables:
            if child.logical == "annotation":
                column = "_objectid_value"
            elif child.is_activity and not table.is_activity:
                column = "_regardingobjectid_value"
            else:
                continue
            rows = await _find(self.context, child, column, ids, child.primary_id)
            found = sorted({str(r[child.primary_id]).lower() for r in rows})
            if found:
                out.append((child, found))
        return out

    async def _journal_links(self, table: TableInfo, ids: list[str]) -> None:
        """Rows whose lookups Dynamics clears when ``ids`` go: journalled, to be re-bound."""
        gone = set(ids)
        for other in self.tables:
            lookups = [
                a.logical
                for a in other.attributes.values()
                if table.logical in a.targets and a.type in ("Lookup", "Customer")
            ]
            if not lookups:
                continue
            victims: set[str] = set()
            for column in lookups:
                rows = await _find(self.context, other, f"_{column}_value", ids, other.primary_id)
                victims |= {str(r[other.primary_id]).lower() for r in rows}
            if other.logical == table.logical:
                victims -= gone
            if not victims:
                continue
            current = await read_by_ids(self.context.client, other, sorted(victims))
            columns = {
                f"{row[key]}@odata.bind"
                for row in current.values()
                for key in row
                if key.endswith(NAV_ANNOTATION)
                and str(row.get(key.removesuffix(NAV_ANNOTATION), "")).lower() in gone
            }
            journal = self._journal(LINK_PHASE_INDEX, "links", f"{self.entry}-{other.logical}")
            entry = await journal.begin(
                self.context.client, other, "link", sorted(victims), sorted(columns)
            )
            journal.finish(entry, written=[], rejected=[])

    async def _journal_parties(self, table: TableInfo, ids: list[str]) -> None:
        """Activities that name these rows as a party: their lists, to be put back."""
        if table.is_activity or table.logical == "annotation":
            return
        parties = await self.context.table("activityparty")
        rows = await _find(
            self.context, parties, "_partyid_value", ids, "_activityid_value,_partyid_value"
        )
        by_table: dict[str, set[str]] = {}
        for row in rows:
            logical = row.get("_activityid_value" + TABLE_ANNOTATION)
            if isinstance(logical, str) and row.get("_activityid_value"):
                by_table.setdefault(logical, set()).add(str(row["_activityid_value"]).lower())
        for logical, activity_ids in sorted(by_table.items()):
            activity = await self.context.table(logical)
            wanted = sorted(activity_ids)
            states = await read_by_ids(
                self.context.client, activity, wanted, select=["statecode", "statuscode"]
            )
            lists = await self.party_lists(activity, wanted)
            pre = {
                aid: {
                    "parties": lists.get(aid, []),
                    "statecode": states[aid].get("statecode"),
                    "statuscode": states[aid].get("statuscode"),
                }
                for aid in wanted
                if aid in states
            }
            if pre:
                journal = self._journal(
                    LINK_PHASE_INDEX, "links", f"{self.entry}-{logical}-parties"
                )
                entry = journal.record(activity, "parties", pre)
                journal.finish(entry, written=[], rejected=[])


async def apply_deletions(
    context: LoadContext,
    stage: Stage,
    *,
    run_id: str,
    entry: str,
    phase_index: int,
    table: TableInfo,
    ids: list[str],
    policy: Policy,
    all_tables: list[TableInfo],
) -> DeletionResult:
    """Delete, deactivate or report the target rows ``ids`` of one mapping entry.

    Args:
        ids: Deterministic target ids of the source records deleted in Salesforce.
        all_tables: Every table of the mapping: activities and notes of a deleted row are
            journalled and deleted first; rows whose lookups point at it are journalled so
            a rollback re-binds them; party lists naming it likewise.
    """
    result = DeletionResult(entry=entry, table=table.logical, requested=len(ids))
    wanted = sorted({i.lower() for i in ids})
    if not wanted:
        return result
    if policy == "report":
        result.not_applied = [
            {"id": i, "reason": "delta.delete_policy is report: not changed"} for i in wanted
        ]
        return result
    if policy == "deactivate":
        state = INACTIVE_STATE.get(table.logical)
        if state is None:
            result.not_applied = [
                {"id": i, "reason": f"{table.logical} has no inactive state: not changed"}
                for i in wanted
            ]
            return result
        journal = Journal(
            stage,
            run_id=run_id,
            phase_index=deletion_phase_index(phase_index),
            phase="deletions",
            sobject=entry,
            batch=0,
        )
        entry_j = await journal.begin(
            context.client, table, "close", wanted, ["statecode", "statuscode"]
        )
        done: list[str] = []
        for rid in sorted(entry_j.current):
            if entry_j.current[rid].get("statecode") == state:
                done.append(rid)
                continue
            response = await context.client.request(
                "PATCH",
                f"{table.entity_set}({rid})",
                json={"statecode": state},
                headers={"If-Match": "*"},
                ok_statuses=frozenset({400, 404}),
                action=f"deactivate {table.entity_set} deleted in Salesforce",
                object_name=table.logical,
                record_id=rid,
            )
            if response.status_code == 400:
                result.not_applied.append({"id": rid, "reason": response.text[:300]})
            elif response.status_code != 404:
                done.append(rid)
        journal.finish(entry_j, written=done, rejected=[])
        result.deactivated = len(done)
        result.already_gone = len(wanted) - len(entry_j.current)
        return result

    deleter = _Deleter(context, stage, run_id, entry, phase_index, all_tables, result)
    result.deleted = await deleter.delete(table, wanted, 0)
    result.already_gone = len(wanted) - result.deleted
    return result
