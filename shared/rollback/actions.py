"""Decide, row by row, how to undo one journal entry. Pure: no I/O.

For every id the entry journalled, the current row (or its absence) decides the outcome:

- created by the run, still there, last modified by the migration's identity → **delete**;
- had a pre-image, last modified by the migration's identity → **restore** the pre-image of
  exactly the columns the run wrote (lookups re-bound, cleared ones set to null);
- already equal to its pre-image → **already_restored** (a rerun of the rollback);
- gone → **already_gone**;
- last modified by anyone else → **kept**: a person changed it after the load; it is never
  overwritten or deleted, and the report lists it;
- deleted by a delta (a ``delete`` entry, full pre-image) and absent now → **recreate** it with
  the same id, its writable columns, lookups, owner and party list, then its state; present
  now → **already_restored**;
- an activity whose party list a delta's deletion changed (a ``parties`` entry) → **restore**
  the list (reopening and re-closing a closed activity around it).

Every write is sent with ``If-Match`` on the ETag read here, so a change made between this
read and the write is also kept (412) rather than overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.dataverse.journal import JournalEntry
from shared.dataverse.metadata import TableInfo

Outcome = Literal["delete", "restore", "recreate", "already_restored", "already_gone", "kept"]
STATE_COLUMNS = ("statecode", "statuscode")
NAV_ANNOTATION = "@Microsoft.Dynamics.CRM.associatednavigationproperty"
TABLE_ANNOTATION = "@Microsoft.Dynamics.CRM.lookuplogicalname"
_BIND = "@odata.bind"


@dataclass(frozen=True)
class RowAction:
    """What to do with one row of one entry, and why."""

    id: str
    outcome: Outcome
    etag: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


def _lookup_pre_image(values: Mapping[str, Any], nav: str) -> tuple[bool, str | None, str | None]:
    """Find the ``_x_value`` whose navigation annotation is ``nav``: (found, table, id)."""
    for key, value in values.items():
        if key.endswith(NAV_ANNOTATION) and value == nav:
            column = key.removesuffix(NAV_ANNOTATION)
            return True, values.get(column + TABLE_ANNOTATION), values.get(column)
    return False, None, None


def restore_payload(
    columns: Iterable[str], pre_image: Mapping[str, Any], entity_sets: Mapping[str, str]
) -> dict[str, Any]:
    """The PATCH body that puts back the pre-image of the columns the run wrote.

    ``columns`` are the payload keys the run sent (plain columns and ``nav@odata.bind``);
    a lookup the row did not have before is cleared with ``nav@odata.bind: null`` (the
    documented way to disassociate a single-valued navigation property).
    """
    values: Mapping[str, Any] = pre_image.get("values", {})
    body: dict[str, Any] = {}
    for col in columns:
        if col.endswith(_BIND):
            nav = col.removesuffix(_BIND)
            found, table, target = _lookup_pre_image(values, nav)
            if found and table and target:
                body[col] = f"/{entity_sets[table]}({target})"
            else:
                body[col] = None
        elif "@" in col or col.startswith("_") or col.endswith("_activity_parties"):
            # Activity parties are a collection the pre-image does not hold: not restored.
            continue
        else:
            body[col] = values.get(col)
    return body


def recreate_payload(
    pre_image: Mapping[str, Any], table: TableInfo, entity_sets: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The create body and the state change that put a deleted row back as it was.

    Every column the pre-image holds that can be set on create is sent; lookups (owner,
    parent, regarding) are re-bound through their navigation annotations; the original
    creation date goes back through ``overriddencreatedon``. State and status cannot be set
    on create: they are returned separately, for an update right after (empty when open).
    """
    values: Mapping[str, Any] = pre_image.get("values", {})
    body: dict[str, Any] = {}
    for key, value in values.items():
        if key.endswith(NAV_ANNOTATION):
            column = key.removesuffix(NAV_ANNOTATION)
            logical = column.removeprefix("_").removesuffix("_value")
            attr = table.attributes.get(logical)
            target_table = values.get(column + TABLE_ANNOTATION)
            target = values.get(column)
            known = isinstance(target_table, str) and target_table in entity_sets
            if attr and attr.valid_create and target and known:
                body[f"{value}@odata.bind"] = f"/{entity_sets[str(target_table)]}({target})"
            continue
        if "@" in key or key.startswith("_") or value is None or key in STATE_COLUMNS:
            continue
        attr = table.attributes.get(key)
        if attr is not None and attr.valid_create and key != table.primary_id:
            body[key] = value
    if "overriddencreatedon" in table.attributes and values.get("createdon"):
        body["overriddencreatedon"] = values["createdon"]
    state = {k: values[k] for k in STATE_COLUMNS if values.get(k) not in (None, 0)}
    if state and "statuscode" not in state and values.get("statuscode") is not None:
        state["statuscode"] = values["statuscode"]
    if state.get("statecode") in (None, 0):
        state = {}
    return body, state


def changed_by_someone_else(row: Mapping[str, Any], migration_users: set[str]) -> str | None:
    """Why a row must be kept (its last modifier is not the migration), or None."""
    modifier = str(row.get("_modifiedby_value", "")).lower()
    if modifier in migration_users:
        return None
    return f"changed after the load by {row.get('_modifiedby_value')}"


def _equal(current: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    for key, want in body.items():
        if key.endswith(_BIND):
            nav = key.removesuffix(_BIND)
            found, _table, target = _lookup_pre_image(current, nav)
            have = None if not found or target is None else str(target).lower()
            wanted = None if want is None else str(want).rsplit("(", 1)[1].rstrip(")").lower()
            if have != wanted:
                return False
        elif current.get(key) != want:
            return False
    return True


def plan_entry(
    entry: JournalEntry,
    current: Mapping[str, Mapping[str, Any]],
    *,
    migration_users: set[str],
    created_by_run: set[str],
    entity_sets: Mapping[str, str],
) -> list[RowAction]:
    """How to undo one journal entry, given the rows as they are now.

    Args:
        entry: The journal entry.
        current: ``{id: row}`` of the entry's ids that exist now (lower-case ids), each with
            ``@odata.etag`` and ``_modifiedby_value``.
        migration_users: systemuser ids the migration (and its rollback) wrote as.
        created_by_run: Every id any entry of the run created: those are deleted in the
            rows step, so link and state entries do not restore them first.
        entity_sets: Logical table name → entity set, to re-bind lookups.
    """
    actions: list[RowAction] = []
    if entry.kind == "parties":  # party lists a delta's deletion changed: put them back
        for rid, pre in sorted(entry.pre_images.items()):
            row = current.get(rid.lower())
            if row is None:
                actions.append(RowAction(rid, "already_gone"))
            else:
                actions.append(RowAction(rid, "restore", etag=None, payload=dict(pre)))
        return actions
    if entry.kind == "delete":
        for rid in sorted(entry.pre_images):
            if current.get(rid.lower()) is not None:
                actions.append(RowAction(rid, "already_restored", reason="the row exists"))
            else:
                actions.append(RowAction(rid, "recreate"))
        return actions
    for rid in entry.created:
        row = current.get(rid.lower())
        if row is None:
            actions.append(RowAction(rid, "already_gone"))
        elif reason := changed_by_someone_else(row, migration_users):
            actions.append(RowAction(rid, "kept", reason=reason))
        else:
            actions.append(RowAction(rid, "delete", etag=row.get("@odata.etag")))
    for rid, pre in sorted(entry.pre_images.items()):
        if rid.lower() in created_by_run:
            continue
        row = current.get(rid.lower())
        if row is None:
            actions.append(RowAction(rid, "already_gone", reason="deleted after the load"))
            continue
        body = restore_payload(entry.columns, pre, entity_sets)
        if _equal(row, body):
            actions.append(RowAction(rid, "already_restored"))
        elif reason := changed_by_someone_else(row, migration_users):
            actions.append(RowAction(rid, "kept", reason=reason))
        else:
            actions.append(RowAction(rid, "restore", etag=row.get("@odata.etag"), payload=body))
    return actions
