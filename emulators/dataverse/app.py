"""The Starlette application: auth, service protection, faults, latency, then the Web API.

``create_app`` wires an :class:`Environment` (SQLite under ``data_dir``) to the routes under
``/api/data/v9.2/`` and the admin surface under ``/admin/``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from emulators.dataverse import admin, batch
from emulators.dataverse.api import dispatch, message_type
from emulators.dataverse.environment import Environment, Options
from emulators.dataverse.errors import DataverseFault
from emulators.dataverse.faults import FaultInjector, FaultSettings
from emulators.dataverse.limits import ServiceProtection, parse_mode, request_cost
from emulators.dataverse.protocol import API_PREFIX, ApiReply, ApiRequest, fault_reply

DOP_HINT = "4"
LOG = logging.getLogger("emulators.dataverse")


@dataclass
class AppConfig:
    """Everything the CLI flags and ``run_dataverse`` options can set."""

    data_dir: Path
    limits: str = "off"
    latency: str = "off"
    faults: FaultSettings = field(default_factory=FaultSettings)
    options: Options = field(default_factory=Options)


def _count_items(req: ApiRequest, reply: ApiReply) -> int:
    if isinstance(reply.body, dict) and isinstance(reply.body.get("value"), list):
        return len(reply.body["value"])
    if req.path.endswith("Multiple"):
        try:
            return len(json.loads(req.body).get("Targets", []))
        except (ValueError, AttributeError):
            return 0
    return 1


def _unauthorized() -> ApiReply:
    fault = DataverseFault(
        401,
        "0x80072560",
        "The user is not authenticated: send a valid bearer token in the Authorization header.",
    )
    challenge = (
        'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"'
    )
    return ApiReply(401, fault.body(), {"WWW-Authenticate": challenge})


def _injected(kind: str) -> Response:
    if kind == "drop":
        return _DroppedResponse()
    fault = DataverseFault(503, "0x80040216", "An unexpected error occurred. (injected fault)")
    return _response(fault_reply(fault))


def _response(reply: ApiReply) -> Response:
    headers = {"OData-Version": "4.0", "x-ms-dop-hint": DOP_HINT, **reply.headers}
    media = reply.content_type()
    headers.pop("content-type", None)
    return Response(reply.encoded(), reply.status, headers=headers, media_type=media)


def create_app(config: AppConfig) -> Starlette:
    """Build the ASGI app for one emulated environment."""
    env = Environment(config.data_dir, config.options)
    protection = ServiceProtection(parse_mode(config.limits))
    latency = parse_mode(config.latency)
    injector = FaultInjector(config.faults)
    counters = admin.Counters()

    async def execute(req: ApiRequest, message: str) -> tuple[ApiReply, float]:
        """Run the request in a worker thread; return the reply and its modelled cost."""
        try:
            if req.path == "$batch":
                try:
                    reply, parts = await anyio.to_thread.run_sync(batch.handle, env, req, dispatch)
                except DataverseFault as refused:
                    reply, parts = fault_reply(refused), []
                cost = sum(
                    request_cost(message_type(p), p.method, _count_items(p, r)) for p, r in parts
                )
                return reply, cost
            reply = await anyio.to_thread.run_sync(dispatch, env, req)
            return reply, request_cost(message, req.method, _count_items(req, reply))
        except Exception:  # a bug in the emulator: answer like the platform, log the cause
            LOG.exception("emulator error on %s %s", req.method, req.path)
            failure = DataverseFault(500, "0x80040216", "An unexpected error occurred.")
            return fault_reply(failure), 0.0

    async def api(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        user = env.user_for_token(token) if token else None
        if user is None:
            counters.count("Unauthorized", 401)
            return _response(_unauthorized())
        target = request.url.path[len(API_PREFIX) :]
        if request.url.query:
            target += "?" + request.url.query
        headers = {k.lower(): v for k, v in request.headers.items()}
        base = f"{request.url.scheme}://{request.url.netloc}{API_PREFIX}"
        body = await request.body()
        req = ApiRequest.from_target(request.method, target, headers, body, user, base)
        message = message_type(req)
        try:
            protection.acquire(user)
        except DataverseFault as fault:
            counters.count(message, 429, fault.code)
            return _response(fault_reply(fault))
        cost = 0.0
        try:
            if config.faults.slow_seconds:
                await asyncio.sleep(config.faults.slow_seconds)
            drawn = injector.draw()
            if drawn is not None:
                counters.injected[drawn] += 1
                return _injected(drawn)
            reply, cost = await execute(req, message)
            if latency:
                await asyncio.sleep(cost / latency)
            code = reply.body.get("error", {}).get("code") if isinstance(reply.body, dict) else None
            counters.count(message, reply.status, code, cost)
            return _response(reply)
        finally:
            protection.release(user, cost)

    verbs = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    app = Starlette(
        routes=[
            Route(API_PREFIX.rstrip("/") + "/{path:path}", api, methods=verbs),
            Route(API_PREFIX.rstrip("/"), api, methods=["GET"]),
            *admin.routes(env, config.faults, counters),
        ]
    )
    app.state.env = env
    app.state.counters = counters
    app.state.protection = protection
    return app


class _DroppedResponse(Response):
    """Promises more bytes than it sends: the client sees the connection close mid-reply."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1000")],
            }
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": False})


def environment_of(app: Any) -> Environment:
    """The :class:`Environment` behind an app from :func:`create_app` (tests, bench)."""
    env: Environment = app.state.env
    return env
