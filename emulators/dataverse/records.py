"""Create, update, upsert, retrieve and delete rows with Dataverse's rules.

The rules that catch loaders out live here: undeclared properties are refused (0x80048d19),
columns not valid for the operation are silently ignored (e.g. ``statecode`` on create),
``@odata.bind`` targets must exist (0x80040217), alternate keys must stay unique (0x80060892),
``overriddencreatedon`` sets ``createdon``, state changes need a valid statecode/statuscode
pair, and closed activities are read-only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulators.dataverse.activity_state import apply_state, check_closed
from emulators.dataverse.addressing import KeySpec, parse_reference
from emulators.dataverse.environment import Environment
from emulators.dataverse.errors import (
    DataverseFault,
    bad_request,
    not_found,
    payload_error,
    undeclared_annotation_only,
    undeclared_property,
)
from emulators.dataverse.metadata import Table
from emulators.dataverse.store import Row
from emulators.dataverse.values import coerce

BIND = "@odata.bind"
STATE_FIELDS = frozenset({"statecode", "statuscode"})
Resolver = Callable[[str], tuple[str, KeySpec]]


@dataclass
class Prepared:
    """A validated write: column values, activity parties (if given) and state fields."""

    values: Row
    parties: list[Row] | None = None
    state: dict[str, int] = field(default_factory=dict)


def resolve_key(env: Environment, table: Table, key: KeySpec) -> str | None:
    """The primary key addressed by ``key`` (a guid or alternate-key values), or None."""
    if isinstance(key, str):
        return key if env.store.get(table.logical, key) is not None else None
    if set(key) == {table.primary_id}:
        return resolve_key(env, table, str(key[table.primary_id]))
    for kdef in env.active_keys(table.logical):
        if set(kdef.attributes) == set(key):
            ids = env.store.find_by(table.logical, {c: key[c] for c in kdef.attributes})
            return ids[0] if ids else None
    raise bad_request(
        f"The key in the request URI is not valid for resource "
        f"'Microsoft.Dynamics.CRM.{table.logical}'. Ensure that the names and number of key "
        "properties match the declared or alternate key properties for the resource "
        f"'Microsoft.Dynamics.CRM.{table.logical}'.",
        "0x80060890",
    )


def describe_key(key: KeySpec) -> str:
    """How a key appears in messages and ``OData-EntityId``."""
    if isinstance(key, str):
        return key
    return ",".join(f"{k}='{v}'" if isinstance(v, str) else f"{k}={v}" for k, v in key.items())


def _bind(
    env: Environment, table: Table, nav: str, ref: Any, resolver: Resolver
) -> tuple[str, str | None, str | None]:
    """Resolve ``nav@odata.bind`` to (column, target table, target id); null clears it."""
    navs = table.navigation()
    if nav not in navs:
        raise undeclared_annotation_only(table.entity_set, nav)
    column, target = navs[nav]
    if ref is None:
        if column.type == "Owner":
            raise bad_request("A record must have an owner: ownerid cannot be cleared.")
        return column.logical, None, None
    if not isinstance(ref, str):
        raise payload_error(
            table.entity_set, f"An entity reference for '{nav}' must be a URL string."
        )
    entity_set, key = resolver(ref)
    target_table = env.table_by_set(entity_set)
    allowed = column.targets if column.type == "Owner" else (target,)
    if target_table.logical not in allowed:
        raise payload_error(
            table.entity_set,
            f"Microsoft.OData.ODataException: The navigation property '{nav}' expects a "
            f"'{target}' but the reference is to '{target_table.logical}'.",
        )
    target_id = resolve_key(env, target_table, key)
    if target_id is None:
        raise not_found(target_table.logical, describe_key(key))
    return column.logical, target_table.logical, target_id


def prepare(
    env: Environment,
    table: Table,
    body: dict[str, Any],
    op: str,
    resolver: Resolver = parse_reference,
) -> Prepared:
    """Validate a request body for ``op`` ('create' or 'update') into stored values."""
    if not isinstance(body, dict):
        raise payload_error(table.entity_set, "The request body is not a JSON object.")
    out = Prepared(values={})
    party_nav = f"{table.logical}_activity_parties"
    for key, value in body.items():
        if key.endswith(BIND):
            column, target, target_id = _bind(env, table, key[: -len(BIND)], value, resolver)
            out.values[column] = target_id
            out.values[f"@t.{column}"] = target
            continue
        if "@" in key:
            continue  # instance/property annotations (@odata.type, FormattedValue...) are ignored
        if table.is_activity and key == party_nav:
            if not isinstance(value, list):
                raise payload_error(table.entity_set, f"'{key}' must be a collection.")
            party_table = env.tables["activityparty"]
            out.parties = [prepare(env, party_table, p, "create", resolver).values for p in value]
            continue
        col = table.columns.get(key)
        if col is None or col.is_lookup or col.type == "PartyList":
            raise undeclared_property(table.entity_set, table.logical, key)
        if (op == "create" and not col.valid_create) or (op == "update" and not col.valid_update):
            continue  # real Dataverse ignores columns not valid for the operation
        stored = coerce(col, value, table.entity_set)
        if key in STATE_FIELDS:
            if stored is None:
                raise bad_request(f"{key} cannot be null.")
            out.state[key] = int(stored)
        else:
            out.values[key] = stored
    return out


def _check_owner(env: Environment, values: Row) -> None:
    if values.get("@t.ownerid") != "systemuser" or not env.options.owner_disabled_check:
        return
    user = env.store.get("systemuser", values["ownerid"])
    if user and user.get("isdisabled"):
        raise bad_request("The specified owner has been disabled.", "0x8004022b")


def _check_note_size(env: Environment, table: Table, values: Row) -> None:
    body = values.get("documentbody")
    if table.logical != "annotation" or not body:
        return
    limit = int(env.organization().get("maxuploadfilesize") or 0)
    if len(body) > limit:
        raise bad_request("Attachment file size is too big.", "0x80044a02")


def _check_keys(env: Environment, table: Table, row_id: str, row: Row) -> None:
    for kdef in env.active_keys(table.logical):
        values = {c: row.get(c) for c in kdef.attributes}
        if any(v is None for v in values.values()):
            continue
        clash = [i for i in env.store.find_by(table.logical, values) if i != row_id]
        if clash:
            shown = ",".join(str(v) for v in values.values())
            raise DataverseFault(
                412,
                "0x80060892",
                f"A record that has the attribute values {shown} already exists. The entity key "
                f"{kdef.schema_name} requires that this set of attributes contains unique values. "
                "Select unique values and try again.",
            )


def build_create(
    env: Environment, table: Table, prepared: Prepared, caller: str, row_id: str | None = None
) -> tuple[str, Row]:
    """The full row for a create (system columns, owner, state) without storing it."""
    rid = row_id or str(prepared.values.get(table.primary_id) or uuid.uuid4())
    now = env.now_iso()
    row: Row = dict(prepared.values)
    row[table.primary_id] = rid
    for col in table.columns.values():
        if col.default is not None and col.logical not in row:
            row[col.logical] = bool(col.default) if col.type == "Boolean" else col.default
    row["createdon"] = now
    if "overriddencreatedon" in table.columns and row.get("overriddencreatedon"):
        row["createdon"] = row["overriddencreatedon"]
        row["overriddencreatedon"] = now
    row["modifiedon"] = now
    row["createdby"] = row["modifiedby"] = caller
    row["@t.createdby"] = row["@t.modifiedby"] = "systemuser"
    if "ownerid" in table.columns:
        row.setdefault("ownerid", caller)
        row.setdefault("@t.ownerid", "systemuser")
        owner_col = "owninguser" if row["@t.ownerid"] == "systemuser" else "owningteam"
        row[owner_col] = row["ownerid"]
        row[f"@t.{owner_col}"] = row["@t.ownerid"]
        _check_owner(env, row)
    if table.is_activity:
        row["activitytypecode"] = table.logical
        row["isregularactivity"] = True
    apply_state(table, row, prepared.state, rid, creating=True)
    _check_note_size(env, table, row)
    if table.logical == "annotation":
        row["isdocument"] = bool(row.get("documentbody"))
        if row.get("objectid"):
            row["objecttypecode"] = row.get("@t.objectid")
        row["filesize"] = _decoded_size(row.get("documentbody"))
    _compose_fullname(table, row)
    row["versionnumber"] = env.next_version()
    return rid, row


def build_update(
    env: Environment, table: Table, existing: Row, prepared: Prepared, caller: str
) -> Row:
    """The merged row for an update of ``existing`` without storing it."""
    check_closed(table, existing, prepared)
    row = dict(existing)
    row.update(prepared.values)
    row[table.primary_id] = existing[table.primary_id]
    if "ownerid" in prepared.values:
        _check_owner(env, row)
    if prepared.state:
        apply_state(table, row, prepared.state, row[table.primary_id], creating=False)
        if table.is_activity and row["statecode"] != 0 and not row.get("actualend"):
            row["actualend"] = env.now_iso()
    _check_note_size(env, table, prepared.values)
    if table.logical == "annotation" and "documentbody" in prepared.values:
        row["isdocument"] = bool(row.get("documentbody"))
        row["filesize"] = _decoded_size(row.get("documentbody"))
    row["modifiedon"] = env.now_iso()
    row["modifiedby"] = caller
    _compose_fullname(table, row)
    row["versionnumber"] = env.next_version()
    return row


def _compose_fullname(table: Table, row: Row) -> None:
    """``fullname`` is computed from first and last name (the default "First Last" format)."""
    if "fullname" in table.columns and ("firstname" in row or "lastname" in row):
        parts = [row.get("firstname"), row.get("lastname")]
        row["fullname"] = " ".join(str(p) for p in parts if p) or None


def _decoded_size(body: Any) -> int:
    if not isinstance(body, str) or not body:
        return 0
    return len(body) * 3 // 4 - body[-2:].count("=")


def save(
    env: Environment,
    table: Table,
    rows: list[tuple[str, Row]],
    parties: dict[str, list[Row]] | None = None,
) -> None:
    """Store rows (and replace the parties of activities) after the alternate-key check."""
    with env.store.transaction():
        seen: set[tuple[Any, ...]] = set()
        for kdef in env.active_keys(table.logical):
            for _rid, row in rows:
                values = tuple(row.get(c) for c in kdef.attributes)
                if None not in values and (kdef.schema_name, values) in seen:
                    raise DataverseFault(
                        412,
                        "0x80060892",
                        f"A record that has the attribute values {','.join(map(str, values))} "
                        f"already exists. The entity key {kdef.schema_name} requires that this set "
                        "of attributes contains unique values. Select unique values and try again.",
                    )
                seen.add((kdef.schema_name, values))
        for rid, row in rows:
            _check_keys(env, table, rid, row)
        env.store.put_many(table.logical, rows)
        for activity_id, plist in (parties or {}).items():
            _replace_parties(env, table, activity_id, plist)


def _replace_parties(env: Environment, table: Table, activity_id: str, plist: list[Row]) -> None:
    for old in env.store.find_by("activityparty", {"activityid": activity_id}):
        env.store.delete("activityparty", old)
    rows = []
    for party in plist:
        pid = str(uuid.uuid4())
        row = dict(party)
        row.update(
            {
                "activitypartyid": pid,
                "activityid": activity_id,
                "@t.activityid": table.logical,
                "ispartydeleted": False,
                "versionnumber": env.next_version(),
            }
        )
        rows.append((pid, row))
    env.store.put_many("activityparty", rows)


def create(
    env: Environment,
    table: Table,
    body: dict[str, Any],
    caller: str,
    resolver: Resolver = parse_reference,
) -> tuple[str, Row]:
    """POST: create one row; a client-chosen primary key that exists fails with 0x80040237."""
    prepared = prepare(env, table, body, "create", resolver)
    rid, row = build_create(env, table, prepared, caller)
    if env.store.get(table.logical, rid) is not None:
        raise DataverseFault(412, "0x80040237", "Cannot insert duplicate key.")
    save(
        env, table, [(rid, row)], {rid: prepared.parties} if prepared.parties is not None else None
    )
    return rid, row


def update(
    env: Environment,
    table: Table,
    rid: str,
    body: dict[str, Any],
    caller: str,
    resolver: Resolver = parse_reference,
) -> Row:
    """PATCH on an existing row."""
    existing = env.store.get(table.logical, rid)
    if existing is None:
        raise not_found(table.logical, rid)
    prepared = prepare(env, table, body, "update", resolver)
    row = build_update(env, table, existing, prepared, caller)
    save(
        env, table, [(rid, row)], {rid: prepared.parties} if prepared.parties is not None else None
    )
    return row


def upsert(
    env: Environment,
    table: Table,
    key: KeySpec,
    body: dict[str, Any],
    caller: str,
    *,
    if_match: str | None,
    if_none_match: str | None,
    resolver: Resolver = parse_reference,
) -> tuple[str, Row, bool]:
    """PATCH by key: update if found, else create; ``If-Match``/``If-None-Match`` as real.

    Returns (id, row, created).
    """
    rid = resolve_key(env, table, key)
    existing = env.store.get(table.logical, rid) if rid else None
    if existing is None:
        if if_match is not None:
            raise DataverseFault(
                404, "0x80040217", f"{table.logical} With Id = {describe_key(key)} Does Not Exist"
            )
        prepared = prepare(env, table, body, "create", resolver)
        if isinstance(key, dict):
            for name, value in key.items():
                prepared.values[name] = value
            new_id = None
        else:
            new_id = key
        rid, row = build_create(env, table, prepared, caller, new_id)
        save(
            env,
            table,
            [(rid, row)],
            {rid: prepared.parties} if prepared.parties is not None else None,
        )
        return rid, row, True
    assert rid is not None
    if if_none_match == "*":
        raise DataverseFault(412, "0x80040237", "A record with matching key values already exists.")
    check_version(existing, if_match)
    body = {k: v for k, v in body.items() if not (isinstance(key, dict) and k in key)}
    prepared = prepare(env, table, body, "update", resolver)
    row = build_update(env, table, existing, prepared, caller)
    save(
        env, table, [(rid, row)], {rid: prepared.parties} if prepared.parties is not None else None
    )
    return rid, row, False


def check_version(existing: Row, if_match: str | None) -> None:
    """Optimistic concurrency: ``If-Match: W/"<version>"`` must name the current version."""
    if if_match in (None, "*") or if_match == f'W/"{existing.get("versionnumber")}"':
        return
    raise DataverseFault(
        412,
        "0x80060882",
        "The version of the existing record doesn't match the RowVersion property provided.",
    )


def delete(env: Environment, table: Table, rid: str, if_match: str | None = None) -> None:
    """DELETE: remove the row, its activity parties and (cascade) notes and activities."""
    if if_match is not None:
        existing = env.store.get(table.logical, rid)
        if existing is not None:
            check_version(existing, if_match)
    with env.store.transaction():
        if not env.store.delete(table.logical, rid):
            raise not_found(table.logical, rid)
        for party in env.store.find_by("activityparty", {"activityid": rid}):
            env.store.delete("activityparty", party)
        for note in env.store.find_by("annotation", {"objectid": rid}):
            env.store.delete("annotation", note)
        if not table.is_activity:
            for logical, child in env.tables.items():
                if child.is_activity:
                    for act in env.store.find_by(logical, {"regardingobjectid": rid}):
                        delete(env, child, act)
        _remove_links(env, table, rid)


def _remove_links(env: Environment, table: Table, rid: str) -> None:
    """Clear lookups that pointed at a deleted row; mark its activity parties deleted."""
    for child, column in env.removable_links(table.logical):
        ids = env.store.find_by(child.logical, {column.logical: rid})
        rows = env.store.get_many(child.logical, ids)
        for row in rows.values():
            row[column.logical] = None
            row[f"@t.{column.logical}"] = None
            row["modifiedon"] = env.now_iso()
            row["versionnumber"] = env.next_version()
        env.store.put_many(child.logical, list(rows.items()))
    party_ids = env.store.find_by("activityparty", {"partyid": rid})
    parties = env.store.get_many("activityparty", party_ids)
    for party in parties.values():
        party["ispartydeleted"] = True
    env.store.put_many("activityparty", list(parties.items()))
