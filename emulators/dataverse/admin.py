"""The admin surface outside ``/api/data``: reset, canonical dump, faults, counters, users.

``GET /admin/dump`` returns every table's rows sorted by primary key with the volatile
columns (``versionnumber``, ``createdon``, ``modifiedon``, ``overriddencreatedon``,
``createdby``, ``modifiedby``) moved to a separate ``volatile`` map, so two dumps of the same
data compare equal with ``==`` while the volatile values stay inspectable. Null columns are
omitted: Dataverse does not distinguish a column set to null from one never set.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulators.dataverse.environment import ORG_ID, Environment
from emulators.dataverse.faults import FaultSettings
from emulators.dataverse.values import coerce

VOLATILE = (
    "versionnumber",
    "createdon",
    "modifiedon",
    "overriddencreatedon",
    "createdby",
    "modifiedby",
    "@t.createdby",
    "@t.modifiedby",
    "activitypartyid",
)


@dataclass
class Counters:
    """Request counters served by ``GET /admin/counters``."""

    requests: int = 0
    by_message: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    execution_s: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, message: str, status: int, code: str | None = None, cost: float = 0.0) -> None:
        """Count one answered request and the modelled execution time it was charged."""
        with self.lock:
            self.requests += 1
            self.by_message[message] += 1
            self.execution_s[message] = self.execution_s.get(message, 0.0) + cost
            if status == 429 and code:
                self.throttled[code] += 1


def canonical_dump(env: Environment) -> dict[str, Any]:
    """Every table's rows, sorted by primary key, volatile columns separated."""
    tables: dict[str, list[dict[str, Any]]] = {}
    volatile: dict[str, dict[str, dict[str, Any]]] = {}
    for logical in sorted(env.tables):
        rows = []
        for rid, row in env.store.all_rows(logical):
            # A column set to null and a column never set are the same in Dataverse (every
            # column exists; absent means null), so nulls are left out of the canonical form.
            stable = {k: v for k, v in sorted(row.items()) if k not in VOLATILE and v is not None}
            rows.append(stable)
            volatile.setdefault(logical, {})[rid] = {k: row[k] for k in VOLATILE if k in row}
        if logical == "activityparty":
            rows.sort(key=lambda r: json.dumps(r, sort_keys=True))
        tables[logical] = rows
    return {"tables": tables, "volatile": volatile}


def routes(env: Environment, faults: FaultSettings, counters: Counters) -> list[Route]:
    """Starlette routes of the admin surface."""

    async def reset(_: Request) -> JSONResponse:
        env.reset()
        return JSONResponse({"reset": True})

    async def dump(_: Request) -> JSONResponse:
        return JSONResponse(canonical_dump(env))

    async def get_faults(_: Request) -> JSONResponse:
        return JSONResponse(faults.to_json())

    async def put_faults(request: Request) -> JSONResponse:
        try:
            faults.update(await request.json())
        except (ValueError, TypeError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(faults.to_json())

    async def get_counters(_: Request) -> JSONResponse:
        rows = {t: env.store.count(t) for t in sorted(env.tables)}
        with counters.lock:
            return JSONResponse(
                {
                    "requests": counters.requests,
                    "by_message": dict(counters.by_message),
                    "throttled": dict(counters.throttled),
                    "injected": dict(counters.injected),
                    "execution_s": {k: round(v, 3) for k, v in counters.execution_s.items()},
                    "rows": rows,
                }
            )

    async def add_users(request: Request) -> JSONResponse:
        body = await request.json()
        if not isinstance(body, list):
            return JSONResponse({"error": "expected a JSON list of users"}, 400)
        created = []
        for spec in body:
            if not isinstance(spec, dict) or not spec.get("internalemailaddress"):
                return JSONResponse(
                    {"error": f"each user needs internalemailaddress: {spec!r}"}, 400
                )
            created.append(env.add_user(spec))
        return JSONResponse(created)

    async def add_token(request: Request) -> JSONResponse:
        body = await request.json()
        uid = str(body.get("systemuserid", "")) if isinstance(body, dict) else ""
        if not uid or env.store.get("systemuser", uid) is None:
            return JSONResponse({"error": f"systemuser {uid!r} does not exist"}, 404)
        return JSONResponse({"token": env.issue_token(uid)})

    async def patch_org(request: Request) -> JSONResponse:
        body = await request.json()
        table = env.tables["organization"]
        row = env.organization()
        for name, value in (body or {}).items():
            if name not in table.columns or not table.columns[name].valid_update:
                return JSONResponse({"error": f"unknown organization setting {name!r}"}, 400)
            try:
                row[name] = coerce(table.columns[name], value, "organizations")
            except Exception as exc:  # a DataverseFault with the real message
                return JSONResponse({"error": str(exc)}, 400)
        row["versionnumber"] = env.next_version()
        env.store.put_many("organization", [(ORG_ID, row)])
        return JSONResponse(row)

    return [
        Route("/admin/reset", reset, methods=["POST"]),
        Route("/admin/dump", dump, methods=["GET"]),
        Route("/admin/faults", get_faults, methods=["GET"]),
        Route("/admin/faults", put_faults, methods=["PUT"]),
        Route("/admin/counters", get_counters, methods=["GET"]),
        Route("/admin/systemusers", add_users, methods=["POST"]),
        Route("/admin/tokens", add_token, methods=["POST"]),
        Route("/admin/organization", patch_org, methods=["PATCH"]),
    ]
