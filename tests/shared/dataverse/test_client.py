"""The client: headers, Retry-After, retries without duplicates, token refresh, dop hint.

These tests drive the client through httpx's in-process transport with a small stateful app
so each failure sequence is exact; the emulator tests in test_load.py exercise the same client
over a real socket against service-protection limits.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from shared.dataverse.auth import StaticToken
from shared.dataverse.client import DataverseClient
from shared.errors import (
    AuthenticationError,
    RejectedByTargetError,
    TransientServiceError,
    UnreachableError,
)

URL = "https://org.example.com"


class Tokens:
    def __init__(self) -> None:
        self.refreshes = 0

    async def token(self, *, force_refresh: bool = False) -> SecretStr:
        if force_refresh:
            self.refreshes += 1
        return SecretStr(f"t{self.refreshes}")

    async def close(self) -> None:
        pass


def make(
    handler: Callable[[httpx.Request], httpx.Response], **kw: object
) -> tuple[DataverseClient, list[float]]:
    slept: list[float] = []
    now = [0.0]

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = DataverseClient(
        http,
        url=URL,
        tokens=kw.pop("tokens", StaticToken(SecretStr("tok"))),  # type: ignore[arg-type]
        sleep=sleep,
        clock=lambda: now[0],
        backoff_seconds=0.5,
        **kw,  # type: ignore[arg-type]
    )
    return client, slept


async def test_sends_the_web_api_headers_and_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def app(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    client, _ = make(app)
    await client.request("PATCH", "accounts(1)", json={"name": "A"})
    headers = seen[0].headers
    assert str(seen[0].url) == URL + "/api/data/v9.2/accounts(1)"
    assert headers["OData-Version"] == "4.0"
    assert headers["OData-MaxVersion"] == "4.0"
    assert headers["If-None-Match"] == "null"
    assert headers["Accept"] == "application/json"
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Bearer tok"


async def test_retry_after_is_honoured_and_the_write_happens_once() -> None:
    writes: list[dict[str, object]] = []
    calls = 0

    def app(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls <= 2:
            return httpx.Response(
                429,
                headers={"Retry-After": "3"},
                json={"error": {"code": "0x80072322", "message": "Number of requests exceeded"}},
            )
        writes.append(json.loads(request.content))
        return httpx.Response(204)

    client, slept = make(app)
    await client.request("PATCH", "accounts(1)", json={"name": "A"})
    assert slept == [3.0, 3.0]
    assert writes == [{"name": "A"}]
    assert client.stats.throttled == 2
    assert client.limiter.throttles == 2


async def test_transient_failures_back_off_exponentially_then_give_up() -> None:
    def app(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"code": "", "message": "unavailable"}})

    client, slept = make(app, max_retries=3)
    with pytest.raises(TransientServiceError, match="unavailable"):
        await client.request("GET", "accounts")
    assert slept == [0.5, 1.0, 2.0]
    assert client.stats.requests == 4


async def test_dropped_connection_is_retried() -> None:
    calls = 0

    def app(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return httpx.Response(200, json={"value": []})

    client, slept = make(app)
    assert (await client.request("GET", "accounts")).status_code == 200
    assert slept == [0.5]


async def test_unreachable_environment_stops_at_once() -> None:
    def app(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    client, slept = make(app)
    with pytest.raises(UnreachableError, match="cannot reach the Dataverse environment"):
        await client.request("GET", "WhoAmI")
    assert slept == []


async def test_401_refreshes_the_token_once_then_stops() -> None:
    tokens = Tokens()
    auths: list[str] = []

    def app(request: httpx.Request) -> httpx.Response:
        auths.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer t0":
            return httpx.Response(401, json={"error": {"code": "", "message": "expired"}})
        return httpx.Response(200, json={"UserId": "u"})

    client, _ = make(app, tokens=tokens)
    await client.request("GET", "WhoAmI")
    assert auths == ["Bearer t0", "Bearer t1"]

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"code": "", "message": "bad audience"}})

    client, _ = make(refuse, tokens=Tokens())
    with pytest.raises(AuthenticationError, match="bad audience"):
        await client.request("GET", "WhoAmI")
    assert client.stats.requests == 2


async def test_record_rejection_is_not_retried() -> None:
    def app(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"error": {"code": "0x8004431A", "message": "picklist out of range"}}
        )

    client, slept = make(app)
    with pytest.raises(RejectedByTargetError) as err:
        await client.request("PATCH", "accounts(1)", json={"industrycode": 99})
    assert err.value.server_code == "0x8004431a"
    assert slept == []


async def test_connect_sizes_concurrency_from_dop_hint() -> None:
    def app(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"UserId": "abc"}, headers={"x-ms-dop-hint": "4"})

    client, _ = make(app, max_concurrency=16)
    assert await client.connect() == "abc"
    assert client.dop_hint == 4
    assert client.limiter.limit == 4


async def test_get_all_follows_next_links() -> None:
    def app(request: httpx.Request) -> httpx.Response:
        if "page=2" in str(request.url):
            return httpx.Response(200, json={"value": [{"n": 3}]})
        return httpx.Response(
            200,
            json={
                "value": [{"n": 1}, {"n": 2}],
                "@odata.nextLink": URL + "/api/data/v9.2/x?page=2",
            },
        )

    client, _ = make(app)
    rows = [row async for row in client.get_all("x")]
    assert [r["n"] for r in rows] == [1, 2, 3]
