"""``/__admin``: the emulator's own control surface (not part of Salesforce).

JSON over loopback, no authentication (the server only listens on 127.0.0.1):

- ``GET /__admin/state``: counters, faults, API allocation, clock.
- ``POST /__admin/reset``: reload the org directory (drops API writes, cursors, jobs, counters).
- ``POST /__admin/faults`` ``{"rate_5xx": 0.1, "rate_drop": 0.05, "seed": 1}``.
- ``POST /__admin/limits`` ``{"daily_api_requests": 100, "used": 0}``.
- ``POST /__admin/clock`` ``{"advance_seconds": 3600}`` or ``{"now": "2030-01-01T00:00:00Z"}``.
- ``POST /__admin/purge`` ``{"ids": ["003..."]}``: empty those records from the recycle bin
  (what Salesforce does after 15 days, or ``emptyRecycleBin()``): they are gone for
  ``queryAll`` too. Only deleted records can be purged.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulators.salesforce.responses import json_response
from emulators.salesforce.values import format_datetime, parse_datetime

if TYPE_CHECKING:
    from emulators.salesforce.app import SalesforceEmulator

__all__ = ["admin_routes", "admin_state"]


def admin_state(em: SalesforceEmulator) -> dict[str, Any]:
    """Everything ``GET /__admin/state`` reports."""
    u = em.usage
    return {
        "api_requests": {
            "used": u.used,
            "limit": u.limit,
            "refused": u.refused,
            "by_resource": dict(sorted(u.by_resource.items())),
        },
        "faults": {
            "rate_5xx": em.options.fault_5xx,
            "rate_drop": em.options.fault_drop,
            "injected_5xx": u.faults_5xx,
            "injected_drop": u.faults_dropped,
        },
        "clock": {
            "now": format_datetime(em.clock.now()),
            "offset_seconds": em.clock.offset.total_seconds(),
        },
        "org_dir": str(em.org_dir),
    }


def admin_routes(em: SalesforceEmulator) -> list[Route]:
    """Starlette routes for the admin surface."""

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    def bad(message: str) -> Response:
        return json_response({"error": message}, 400)

    async def state(request: Request) -> Response:
        return json_response(admin_state(em))

    async def reset(request: Request) -> Response:
        await run_in_threadpool(em.reset)
        return json_response(admin_state(em))

    async def faults(request: Request) -> Response:
        try:
            data = await body(request)
            rate_5xx = float(data.get("rate_5xx", em.options.fault_5xx))
            rate_drop = float(data.get("rate_drop", em.options.fault_drop))
        except (ValueError, TypeError) as exc:
            return bad(str(exc))
        if not (0 <= rate_5xx <= 1 and 0 <= rate_drop <= 1 and rate_5xx + rate_drop <= 1):
            return bad("rates must be between 0 and 1 and add up to at most 1")
        with em.lock:
            em.options.fault_5xx, em.options.fault_drop = rate_5xx, rate_drop
            if "seed" in data:
                em.rng = random.Random(data["seed"])
        return json_response(admin_state(em))

    async def limits(request: Request) -> Response:
        try:
            data = await body(request)
            with em.lock:
                if "daily_api_requests" in data:
                    em.usage.limit = int(data["daily_api_requests"])
                if "used" in data:
                    em.usage.used = int(data["used"])
        except (ValueError, TypeError) as exc:
            return bad(str(exc))
        return json_response(admin_state(em))

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            try:
                data = await body(request)
                if "now" in data:
                    em.clock.set(parse_datetime(str(data["now"])))
                if "advance_seconds" in data:
                    em.clock.advance(float(data["advance_seconds"]))
            except (ValueError, TypeError) as exc:
                return bad(str(exc))
        return json_response(admin_state(em)["clock"])

    async def purge(request: Request) -> Response:
        try:
            data = await body(request)
            ids = [str(i) for i in data.get("ids", [])]
        except (ValueError, TypeError) as exc:
            return bad(str(exc))
        try:
            purged = await run_in_threadpool(em.store.purge, ids)
        except ValueError as exc:
            return bad(str(exc))
        return json_response({"purged": purged})

    return [
        Route("/__admin/purge", purge, methods=["POST"]),
        Route("/__admin/state", state, methods=["GET"]),
        Route("/__admin/reset", reset, methods=["POST"]),
        Route("/__admin/faults", faults, methods=["POST"]),
        Route("/__admin/limits", limits, methods=["POST"]),
        Route("/__admin/clock", clock, methods=["GET", "POST"]),
    ]
