"""Route one Web API request (outside ``$batch``) to the code that answers it."""

from __future__ import annotations

import re
from typing import Any

from emulators.dataverse import annotation_blocks, bulk, csdl, metadata_api, opportunity_close
from emulators.dataverse.addressing import parse_key, parse_reference
from emulators.dataverse.environment import APP_USER_ID, BUSINESS_UNIT_ID, ORG_ID, Environment
from emulators.dataverse.errors import DataverseFault, bad_request, not_found, odata_error
from emulators.dataverse.expand import expand_row
from emulators.dataverse.metadata import Table
from emulators.dataverse.protocol import ApiReply, ApiRequest, fault_reply
from emulators.dataverse.query import parse_select, run_query
from emulators.dataverse.records import (
    create,
    delete,
    describe_key,
    resolve_key,
    update,
    upsert,
)
from emulators.dataverse.represent import etag, name_resolver, represent

_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)(\((.*)\))?(?:/(.*))?$", re.S)
BULK_MESSAGES = ("CreateMultiple", "UpdateMultiple", "UpsertMultiple")


def message_type(req: ApiRequest) -> str:
    """A short name of what a request does, for the counters (e.g. ``UpsertMultiple``)."""
    head = req.path.split("/")[0].split("(")[0]
    for name in (*BULK_MESSAGES, "$batch", "WhoAmI", "BulkDelete"):
        if req.path.endswith(name) or head == name:
            return name
    if head == "EntityDefinitions":
        return "Metadata"
    return {
        "GET": "Retrieve",
        "POST": "Create",
        "PATCH": "Update",
        "DELETE": "Delete",
        "PUT": "Update",
    }.get(req.method, req.method)


def dispatch(env: Environment, req: ApiRequest) -> ApiReply:
    """Answer ``req``; every refusal becomes the real error reply.

    Requests run one at a time (under the store's lock), so a check-then-write such as "does
    this id exist? then insert" cannot interleave with another request, as in a real database
    transaction.
    """
    try:
        with env.store.lock:
            return _route(env, req)
    except DataverseFault as fault:
        return fault_reply(fault, req.annotations)


def _resolver(req: ApiRequest) -> Any:
    def resolve(ref: str) -> tuple[str, Any]:
        if ref.startswith("$") and ref[1:] in req.content_ids:
            ref = req.content_ids[ref[1:]]
        return parse_reference(ref)

    return resolve


def _route(env: Environment, req: ApiRequest) -> ApiReply:
    path = req.path.strip("/")
    if path.startswith("$") and path[1:] in req.content_ids:
        path = req.content_ids[path[1:]].split("/api/data/v9.2/")[-1]
    if path == "$metadata":
        return ApiReply(200, csdl.document(env), {"content-type": "application/xml"})
    if path == "":
        return ApiReply(
            200,
            {
                "@odata.context": req.url("$metadata"),
                "value": [
                    {"name": t.entity_set, "kind": "EntitySet", "url": t.entity_set}
                    for t in env.tables.values()
                ],
            },
        )
    if path in ("WhoAmI", "WhoAmI()"):
        return ApiReply(
            200,
            {
                "@odata.context": req.url("$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse"),
                "BusinessUnitId": BUSINESS_UNIT_ID,
                "UserId": req.caller,
                "OrganizationId": ORG_ID,
            },
        )
    if path.startswith(("EntityDefinitions", "GlobalOptionSetDefinitions")):
        return metadata_api.handle(env, req, path)
    if path in ("PublishXml", "PublishAllXml"):
        return ApiReply(204)
    if path == "BulkDelete":
        return bulk.bulk_delete(env, req)
    if path in opportunity_close.MESSAGES:
        return opportunity_close.handle(env, req, path)
    if path in annotation_blocks.MESSAGES:
        return annotation_blocks.handle(env, req, path)
    if path.split("?")[0] == "sdkmessagefilters":
        return bulk.sdkmessagefilters(env, req)
    match = _SEGMENT.match(path)
    if not match:
        raise odata_error(f"Resource not found for the segment '{path}'.", 404)
    set_name, _, key_text, rest = match.groups()
    table = env.table_by_set(set_name)
    if key_text is None:
        if rest and rest.startswith("Microsoft.Dynamics.CRM."):
            return bulk.handle(env, table, req, rest.split(".")[-1])
        if rest:
            raise odata_error(f"Resource not found for the segment '{rest}'.", 404)
        if req.method == "GET":
            return run_query(env, table, req)
        if req.method == "POST":
            return _create(env, table, req)
        raise DataverseFault(
            405, "0x80060888", f"The HTTP method '{req.method}' is not allowed here."
        )
    key = parse_key(key_text)
    if rest:
        return _property(env, table, req, key, rest)
    if req.method == "GET":
        return _retrieve(env, table, req, key)
    if req.method == "PATCH":
        return _upsert(env, table, req, key)
    if req.method == "DELETE":
        rid = resolve_key(env, table, key)
        if rid is None:
            raise not_found(table.logical, describe_key(key))
        delete(env, table, rid, req.headers.get("if-match"))
        return ApiReply(204)
    raise DataverseFault(405, "0x80060888", f"The HTTP method '{req.method}' is not allowed here.")


def _entity_url(req: ApiRequest, table: Table, key: Any) -> str:
    return req.url(f"{table.entity_set}({describe_key(key)})")


def _wants_representation(req: ApiRequest) -> bool:
    return "return=representation" in req.prefer()


def _created_reply(
    env: Environment,
    req: ApiRequest,
    table: Table,
    rid: str,
    row: dict[str, Any],
    status: int,
    key: Any = None,
) -> ApiReply:
    if _wants_representation(req):
        body = represent(
            table,
            row,
            parse_select(table, req.query.get("$select")),
            req.wanted_annotations(),
            name_resolver(env),
        )
        body["@odata.context"] = req.url(f"$metadata#{table.entity_set}/$entity")
        return ApiReply(
            status, body, {"Preference-Applied": "return=representation", "ETag": etag(row)}
        )
    url = _entity_url(req, table, key if key is not None else rid)
    return ApiReply(204, None, {"OData-EntityId": url, "Location": url})


def _create(env: Environment, table: Table, req: ApiRequest) -> ApiReply:
    rid, row = create(env, table, req.json(table.entity_set), req.caller, _resolver(req))
    return _created_reply(env, req, table, rid, row, 201)


def _upsert(env: Environment, table: Table, req: ApiRequest, key: Any) -> ApiReply:
    if_match = req.headers.get("if-match")
    if_none = req.headers.get("if-none-match")
    if if_none == "null":
        if_none = None
    rid, row, created = upsert(
        env,
        table,
        key,
        req.json(table.entity_set),
        req.caller,
        if_match=if_match,
        if_none_match=if_none,
        resolver=_resolver(req),
    )
    return _created_reply(env, req, table, rid, row, 201 if created else 200, key)


def _retrieve(env: Environment, table: Table, req: ApiRequest, key: Any) -> ApiReply:
    rid = resolve_key(env, table, key)
    row = env.store.get(table.logical, rid) if rid else None
    if row is None:
        raise not_found(table.logical, describe_key(key))
    if req.headers.get("if-none-match") == etag(row):
        return ApiReply(304, None, {"ETag": etag(row)})  # conditional retrieve: unchanged
    body = represent(
        table,
        row,
        parse_select(table, req.query.get("$select")),
        req.wanted_annotations(),
        name_resolver(env),
    )
    body["@odata.context"] = req.url(f"$metadata#{table.entity_set}/$entity")
    if req.query.get("$expand"):
        expand_row(env, table, row, req.query["$expand"], req.wanted_annotations(), body)
    return ApiReply(200, body, {"ETag": etag(row)})


def _property(env: Environment, table: Table, req: ApiRequest, key: Any, rest: str) -> ApiReply:
    rid = resolve_key(env, table, key)
    row = env.store.get(table.logical, rid) if rid else None
    if row is None or rid is None:
        raise not_found(table.logical, describe_key(key))
    name, _, tail = rest.partition("/")
    if (
        table.logical == "annotation"
        and name == "documentbody"
        and tail == "$value"
        and req.method == "GET"
    ):
        return ApiReply(200, str(row.get("documentbody") or ""), {"content-type": "text/plain"})
    if tail == "$ref" and req.method == "DELETE" and name in table.navigation():
        update(env, table, rid, {f"{name}@odata.bind": None}, req.caller)
        return ApiReply(204)
    if name not in table.columns or table.columns[name].is_lookup:
        raise odata_error(f"Resource not found for the segment '{name}'.", 404)
    if req.method == "GET":
        return ApiReply(
            200,
            {
                "@odata.context": req.url(f"$metadata#{table.entity_set}({rid})/{name}"),
                "value": row.get(name),
            },
        )
    if req.method == "PUT":
        update(env, table, rid, {name: req.json(table.entity_set).get("value")}, req.caller)
        return ApiReply(204)
    if req.method == "DELETE":
        update(env, table, rid, {name: None}, req.caller)
        return ApiReply(204)
    raise bad_request(f"The HTTP method '{req.method}' is not allowed on a property.")


__all__ = ["APP_USER_ID", "dispatch", "message_type"]
