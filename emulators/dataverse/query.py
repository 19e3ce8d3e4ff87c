"""Collection reads: ``$filter $select $orderby $top $count`` and server-driven paging."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from emulators.dataverse.environment import Environment
from emulators.dataverse.errors import odata_error
from emulators.dataverse.expand import expand_row
from emulators.dataverse.metadata import Table
from emulators.dataverse.odata_filter import to_sql
from emulators.dataverse.protocol import ApiReply, ApiRequest
from emulators.dataverse.represent import column_of_property, name_resolver, represent
from emulators.dataverse.store import json_path

DEFAULT_PAGE = 5000


def parse_select(table: Table, text: str | None) -> list[str] | None:
    """``$select`` as logical column names (lookups may be named ``_x_value``)."""
    if not text:
        return None
    return [column_of_property(table, p.strip()) for p in text.split(",") if p.strip()]


def _order_sql(table: Table, text: str | None) -> str:
    parts = []
    for item in (text or "").split(","):
        words = item.split()
        if not words:
            continue
        logical = column_of_property(table, words[0])
        direction = words[1].upper() if len(words) > 1 else "ASC"
        if direction not in ("ASC", "DESC"):
            raise odata_error(f"Invalid $orderby direction '{words[1]}'.")
        expr = "id" if logical == table.primary_id else f"json_extract(data, {json_path(logical)})"
        parts.append(f"{expr} {direction}")
    parts.append("id ASC")
    return ", ".join(parts)


def _page_size(req: ApiRequest) -> int:
    for part in req.prefer().split(","):
        name, _, value = part.strip().partition("=")
        if name == "odata.maxpagesize" and value.strip().isdigit():
            return max(1, min(int(value), DEFAULT_PAGE))
    return DEFAULT_PAGE


def run_query(env: Environment, table: Table, req: ApiRequest) -> ApiReply:
    """GET on an entity set."""
    q = req.query
    aliases = {k: v for k, v in q.items() if k.startswith("@")}
    where, params = to_sql(table, q.get("$filter"), aliases)
    select = parse_select(table, q.get("$select"))
    order = _order_sql(table, q.get("$orderby"))
    top = int(q["$top"]) if q.get("$top", "").isdigit() else None
    size = _page_size(req)
    offset = 0
    if "$skiptoken" in q:
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(q["$skiptoken"]))["offset"])
        except (ValueError, KeyError, TypeError):
            raise odata_error("The $skiptoken value is not valid.") from None
    remaining = None if top is None else max(0, top - offset)
    want = size if remaining is None else min(size, remaining)
    rows = env.store.select(table.logical, where, params, order, want + 1, offset)
    more = len(rows) > want and (remaining is None or want < remaining)
    rows = rows[:want]
    body: dict[str, Any] = {
        "@odata.context": req.url(f"$metadata#{table.entity_set}"),
    }
    if q.get("$count", "").lower() == "true":
        total = env.store.count(table.logical, where, params)
        body["@odata.count"] = min(total, 5000)
        if total > 5000:
            body["@Microsoft.Dynamics.CRM.totalrecordcount"] = -1
    wanted, names = req.wanted_annotations(), name_resolver(env)
    body["value"] = []
    for row in rows:
        item = represent(table, row, select, wanted, names)
        if q.get("$expand"):
            expand_row(env, table, row, q["$expand"], wanted, item)
        body["value"].append(item)
    if more:
        nxt = {k: v for k, v in q.items() if k != "$skiptoken"}
        nxt["$skiptoken"] = base64.urlsafe_b64encode(
            json.dumps({"offset": offset + want}).encode()
        ).decode()
        body["@odata.nextLink"] = req.url(f"{table.entity_set}?{urlencode(nxt)}")
    return ApiReply(
        200,
        body,
        {"Preference-Applied": f"odata.maxpagesize={size}"}
        if "maxpagesize" in req.prefer()
        else {},
    )
