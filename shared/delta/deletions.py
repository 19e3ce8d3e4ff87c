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
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.crashpoints import reach
from shared.dataverse.context import LoadContext
from shared.dataverse.journal import Journal
from shared.dataverse.metadata import TableInfo
from shared.quoting import odata_quote
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


async def _dependents(
    context: LoadContext, tables: Iterable[TableInfo], parent_ids: list[str]
) -> dict[str, list[str]]:
    """Rows a delete of ``parent_ids`` would cascade to: activities regarding them, notes."""
    out: dict[str, list[str]] = {}
    for table in tables:
        column = "_objectid_value" if table.logical == "annotation" else "_regardingobjectid_value"
        found: list[str] = []
        for start in range(0, len(parent_ids), _FILTER_CHUNK):
            part = parent_ids[start : start + _FILTER_CHUNK]
            flt = " or ".join(f"{column} eq {odata_quote(uuid.UUID(i))}" for i in part)
            async for row in context.client.get_all(
                table.entity_set,
                params={"$select": table.primary_id, "$filter": flt},
                action=f"read {table.entity_set} to be deleted by cascade",
            ):
                found.append(str(row[table.primary_id]).lower())
        if found:
            out[table.logical] = sorted(set(found))
    return out


async def _delete_rows(
    context: LoadContext, stage: Stage, journal: Journal, table: TableInfo, ids: list[str]
) -> tuple[int, int]:
    """Journal the rows' pre-images, then delete them; return (deleted, already gone)."""
    entry = await journal.begin(context.client, table, "delete", ids, [])
    for rid, row in entry.current.items():
        body = row.get("documentbody")
        if body:
            stage.put_bytes(body_key(journal.run_id, rid), base64.b64decode(str(body)))
    deleted: list[str] = []
    for rid in sorted(entry.current):
        response = await context.client.request(
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
    return len(deleted), len(ids) - len(deleted)


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
    cascade_tables: list[TableInfo],
) -> DeletionResult:
    """Delete, deactivate or report the target rows ``ids`` of one mapping entry.

    Args:
        ids: Deterministic target ids of the source records deleted in Salesforce.
        cascade_tables: Activity and note tables of the mapping: rows in them that point
            at a deleted row are journalled and deleted first.
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
        entry_j = await journal.begin(context.client, table, "close", wanted, ["statecode"])
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

    existing_tables = [t for t in cascade_tables if t.logical != table.logical]
    dependents = await _dependents(context, existing_tables, wanted)
    for logical, child_ids in sorted(dependents.items()):
        child_table = next(t for t in existing_tables if t.logical == logical)
        journal = Journal(
            stage,
            run_id=run_id,
            phase_index=CASCADE_PHASE_INDEX,
            phase="cascade",
            sobject=f"{entry}-{logical}",
            batch=0,
        )
        deleted, _gone = await _delete_rows(context, stage, journal, child_table, child_ids)
        result.cascade_deleted += deleted
        result.rows += [
            {"id": i, "table": logical, "outcome": "cascade_deleted"} for i in child_ids
        ]
    journal = Journal(
        stage,
        run_id=run_id,
        phase_index=deletion_phase_index(phase_index),
        phase="deletions",
        sobject=entry,
        batch=0,
    )
    result.deleted, result.already_gone = await _delete_rows(context, stage, journal, table, wanted)
    return result
