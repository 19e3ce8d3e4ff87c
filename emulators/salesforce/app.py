"""The emulator as one ASGI application: authentication, API allocation, faults, dispatch.

Every ``/services/data/vNN.0/...`` request must carry ``Authorization: Bearer <token>``
(the token printed at start, or one issued by ``/services/oauth2/token``); each one counts
against the org's daily API allocation, reported in ``Sforce-Limit-Info``, and is refused
with 403 ``REQUEST_LIMIT_EXCEEDED`` once the allocation is used. Injected faults (5xx,
dropped connections) apply to the same requests. ``/__admin/...`` is the emulator's own
control surface (reset, counters, faults, limits, clock) and is not part of Salesforce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import secrets
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulators.salesforce.bulk import BulkJobs
from emulators.salesforce.errors import SalesforceApiError
from emulators.salesforce.orgdir import OrgConfig, read_org_config, read_schema_files
from emulators.salesforce.queries import QueryService
from emulators.salesforce.responses import DroppedConnection, api_error, json_response
from emulators.salesforce.schema import OrgSchema
from emulators.salesforce.store import OrgStore
from emulators.salesforce.tooling import install_tooling
from emulators.salesforce.values import Clock

__all__ = ["EmulatorOptions", "SalesforceEmulator", "build_app"]

API_VERSION = "59.0"
MIN_VERSION = 31
MAX_VERSION = 62
_VERSION_PATH = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")


@dataclass
class EmulatorOptions:
    """Start-up knobs (all also changeable later through ``/__admin``)."""

    fault_5xx: float = 0.0
    fault_drop: float = 0.0
    fault_seed: int | None = None
    daily_limit: int | None = None
    page_size: int = 2000
    reset: bool = False
    access_token: str | None = None
    query_all_files: bool = False


@dataclass
class Usage:
    """API requests counted today, by resource, and the allocation."""

    limit: int
    used: int = 0
    by_resource: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    faults_5xx: int = 0
    faults_dropped: int = 0


Handler = Callable[["RequestContext"], Response]


@dataclass
class RequestContext:
    """What a resource handler needs from one request."""

    request: Request
    method: str
    version: str
    base: str
    path: str
    match: re.Match[str]
    query: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The request body as JSON, or a ``JSON_PARSER_ERROR``."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise SalesforceApiError(
                400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}"
            ) from None


class SalesforceEmulator:
    """One org served over HTTP: the store, the query engine, jobs, sessions and counters."""

    def __init__(self, org_dir: Path, options: EmulatorOptions | None = None) -> None:
        self.org_dir = org_dir
        self.options = options or EmulatorOptions()
        self.config: OrgConfig = read_org_config(org_dir)
        self.clock = Clock()
        schema = OrgSchema.for_org(
            read_schema_files(org_dir), self.config.hidden_fields, source=str(org_dir)
        )
        self.store = OrgStore(org_dir, schema, self.config, self.clock)
        self.store.open(reset=self.options.reset)
        self.tooling = install_tooling(self.store)
        self._new_services()
        self.access_token = self.options.access_token or self._issue_token()
        self.tokens: set[str] = {self.access_token}
        self.usage = Usage(self.options.daily_limit or self.config.daily_api_requests)
        self.rng = random.Random(self.options.fault_seed)
        self.lock = threading.Lock()
        from emulators.salesforce.api_routes import route_table

        self.routes: list[tuple[str, re.Pattern[str], Handler]] = route_table(self)

    def _new_services(self) -> None:
        relax = (lambda _name: True) if self.options.query_all_files else None
        self.queries = QueryService(
            self.store, page_size=self.options.page_size, relax_filter_rules=relax
        )
        self.bulk = BulkJobs(self.queries, self.config.user.id)

    def _issue_token(self) -> str:
        return f"{self.config.org_id[:15]}!{secrets.token_urlsafe(48)}"

    def reset(self) -> None:
        """Reload the org directory; forget cursors, jobs and counters."""
        self.store.open(reset=True)
        self.tooling = install_tooling(self.store)
        self._new_services()
        with self.lock:
            self.usage = Usage(self.usage.limit)

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    # -- OAuth ------------------------------------------------------------------------------

    def token_response(self, form: dict[str, str], instance_url: str) -> Response:
        """``POST /services/oauth2/token``: username-password and client-credentials flows."""
        user = self.config.user
        grant = form.get("grant_type", "")
        if grant not in ("password", "client_credentials"):
            return json_response(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
                400,
            )
        if form.get("client_id") != user.client_id:
            return json_response(
                {"error": "invalid_client_id", "error_description": "client identifier invalid"},
                400,
            )
        if not hmac.compare_digest(form.get("client_secret", ""), user.client_secret):
            return json_response(
                {"error": "invalid_client", "error_description": "invalid client credentials"},
                400,
            )
        if grant == "password" and (
            form.get("username") != user.username
            or not hmac.compare_digest(form.get("password", ""), user.password)
        ):
            return json_response(
                {"error": "invalid_grant", "error_description": "authentication failure"}, 400
            )
        token = self._issue_token()
        with self.lock:
            self.tokens.add(token)
        issued = str(int(time.time() * 1000))
        ident = f"{instance_url}/id/{self.config.org_id}/{user.id}"
        signature = base64.b64encode(
            hmac.new(
                user.client_secret.encode(), (ident + issued).encode(), hashlib.sha256
            ).digest()
        ).decode()
        return json_response(
            {
                "access_token": token,
                "instance_url": instance_url,
                "id": ident,
                "token_type": "Bearer",
                "issued_at": issued,
                "signature": signature,
            }
        )

    # -- the data API -----------------------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        """True if the request carries a session this server issued."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in ("bearer", "oauth"):
            token = request.headers.get("x-sfdc-session", "")
        with self.lock:
            return bool(token) and token.strip() in self.tokens

    def limit_header(self) -> dict[str, str]:
        """``Sforce-Limit-Info`` as simple-salesforce parses it."""
        return {"Sforce-Limit-Info": f"api-usage={self.usage.used}/{self.usage.limit}"}

    def count_request(self, resource: str) -> SalesforceApiError | None:
        """Count one API request, or refuse it when the allocation is used up."""
        with self.lock:
            if self.usage.used >= self.usage.limit:
                self.usage.refused += 1
                return SalesforceApiError(
                    403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
                )
            self.usage.used += 1
            self.usage.by_resource[resource] += 1
            return None

    def draw_fault(self) -> str | None:
        """Decide whether this request fails: "5xx", "drop" or None."""
        with self.lock:
            roll = self.rng.random()
            if roll < self.options.fault_5xx:
                self.usage.faults_5xx += 1
                return "5xx"
            if roll < self.options.fault_5xx + self.options.fault_drop:
                self.usage.faults_dropped += 1
                return "drop"
        return None

    async def data_api(self, request: Request) -> Response:
        """Dispatch ``/services/data/...``: versions, then authenticated resources."""
        path = request.url.path.rstrip("/") or "/"
        if path == "/services/data":
            return json_response(_versions())
        m = _VERSION_PATH.match(path)
        if not m:
            return api_error(
                SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
            )
        version, rest = m.group(1), (m.group(2) or "")
        major = int(version.split(".")[0])
        if not MIN_VERSION <= major <= MAX_VERSION:
            return api_error(
                SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
            )
        if not self.authorized(request):
            return api_error(
                SalesforceApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
            )
        resource = _resource_name(rest)
        refused = self.count_request(resource)
        headers = self.limit_header()
        if refused is not None:
            return api_error(refused, headers)
        fault = self.draw_fault()
        if fault == "drop":
            return DroppedConnection()
        if fault == "5xx":
            return api_error(
                SalesforceApiError(
                    503, "SERVER_UNAVAILABLE", "Server temporarily unavailable (injected fault)"
                ),
                headers,
            )
        body = await request.body()
        for method, pattern, handler in self.routes:
            if method != request.method:
                continue
            match = pattern.match(rest or "/")
            if match is None:
                continue
            ctx = RequestContext(
                request, request.method, version, f"/services/data/v{version}", rest, match,
                dict(request.query_params), body,
            )  # fmt: skip
            try:
                response = await run_in_threadpool(handler, ctx)
            except SalesforceApiError as exc:
                return api_error(exc, headers)
            except Exception as exc:  # an emulator bug: answer like Salesforce, log the trace
                traceback.print_exc(file=sys.stderr)
                return api_error(
                    SalesforceApiError(
                        500, "UNKNOWN_EXCEPTION",
                        f"An unexpected error occurred in the emulator: {type(exc).__name__}",
                    ),
                    headers,
                )  # fmt: skip
            response.headers.update(headers)
            return response
        return api_error(
            SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist"), headers
        )

    async def oauth(self, request: Request) -> Response:
        """``POST /services/oauth2/token`` (form-encoded)."""
        raw = (await request.body()).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        form.update({k: v for k, v in request.query_params.items() if k not in form})
        instance = f"{request.url.scheme}://{request.url.netloc}"
        return self.token_response(form, instance)


def _versions() -> list[dict[str, str]]:
    seasons = ["Spring", "Summer", "Winter"]
    out = []
    for major in range(MIN_VERSION, MAX_VERSION + 1):
        year = 15 + (major - 31 + 1) // 3
        out.append(
            {
                "label": f"{seasons[(major - 31 + 1) % 3]} '{year:02d}",
                "url": f"/services/data/v{major}.0",
                "version": f"{major}.0",
            }
        )
    return out


def _resource_name(rest: str) -> str:
    parts = [p for p in rest.split("/") if p]
    if not parts:
        return "versions"
    if parts[0] in ("jobs", "tooling") and len(parts) > 1:
        return f"{parts[0]}/{parts[1]}"
    return parts[0]


def build_app(emulator: SalesforceEmulator) -> Starlette:
    """The ASGI app for ``emulator`` (admin routes included)."""
    from emulators.salesforce.api_admin import admin_routes

    async def data(request: Request) -> Response:
        return await emulator.data_api(request)

    async def oauth(request: Request) -> Response:
        return await emulator.oauth(request)

    methods = ["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"]
    routes: list[Route] = [
        Route("/services/oauth2/token", oauth, methods=["POST"]),
        Route("/services/data", data, methods=methods),
        Route("/services/data/{rest:path}", data, methods=methods),
        *admin_routes(emulator),
    ]
    app = Starlette(routes=routes)
    app.state.emulator = emulator
    return app
