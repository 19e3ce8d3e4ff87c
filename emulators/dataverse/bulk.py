"""``CreateMultiple``, ``UpdateMultiple``, ``UpsertMultiple``, ``BulkDelete``, sdkmessagefilters.

On standard tables the *Multiple messages are atomic: the first bad item fails the whole
request with that item's own error and nothing is written. The error body is exactly the
item's error (real Dataverse does not say which item it was); the emulator adds the header
``x-emulator-failed-item: <zero-based index>`` as a debugging aid that real Dataverse lacks.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from emulators.dataverse.addressing import KeySpec, parse_reference
from emulators.dataverse.environment import Environment
from emulators.dataverse.errors import DataverseFault, bad_request, not_found, payload_error
from emulators.dataverse.metadata import Table
from emulators.dataverse.protocol import ApiReply, ApiRequest
from emulators.dataverse.records import (
    build_create,
    build_update,
    delete,
    describe_key,
    prepare,
    resolve_key,
    save,
)
from emulators.dataverse.store import Row

BULK_TABLES = frozenset(
    {
        "account",
        "contact",
        "lead",
        "opportunity",
        "task",
        "phonecall",
        "email",
        "appointment",
        "annotation",
    }
)
_NS = uuid.UUID("9b3c1e7a-5f0d-5b2a-8c44-1e2f3a4b5c6d")


def _targets(table: Table, req: ApiRequest) -> list[dict[str, Any]]:
    body = req.json(table.entity_set)
    targets = body.get("Targets") if isinstance(body, dict) else None
    if not isinstance(targets, list):
        raise bad_request("The 'Targets' parameter is required and must be a collection.")
    expected = f"Microsoft.Dynamics.CRM.{table.logical}"
    for index, item in enumerate(targets):
        if not isinstance(item, dict) or item.get("@odata.type") != expected:
            fault = payload_error(
                table.entity_set,
                "Microsoft.OData.ODataException: An entity in Targets is missing the "
                f"'@odata.type' annotation '{expected}' (found "
                f"{item.get('@odata.type') if isinstance(item, dict) else None!r}).",
            )
            fault.headers["x-emulator-failed-item"] = str(index)
            raise fault
    return targets


def handle(env: Environment, table: Table, req: ApiRequest, message: str) -> ApiReply:
    """POST ``<set>/Microsoft.Dynamics.CRM.<message>``."""
    if message not in ("CreateMultiple", "UpdateMultiple", "UpsertMultiple"):
        raise DataverseFault(
            404,
            "0x80060888",
            f"Resource not found for the segment 'Microsoft.Dynamics.CRM.{message}'.",
        )
    if table.logical not in BULK_TABLES:
        raise DataverseFault(
            400,
            "0x80040315",
            f"The '{message}' message is not supported for the '{table.logical}' table.",
        )
    targets = _targets(table, req)
    rows: list[tuple[str, Row]] = []
    parties: dict[str, list[Row]] = {}
    cursor = [0]  # index of the item being processed, for x-emulator-failed-item
    try:
        if message == "CreateMultiple":
            ids = _create_all(env, table, req, targets, rows, parties, cursor)
        elif message == "UpdateMultiple":
            ids = _update_all(env, table, req, targets, rows, parties, cursor)
        else:
            ids = _upsert_all(env, table, req, targets, rows, parties, cursor)
        cursor[0] = -1
        save(env, table, rows, parties)
    except DataverseFault as fault:
        if cursor[0] >= 0:
            fault.headers.setdefault("x-emulator-failed-item", str(cursor[0]))
        raise
    if message == "CreateMultiple":
        return ApiReply(
            200,
            {
                "@odata.context": req.url(
                    "$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse"
                ),
                "Ids": ids,
            },
        )
    if message == "UpsertMultiple":
        return ApiReply(
            200,
            {
                "@odata.context": req.url(
                    "$metadata#Microsoft.Dynamics.CRM.UpsertMultipleResponse"
                ),
                "Ids": ids,
            },
        )
    return ApiReply(204)


def _create_all(
    env: Environment,
    table: Table,
    req: ApiRequest,
    targets: list[dict[str, Any]],
    rows: list[tuple[str, Row]],
    parties: dict[str, list[Row]],
    cursor: list[int],
) -> list[str]:
    ids: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(targets):
        cursor[0] = index
        prepared = prepare(env, table, item, "create")
        rid, row = build_create(env, table, prepared, req.caller)
        if rid in seen or env.store.get(table.logical, rid) is not None:
            raise DataverseFault(412, "0x80040237", "Cannot insert duplicate key.")
        seen.add(rid)
        rows.append((rid, row))
        if prepared.parties is not None:
            parties[rid] = prepared.parties
        ids.append(rid)
    return ids


def _update_all(
    env: Environment,
    table: Table,
    req: ApiRequest,
    targets: list[dict[str, Any]],
    rows: list[tuple[str, Row]],
    parties: dict[str, list[Row]],
    cursor: list[int],
) -> list[str]:
    keys = [str(t.get(table.primary_id) or "") for t in targets]
    existing = env.store.get_many(table.logical, [k for k in keys if k])
    done: set[str] = set()
    for index, (item, rid) in enumerate(zip(targets, keys, strict=True)):
        cursor[0] = index
        if not rid:
            raise bad_request(
                f"The primary key '{table.primary_id}' is required in every UpdateMultiple item "
                "(alternate keys are not supported)."
            )
        if rid in done:
            continue  # real Dataverse applies only the first of duplicated keys
        if rid not in existing:
            raise not_found(table.logical, rid)
        body = {k: v for k, v in item.items() if k != table.primary_id}
        prepared = prepare(env, table, body, "update")
        rows.append((rid, build_update(env, table, existing[rid], prepared, req.caller)))
        if prepared.parties is not None:
            parties[rid] = prepared.parties
        done.add(rid)
    return list(done)


def _item_key(env: Environment, table: Table, item: dict[str, Any]) -> KeySpec | None:
    ref = item.get("@odata.id")
    if isinstance(ref, str):
        entity_set, key = parse_reference(ref)
        if entity_set != table.entity_set:
            raise bad_request(f"'@odata.id' {ref!r} does not address the {table.entity_set} table.")
        return key
    if item.get(table.primary_id):
        return str(item[table.primary_id])
    for kdef in env.active_keys(table.logical):
        if all(item.get(c) is not None for c in kdef.attributes):
            return {c: item[c] for c in kdef.attributes}
    return None


def _upsert_all(
    env: Environment,
    table: Table,
    req: ApiRequest,
    targets: list[dict[str, Any]],
    rows: list[tuple[str, Row]],
    parties: dict[str, list[Row]],
    cursor: list[int],
) -> list[str]:
    keys = []
    for index, item in enumerate(targets):
        cursor[0] = index
        keys.append(_item_key(env, table, item))
    primary = [k for k in keys if isinstance(k, str)]
    existing = env.store.get_many(table.logical, primary)
    seen: set[str] = set()
    ids: list[str] = []
    for index, (item, key) in enumerate(zip(targets, keys, strict=True)):
        cursor[0] = index
        shown = describe_key(key) if key is not None else None
        if shown is not None:
            if shown in seen:
                raise bad_request(
                    f"The Targets collection contains more than one item with the key {shown}."
                )
            seen.add(shown)
        if isinstance(key, dict):
            rid = resolve_key(env, table, key)
            current = env.store.get(table.logical, rid) if rid else None
        else:
            rid = key
            current = existing.get(key) if key else None
        if current is not None and rid is not None:
            body = {
                k: v
                for k, v in item.items()
                if k != table.primary_id and not (isinstance(key, dict) and k in key)
            }
            prepared = prepare(env, table, body, "update")
            rows.append((rid, build_update(env, table, current, prepared, req.caller)))
        else:
            prepared = prepare(env, table, item, "create")
            if isinstance(key, dict):
                prepared.values.update(key)
            rid, row = build_create(
                env, table, prepared, req.caller, key if isinstance(key, str) else None
            )
            rows.append((rid, row))
        if prepared.parties is not None:
            parties[rid] = prepared.parties
        ids.append(rid)
    return ids


def sdkmessagefilters(env: Environment, req: ApiRequest) -> ApiReply:
    """Answer which tables support which bulk message (the documented availability check)."""
    text = req.query.get("$filter", "")
    for alias, literal in req.query.items():
        if alias.startswith("@"):
            text = text.replace(alias, literal)
    message = re.search(r"sdkmessageid/name\s+eq\s+'([^']*)'", text)
    entity = re.search(r"primaryobjecttypecode\s+eq\s+'([^']*)'", text)
    value: list[dict[str, Any]] = []
    names = ("CreateMultiple", "UpdateMultiple", "UpsertMultiple")
    for name in [message.group(1)] if message else names:
        for logical in [entity.group(1)] if entity else sorted(BULK_TABLES):
            if name in names and logical in BULK_TABLES:
                value.append(
                    {
                        "sdkmessagefilterid": str(uuid.uuid5(_NS, f"{name}:{logical}")),
                        "primaryobjecttypecode": logical,
                    }
                )
    return ApiReply(200, {"@odata.context": req.url("$metadata#sdkmessagefilters"), "value": value})


_OPS = {"Equal": "eq", "NotEqual": "ne", "Null": "null", "NotNull": "notnull", "In": "in"}


def bulk_delete(env: Environment, req: ApiRequest) -> ApiReply:
    """BulkDelete: runs at once (real Dataverse queues an asynchronous job)."""
    body = req.json()
    queries = body.get("QuerySet") if isinstance(body, dict) else None
    if not isinstance(queries, list) or not queries:
        raise bad_request("The 'QuerySet' parameter is required.")
    with env.store.transaction():
        for query in queries:
            table = env.table(str(query.get("EntityName")))
            criteria = query.get("Criteria") or {}
            mode = str(criteria.get("FilterOperator", "And")).lower()
            tests = []
            for cond in criteria.get("Conditions", []):
                op = _OPS.get(cond.get("Operator"))
                if op is None or cond.get("AttributeName") not in table.columns:
                    raise bad_request(
                        f"BulkDelete condition {cond!r} is not supported by the emulator."
                    )
                values = [
                    v.get("Value") if isinstance(v, dict) else v for v in cond.get("Values", [])
                ]
                tests.append((cond["AttributeName"], op, values))
            for rid, row in env.store.all_rows(table.logical):
                results = [_matches(row.get(a), op, vals) for a, op, vals in tests]
                if not tests or (all(results) if mode == "and" else any(results)):
                    delete(env, table, rid)
    return ApiReply(
        200,
        {
            "@odata.context": req.url("$metadata#Microsoft.Dynamics.CRM.BulkDeleteResponse"),
            "JobId": str(uuid.uuid4()),
        },
    )


def _matches(value: Any, op: str, values: list[Any]) -> bool:
    texts = {str(v).lower() for v in values}
    shown = None if value is None else str(value).lower()
    if op == "null":
        return value is None
    if op == "notnull":
        return value is not None
    if op == "eq":
        return shown in texts
    if op == "ne":
        return shown not in texts
    return shown in texts
