"""One async Dataverse Web API client: headers, tokens, retries, adaptive concurrency.

Every request the loader, the metadata reader, schema deploy and reconciliation make goes
through :meth:`DataverseClient.request`, so the rules hold everywhere:

- the headers the Web API expects (``OData-Version``, ``If-None-Match: null``...);
- ``Retry-After`` is always honoured, and pauses *all* new requests, not just the throttled one;
- 5xx, dropped connections and timeouts are retried with exponential backoff (every write we
  send is an upsert by primary key, so a retry after a lost response cannot duplicate);
- a 401 refreshes the token once, then stops the run with :class:`AuthenticationError`;
- concurrency starts at ``x-ms-dop-hint`` and adapts to 429s (see ``concurrency``).

The httpx client is injected (``http_client`` builds the usual one) so tests talk to the
emulator over a real socket with the same code a real environment gets.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.dataverse.auth import TokenSource
from shared.dataverse.classify import classify
from shared.dataverse.concurrency import AdaptiveLimiter
from shared.errors import AuthenticationError, RetryableError, TargetError, ThrottledError
from shared.settings import DataverseSettings

__all__ = ["API_PATH", "ClientStats", "DataverseClient", "http_client"]

API_PATH = "/api/data/v9.2/"
BASE_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
    "If-None-Match": "null",
}
MAX_BACKOFF_SECONDS = 60.0

Sleep = Callable[[float], Awaitable[None]]


def http_client(settings: DataverseSettings) -> httpx.AsyncClient:
    """The httpx client a run uses: TLS per settings, pool sized to the concurrency bound."""
    verify: ssl.SSLContext | bool = settings.verify_tls
    if settings.ca_cert:
        verify = ssl.create_default_context(cafile=str(settings.ca_cert))
    limits = httpx.Limits(
        max_connections=settings.max_concurrency, max_keepalive_connections=settings.max_concurrency
    )
    return httpx.AsyncClient(
        verify=verify, timeout=httpx.Timeout(settings.timeout_seconds), limits=limits
    )


@dataclass
class ClientStats:
    """What the client did, for benchmarks and the run report (requests per record...)."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    transient: int = 0
    by_action: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe counters."""
        return {
            "requests": self.requests,
            "retries": self.retries,
            "throttled": self.throttled,
            "transient": self.transient,
            "by_action": dict(self.by_action),
        }


class DataverseClient:
    """Send Web API requests with the project's retry, throttle and error rules.

    Args:
        http: An ``httpx.AsyncClient`` (see :func:`http_client`); the caller closes it.
        url: Environment URL, e.g. ``https://org.crm.dynamics.com``.
        tokens: Where bearer tokens come from.
        max_concurrency: Upper bound on requests in flight.
        max_retries: Retries of one request after throttles and transient failures.
        backoff_seconds: First backoff when the server gives no Retry-After (doubles).
        sleep: Injected ``asyncio.sleep``; with ``clock``, lets tests run waits instantly.
        clock: Monotonic clock the Retry-After pause is measured on.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        url: str,
        tokens: TokenSource,
        max_concurrency: int = 16,
        max_retries: int = 8,
        backoff_seconds: float = 1.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.base = url.rstrip("/") + API_PATH
        self.tokens = tokens
        self.limiter = AdaptiveLimiter(max_concurrency, max_concurrency, clock=clock, sleep=sleep)
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.stats = ClientStats()
        self.sleep = sleep
        self.user_id: str | None = None
        self.dop_hint: int | None = None

    @classmethod
    def from_settings(
        cls, http: httpx.AsyncClient, settings: DataverseSettings, tokens: TokenSource
    ) -> DataverseClient:
        """Build from the ``dataverse`` settings section."""
        if not settings.url:
            from shared.errors import ConfigError

            raise ConfigError(["dataverse.url: required to load into Dataverse"])
        return cls(
            http,
            url=settings.url,
            tokens=tokens,
            max_concurrency=settings.max_concurrency,
            max_retries=settings.max_retries,
            backoff_seconds=settings.retry_backoff_seconds,
        )

    async def connect(self) -> str:
        """Call WhoAmI: proves the URL and token work, and sizes concurrency from the hint.

        Returns:
            The calling user's ``systemuserid``.

        Raises:
            UnreachableError: the environment cannot be reached.
            AuthenticationError: the token is refused.
        """
        response = await self.request("GET", "WhoAmI", action="WhoAmI")
        hint = response.headers.get("x-ms-dop-hint")
        if hint and hint.isdigit():
            self.dop_hint = int(hint)
            self.limiter.reset(int(hint))
        self.user_id = str(response.json()["UserId"])
        return self.user_id

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        action: str | None = None,
        object_name: str | None = None,
        record_id: str | None = None,
        ok_statuses: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send one request, retrying what may be retried; return a successful response.

        Args:
            path: Relative to ``/api/data/v9.2/`` (e.g. ``accounts(<id>)``) or absolute
                (an ``@odata.nextLink``).
            ok_statuses: Error statuses the caller handles itself (e.g. 404 on a probe).

        Raises:
            MigrationError: classified by ``classify.classify`` once retries are exhausted
                or the failure is not retriable.
        """
        url = path if path.startswith(("http://", "https://")) else self.base + path
        label = action or f"{method} {path.split('?')[0]}"
        sent_headers = dict(BASE_HEADERS)
        if json is not None:
            sent_headers["Content-Type"] = "application/json"
        sent_headers.update(headers or {})
        refreshed = force_refresh = False
        attempt = 0
        while True:
            token = await self.tokens.token(force_refresh=force_refresh)
            force_refresh = False
            sent_headers["Authorization"] = "Bearer " + token.get_secret_value()
            slot = await self.limiter.acquire()
            self.stats.requests += 1
            self.stats.by_action[label] = self.stats.by_action.get(label, 0) + 1
            failure: httpx.Response | BaseException
            try:
                failure = await self.http.request(
                    method, url, json=json, content=content, params=params, headers=sent_headers
                )
            except httpx.HTTPError as exc:
                failure = exc
            if isinstance(failure, httpx.Response) and (
                failure.status_code < 400 or failure.status_code in ok_statuses
            ):
                await self.limiter.release(slot, throttled=False, retry_after=None)
                return failure
            error = classify(failure, object_name=object_name, record_id=record_id, action=label)
            pause = error.retry_after if isinstance(error, ThrottledError) else None
            await self.limiter.release(
                slot, throttled=isinstance(error, ThrottledError), retry_after=pause
            )
            if isinstance(error, AuthenticationError) and not refreshed:
                refreshed = force_refresh = True  # an expired token gets one fresh try
                continue
            if not isinstance(error, RetryableError) or attempt >= self.max_retries:
                raise error
            attempt += 1
            self.stats.retries += 1
            if isinstance(error, ThrottledError):
                self.stats.throttled += 1
            else:
                self.stats.transient += 1
            await self.sleep(self._wait_for(error, attempt))

    def _wait_for(self, error: RetryableError, attempt: int) -> float:
        if error.retry_after is not None:
            return float(error.retry_after)
        return min(MAX_BACKOFF_SECONDS, self.backoff_seconds * 2.0 ** (attempt - 1))

    async def get_json(self, path: str, **kw: Any) -> dict[str, Any]:
        """GET a JSON object."""
        response = await self.request("GET", path, **kw)
        data = response.json()
        if not isinstance(data, dict):
            raise TargetError(f"GET {path}: expected a JSON object, got {type(data).__name__}")
        return data

    async def get_all(
        self, path: str, *, params: Mapping[str, str] | None = None, **kw: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield every row of a collection, following ``@odata.nextLink`` pages."""
        page = await self.get_json(path, params=params, **kw)
        while True:
            for row in page.get("value", []):
                yield row
            link = page.get("@odata.nextLink")
            if not link:
                return
            page = await self.get_json(str(link), **kw)
