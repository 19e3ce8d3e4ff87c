"""The REST resources: describe, records, bodies, query, limits, Tooling and Bulk 2.0 jobs.

Paths are matched after ``/services/data/vNN.0`` with any trailing slash removed
(simple-salesforce sends both ``query/`` and ``sobjects``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from starlette.responses import FileResponse, Response, StreamingResponse

from emulators.salesforce.errors import SalesforceApiError
from emulators.salesforce.responses import json_response
from emulators.salesforce.schema import ObjectSchema
from emulators.salesforce.values import format_datetime, parse_datetime
from shared.quoting import soql_quote

if TYPE_CHECKING:
    from emulators.salesforce.app import Handler, RequestContext, SalesforceEmulator

__all__ = ["route_table"]

_NOT_FOUND = "The requested resource does not exist"


def _object(em: SalesforceEmulator, name: str) -> ObjectSchema:
    obj = em.store.schema.get(name)
    if obj is None:
        raise SalesforceApiError(404, "NOT_FOUND", _NOT_FOUND)
    return obj


def _global_entry(obj: ObjectSchema, base: str) -> dict[str, Any]:
    d = obj.describe
    keys = ("activateable", "createable", "custom", "customSetting", "deletable",
            "deprecatedAndHidden", "feedEnabled", "keyPrefix", "label", "labelPlural",
            "layoutable", "mergeable", "name", "queryable", "replicateable", "retrieveable",
            "searchable", "triggerable", "undeletable", "updateable")  # fmt: skip
    entry = {k: d.get(k) for k in keys}
    entry["urls"] = {
        "rowTemplate": f"{base}/sobjects/{obj.name}/{{ID}}",
        "describe": f"{base}/sobjects/{obj.name}/describe",
        "sobject": f"{base}/sobjects/{obj.name}",
    }
    return entry


def _batch_size(options: str) -> int | None:
    """``batchSize`` from ``Sforce-Query-Options`` (``batchSize=500``), if given."""
    for part in options.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return int(value.strip())
    return None


def route_table(em: SalesforceEmulator) -> list[tuple[str, re.Pattern[str], Handler]]:
    """Every data resource as (method, path pattern, handler)."""

    def resources(ctx: RequestContext) -> Response:
        b = ctx.base
        return json_response(
            {
                "sobjects": f"{b}/sobjects",
                "query": f"{b}/query",
                "queryAll": f"{b}/queryAll",
                "limits": f"{b}/limits",
                "tooling": f"{b}/tooling",
                "jobs": f"{b}/jobs",
            }
        )

    def describe_global(ctx: RequestContext) -> Response:
        objs = [_global_entry(em.store.schema.objects[n.lower()], ctx.base)
                for n in em.store.schema.names()]  # fmt: skip
        return json_response({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs})

    def sobject_basic(ctx: RequestContext) -> Response:
        obj = _object(em, ctx.match["obj"])
        return json_response({"objectDescribe": _global_entry(obj, ctx.base), "recentItems": []})

    def describe(ctx: RequestContext) -> Response:
        obj = _object(em, ctx.match["obj"])
        out = obj.visible_describe()
        out["urls"] = _global_entry(obj, ctx.base)["urls"]
        out["childRelationships"] = [
            c for c in out["childRelationships"]
            if (child := em.store.schema.get(c["childSObject"])) is not None
            and c["field"].lower() in child.visible
        ]  # fmt: skip
        return json_response(out)

    def create(ctx: RequestContext) -> Response:
        obj = _object(em, ctx.match["obj"])
        body = ctx.json()
        if not isinstance(body, dict):
            raise SalesforceApiError(
                400, "JSON_PARSER_ERROR", "The request body must be a JSON object"
            )
        new_id = em.store.create(obj, body)
        return json_response({"id": new_id, "success": True, "errors": []}, 201)

    def get_record(ctx: RequestContext) -> Response:
        obj = _object(em, ctx.match["obj"])
        rid = ctx.match["id"]
        wanted = ctx.query.get("fields")
        names = (
            [f.strip() for f in wanted.split(",") if f.strip()]
            if wanted
            else [f["name"] for f in obj.describe["fields"] if f["name"].lower() in obj.visible]
        )
        if not re.fullmatch(r"[A-Za-z0-9]{15}|[A-Za-z0-9]{18}", rid):
            raise SalesforceApiError(404, "NOT_FOUND", _NOT_FOUND)
        soql = f"SELECT {', '.join(names)} FROM {obj.name} WHERE Id = {soql_quote(rid)}"
        page = em.queries.run(soql, include_deleted=False, base=ctx.base)
        if not page["records"]:
            raise SalesforceApiError(404, "NOT_FOUND", _NOT_FOUND)
        return json_response(page["records"][0])

    def update(ctx: RequestContext) -> Response:
        obj = _object(em, ctx.match["obj"])
        body = ctx.json()
        if not isinstance(body, dict):
            raise SalesforceApiError(
                400, "JSON_PARSER_ERROR", "The request body must be a JSON object"
            )
        em.store.update(obj, ctx.match["id"], body)
        return Response(status_code=204)

    def delete(ctx: RequestContext) -> Response:
        obj = _object(em, ctx.match["obj"])
        em.store.delete(obj, ctx.match["id"])
        return Response(status_code=204)

    def body(ctx: RequestContext) -> Response:
        obj = _object(em, ctx.match["obj"])
        meta = obj.visible.get(ctx.match["field"].lower())
        if meta is None or meta["type"] != "base64":
            raise SalesforceApiError(404, "NOT_FOUND", _NOT_FOUND)
        row = em.store.get_row(obj, ctx.match["id"])
        if row is None or row.get("IsDeleted"):
            raise SalesforceApiError(404, "NOT_FOUND", _NOT_FOUND)
        path = em.store.blob_path(row["Id"])
        if path is None:
            return Response(b"", media_type="application/octet-stream")
        return FileResponse(path, media_type="application/octet-stream")

    def window(ctx: RequestContext) -> tuple[str, str]:
        try:
            start = format_datetime(parse_datetime(ctx.query["start"]))
            end = format_datetime(parse_datetime(ctx.query["end"]))
        except (KeyError, ValueError):
            raise SalesforceApiError(
                400, "INVALID_REPLICATION_DATE", "start and end must be ISO 8601 datetimes"
            ) from None
        return start, end

    def updated(ctx: RequestContext) -> Response:
        obj = _object(em, ctx.match["obj"])
        start, end = window(ctx)
        rows = em.store.execute(
            f'SELECT "Id" FROM "{obj.name}" WHERE "IsDeleted" = 0 AND "SystemModstamp" >= ? '
            'AND "SystemModstamp" < ? ORDER BY "SystemModstamp"',
            (start, end),
        )
        return json_response({"ids": [r[0] for r in rows], "latestDateCovered": end})

    def deleted(ctx: RequestContext) -> Response:
        obj = _object(em, ctx.match["obj"])
        start, end = window(ctx)
        rows = em.store.execute(
            f'SELECT "Id", "SystemModstamp" FROM "{obj.name}" WHERE "IsDeleted" = 1 AND '
            '"SystemModstamp" >= ? AND "SystemModstamp" < ? ORDER BY "SystemModstamp"',
            (start, end),
        )
        return json_response(
            {
                "deletedRecords": [{"id": r[0], "deletedDate": r[1]} for r in rows],
                "earliestDateAvailable": start,
                "latestDateCovered": end,
            }
        )

    def query(resource: str, include_deleted: bool, tooling: bool = False) -> Handler:
        def run(ctx: RequestContext) -> Response:
            soql = ctx.query.get("q")
            if soql is None:
                raise SalesforceApiError(400, "MALFORMED_QUERY", "A query string is required: ?q=")
            schema = em.tooling if tooling else None
            batch = _batch_size(ctx.request.headers.get("sforce-query-options", ""))
            return json_response(
                em.queries.run(
                    soql,
                    include_deleted=include_deleted,
                    base=ctx.base + "/tooling" if tooling else ctx.base,
                    schema=schema,
                    resource=resource,
                    batch_size=batch,
                )
            )

        return run

    def more(ctx: RequestContext) -> Response:
        return json_response(
            em.queries.more(ctx.match["locator"], int(ctx.match["offset"]), ctx.base)
        )

    def tooling_more(ctx: RequestContext) -> Response:
        return json_response(
            em.queries.more(ctx.match["locator"], int(ctx.match["offset"]), ctx.base + "/tooling")
        )

    def limits(ctx: RequestContext) -> Response:
        used, cap = em.usage.used, em.usage.limit
        jobs = len(em.bulk.list()["records"])
        return json_response(
            {
                "DailyApiRequests": {"Max": cap, "Remaining": max(0, cap - used)},
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000 - jobs},
                "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
                "DataStorageMB": {"Max": 1024, "Remaining": 1024},
                "FileStorageMB": {"Max": 1024, "Remaining": 1024},
                "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
            }
        )

    def job_create(ctx: RequestContext) -> Response:
        body = ctx.json()
        if not isinstance(body, dict):
            raise SalesforceApiError(
                400, "JSON_PARSER_ERROR", "The request body must be a JSON object"
            )
        return json_response(em.bulk.create(body, ctx.version), 200)

    def job_get(ctx: RequestContext) -> Response:
        return json_response(em.bulk.status(ctx.match["job"]))

    def job_patch(ctx: RequestContext) -> Response:
        body = ctx.json()
        if not isinstance(body, dict) or body.get("state") != "Aborted":
            raise SalesforceApiError(400, "INVALIDJOB", 'Only {"state": "Aborted"} is accepted')
        return json_response(em.bulk.abort(ctx.match["job"]))

    def job_delete(ctx: RequestContext) -> Response:
        em.bulk.delete(ctx.match["job"])
        return Response(status_code=204)

    def job_list(ctx: RequestContext) -> Response:
        return json_response(em.bulk.list())

    def job_results(ctx: RequestContext) -> Response:
        raw_max = ctx.query.get("maxRecords")
        try:
            max_records = int(raw_max) if raw_max else None
        except ValueError:
            raise SalesforceApiError(
                400, "INVALIDJOB", f"maxRecords must be a number: {raw_max}"
            ) from None
        count, locator, lines = em.bulk.results(
            ctx.match["job"], ctx.query.get("locator"), max_records
        )

        def encoded() -> Iterator[bytes]:
            for line in lines:
                yield line.encode("utf-8")

        return StreamingResponse(
            encoded(),
            media_type="text/csv",
            headers={"Sforce-NumberOfRecords": str(count), "Sforce-Locator": locator},
        )

    obj = r"(?P<obj>[A-Za-z0-9_]+)"
    rid = r"(?P<id>[A-Za-z0-9]+)"
    job = r"(?P<job>[A-Za-z0-9]+)"
    table: list[tuple[str, str, Handler]] = [
        ("GET", r"/", resources),
        ("GET", r"/sobjects", describe_global),
        ("GET", rf"/sobjects/{obj}", sobject_basic),
        ("POST", rf"/sobjects/{obj}", create),
        ("GET", rf"/sobjects/{obj}/describe", describe),
        ("GET", rf"/sobjects/{obj}/updated", updated),
        ("GET", rf"/sobjects/{obj}/deleted", deleted),
        ("GET", rf"/sobjects/{obj}/{rid}", get_record),
        ("PATCH", rf"/sobjects/{obj}/{rid}", update),
        ("DELETE", rf"/sobjects/{obj}/{rid}", delete),
        ("GET", rf"/sobjects/{obj}/{rid}/(?P<field>[A-Za-z0-9_]+)", body),
        ("GET", r"/query", query("query", False)),
        ("GET", r"/queryAll", query("queryAll", True)),
        ("GET", r"/(?:query|queryAll)/(?P<locator>01g[A-Za-z0-9]+)-(?P<offset>\d+)", more),
        ("GET", r"/tooling/query", query("query", False, tooling=True)),
        ("GET", r"/tooling/query/(?P<locator>01g[A-Za-z0-9]+)-(?P<offset>\d+)", tooling_more),
        ("GET", r"/limits", limits),
        ("POST", r"/jobs/query", job_create),
        ("GET", r"/jobs/query", job_list),
        ("GET", rf"/jobs/query/{job}", job_get),
        ("PATCH", rf"/jobs/query/{job}", job_patch),
        ("DELETE", rf"/jobs/query/{job}", job_delete),
        ("GET", rf"/jobs/query/{job}/results", job_results),
    ]
    return [(m, re.compile(p + "$"), h) for m, p, h in table]
