"""The Salesforce source: login, retries, API usage, and the calls extraction needs.

Everything goes through simple-salesforce over one injected ``requests.Session``: TLS
verification comes from settings (``ca_cert`` / ``verify_tls``) and ``trust_env`` is off, so
neither proxy variables nor ``REQUESTS_CA_BUNDLE`` silently change where or how we connect.
Every call is retried with exponential backoff on ``REQUEST_LIMIT_EXCEEDED``, 5xx and dropped
connections (see ``shared/salesforce/errors.py``), and every response's ``Sforce-Limit-Info``
is read so the run can report how much of the org's daily API allocation it used.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce

from shared.errors import (
    AuthenticationError,
    ConfigError,
    RetryableError,
    SourceError,
    UnreachableError,
)
from shared.salesforce.errors import classify
from shared.settings import SalesforceSettings

T = TypeVar("T")
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_CHUNK = 1 << 16
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class _TimeoutAdapter(HTTPAdapter):
    """Gives every request a timeout: simple-salesforce sets none, and a hung org must not
    hang the run (a timeout is a transient failure and is retried)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, *args, **kwargs)


class _LoopbackPlainHttp(_TimeoutAdapter):
    """Sends simple-salesforce's hard-coded ``https://`` as ``http://`` to a loopback emulator."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if request.url and request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://") :]
        return super().send(request, *args, **kwargs)


def build_session(settings: SalesforceSettings) -> requests.Session:
    """A requests session that trusts exactly what the settings say and ignores env proxies.

    An ``http://`` instance URL is accepted only on loopback (the emulator without --tls);
    requests to it are rewritten from the ``https://`` simple-salesforce always builds.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = str(settings.ca_cert) if settings.ca_cert else settings.verify_tls
    session.mount("https://", _TimeoutAdapter(settings.timeout_seconds))
    session.mount("http://", _TimeoutAdapter(settings.timeout_seconds))
    parts = urlsplit(settings.instance_url or "")
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        session.mount(f"https://{parts.netloc}", _LoopbackPlainHttp(settings.timeout_seconds))
    return session


@dataclass
class ApiUsage:
    """API calls we made, and the org's daily allocation as Salesforce last reported it."""

    calls: int = 0
    used: int | None = None
    limit: int | None = None
    first_used: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """For reports: calls made by this run and the org's usage before/after."""
        return {
            "calls_this_run": self.calls,
            "org_used_at_start": self.first_used,
            "org_used_now": self.used,
            "org_daily_limit": self.limit,
        }


@dataclass
class BulkPage:
    """One page of a Bulk 2.0 query job's results and where the next page starts."""

    job_id: str
    csv: str
    next_locator: str


@dataclass
class SalesforceClient:
    """A logged-in source org. Build it with :func:`connect`."""

    sf: Salesforce
    session: requests.Session
    settings: SalesforceSettings
    sleep: Callable[[float], None] = time.sleep
    usage: ApiUsage = field(default_factory=ApiUsage)
    relogin: Callable[[], str] | None = None

    def __post_init__(self) -> None:
        self.session.hooks["response"].append(self._observe)

    # -- plumbing ---------------------------------------------------------------------

    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.usage.calls += 1
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.usage.used, self.usage.limit = int(match[1]), int(match[2])
            if self.usage.first_used is None:
                self.usage.first_used = self.usage.used

    def call(self, what: str, fn: Callable[[], T], *, sobject: str | None = None) -> T:
        """Run ``fn`` with retries: backoff on throttling/5xx/drops, one re-login on 401."""
        attempt = 0
        relogged = False
        while True:
            try:
                return fn()
            except Exception as exc:
                err = classify(exc, what, sobject=sobject)
                if isinstance(err, AuthenticationError) and self.relogin and not relogged:
                    relogged = True
                    self.sf.session_id = self.relogin()
                    self.sf.headers["Authorization"] = "Bearer " + self.sf.session_id
                    continue
                if not isinstance(err, RetryableError) or attempt >= self.settings.max_retries:
                    if isinstance(err, RetryableError):
                        err.message += f" (gave up after {attempt + 1} attempts)"
                    raise err from None
                delay = err.retry_after or self.settings.retry_base_seconds * (2**attempt)
                self.sleep(min(delay, 60.0) * (1 + random.random() / 4))  # noqa: S311
                attempt += 1

    # -- REST -------------------------------------------------------------------------

    def query_pages(
        self, soql: str, *, include_deleted: bool = False, sobject: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield REST query pages (``totalSize``, ``records``...) one at a time."""
        verb = "queryAll" if include_deleted else "query"
        where = f"{verb} on {sobject or 'the org'}"

        def first() -> dict[str, Any]:
            return _as_dict(self.sf.query(soql, include_deleted=include_deleted), where)

        page = self.call(where, first, sobject=sobject)
        yield page
        while not page.get("done", True):
            url = str(page["nextRecordsUrl"])

            def more(url: str = url) -> dict[str, Any]:
                return _as_dict(self.sf.query_more(url, identifier_is_url=True), where)

            page = self.call(where + " (next page)", more, sobject=sobject)
            yield page

    def count(
        self, sobject: str, where: str | None = None, *, include_deleted: bool = False
    ) -> int:
        """``SELECT COUNT() FROM sobject [WHERE ...]``: the source's own count."""
        soql = f"SELECT COUNT() FROM {sobject}" + (f" WHERE {where}" if where else "")
        first = next(self.query_pages(soql, include_deleted=include_deleted, sobject=sobject))
        return int(first["totalSize"])

    def describe_global(self) -> dict[str, Any]:
        """describeGlobal: every object the integration user can see."""
        return self.call("describe", lambda: _as_dict(self.sf.describe(), "describe"))

    def describe(self, sobject: str) -> dict[str, Any]:
        """sObject describe (fields the integration user can see, with types)."""
        what = f"describe of {sobject}"
        return self.call(
            what, lambda: _as_dict(getattr(self.sf, sobject).describe(), what), sobject=sobject
        )

    def tooling_query(self, soql: str, *, what: str) -> list[dict[str, Any]]:
        """A Tooling API query, all pages."""
        out: list[dict[str, Any]] = []
        page = self.call(
            what, lambda: _as_dict(self.sf.restful("tooling/query/", params={"q": soql}), what)
        )
        out.extend(page.get("records", []))
        while not page.get("done", True):
            path = str(page["nextRecordsUrl"])

            def more(path: str = path) -> dict[str, Any]:
                return _as_dict(self.sf.query_more(path, identifier_is_url=True), what)

            page = self.call(what, more)
            out.extend(page.get("records", []))
        return out

    def limits(self) -> dict[str, Any]:
        """``/limits``: daily API allocation and Bulk API quotas."""
        return self.call("limits", lambda: _as_dict(self.sf.limits(), "limits"))

    def stream_body(self, sobject: str, record_id: str, field_name: str) -> Iterator[bytes]:
        """Stream a blob field (``VersionData``, ``Body``) chunk by chunk, never whole.

        The first request is retried like any call; a connection dropped after the first
        byte raises TransientServiceError and the caller re-fetches the whole body (the
        stage write is atomic, so nothing half-written stays).
        """
        url = f"{self.sf.base_url}sobjects/{sobject}/{record_id}/{field_name}"

        def open_stream() -> requests.Response:
            resp = self.session.get(
                url, headers=self.sf.headers, stream=True, timeout=self.settings.timeout_seconds
            )
            if resp.status_code >= 300:
                from simple_salesforce.util import exception_handler

                exception_handler(resp, sobject)
            return resp

        resp = self.call(
            f"download of {sobject} {record_id} {field_name}", open_stream, sobject=sobject
        )
        try:
            yield from resp.iter_content(_CHUNK)
        except requests.exceptions.RequestException as exc:
            raise classify(exc, f"download of {sobject} {record_id}", sobject=sobject) from None
        finally:
            resp.close()

    # -- Bulk API 2.0 -----------------------------------------------------------------

    def bulk_pages(
        self,
        sobject: str,
        soql: str,
        *,
        include_deleted: bool,
        max_records: int,
        job_id: str | None = None,
        locator: str = "",
    ) -> Iterator[BulkPage]:
        """Run (or continue) a Bulk 2.0 query job and yield its result pages.

        Passing the ``job_id`` and ``locator`` recorded with the last complete batch resumes
        the same job where it stopped (results are kept 7 days), with no ORDER BY needed
        (Bulk 2.0 does not support it).
        """

        def client() -> Any:  # fresh each call: picks up a new session after a re-login
            return getattr(self.sf.bulk2, sobject)._client

        if job_id is None:
            from simple_salesforce.bulk2 import Operation

            op = Operation.query_all if include_deleted else Operation.query
            job = self.call(
                f"Bulk API job for {sobject}",
                lambda: client().create_job(op, soql),
                sobject=sobject,
            )
            job_id = str(job["id"])
            self.call(
                f"Bulk API job {job_id} for {sobject}",
                lambda: client().wait_for_job(job_id, True, self.settings.bulk_poll_seconds),
                sobject=sobject,
            )
        while True:

            def fetch(loc: str = locator, jid: str = job_id) -> dict[str, Any]:
                return dict(client().get_query_results(jid, loc, max_records))

            result = self.call(
                f"Bulk API results of job {job_id} for {sobject}", fetch, sobject=sobject
            )
            locator = result["locator"] or ""
            yield BulkPage(job_id, result["records"], locator)
            if not locator:
                return


def _as_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SourceError(f"Salesforce {what}: unexpected response {str(value)[:200]!r}")
    return value


def _token_endpoint(settings: SalesforceSettings) -> str:
    base = (settings.login_url or settings.instance_url or "").rstrip("/")
    return base + "/services/oauth2/token"


def login(settings: SalesforceSettings, session: requests.Session) -> tuple[str, str]:
    """Get ``(access_token, instance_url)`` the way the settings say (OAuth token endpoint).

    Raises:
        ConfigError: a credential the chosen flow needs is missing.
        AuthenticationError: the org refused the credentials.
        UnreachableError: the org cannot be reached (DNS, refused, TLS).
    """
    if not settings.instance_url:
        raise ConfigError(["salesforce.instance_url is required"])
    if settings.auth == "access_token":
        if settings.access_token is None:
            raise ConfigError(["salesforce.access_token is required when auth is access_token"])
        return settings.access_token.get_secret_value(), settings.instance_url
    need = ["client_id", "client_secret"]
    if settings.auth == "password":
        need += ["username", "password"]
    missing = [
        f"salesforce.{n} is required when auth is {settings.auth}"
        for n in need
        if getattr(settings, n) is None
    ]
    if missing:
        raise ConfigError(missing)
    assert settings.client_id is not None and settings.client_secret is not None
    data = {
        "grant_type": settings.auth,
        "client_id": settings.client_id,
        "client_secret": settings.client_secret.get_secret_value(),
    }
    if settings.auth == "password":
        assert settings.password is not None
        token = settings.security_token.get_secret_value() if settings.security_token else ""
        data.update(
            username=settings.username or "", password=settings.password.get_secret_value() + token
        )
    url = _token_endpoint(settings)
    try:
        resp = session.post(url, data=data, timeout=settings.timeout_seconds)
    except requests.exceptions.SSLError:
        raise UnreachableError(
            f"Salesforce login at {url}: TLS verification failed; set salesforce.ca_cert to the "
            "certificate bundle to trust"
        ) from None
    except requests.exceptions.RequestException as exc:
        raise UnreachableError(
            f"Salesforce login at {url}: cannot connect ({exc.__class__.__name__}); check "
            "salesforce.instance_url / login_url and the network"
        ) from None
    if resp.status_code >= 400:
        try:
            body = resp.json()
        except ValueError:
            body = {}
        reason = body.get("error_description") or body.get("error") or f"HTTP {resp.status_code}"
        raise AuthenticationError(
            f"Salesforce login at {url} refused ({reason}); check the {settings.auth} "
            "credentials in the salesforce settings (and the security token for password login)",
            status=resp.status_code,
        )
    try:
        body = resp.json()
        token = str(body["access_token"])
    except (ValueError, KeyError, TypeError):
        raise AuthenticationError(
            f"Salesforce login at {url} answered without an access token (HTTP "
            f"{resp.status_code}); check salesforce.login_url points at the org's token endpoint"
        ) from None
    return token, str(body.get("instance_url") or settings.instance_url)


def connect(
    settings: SalesforceSettings,
    session: requests.Session | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> SalesforceClient:
    """Log in and return a client; the session is built from settings unless injected."""
    session = session or build_session(settings)
    token, instance_url = login(settings, session)
    parts = urlsplit(instance_url)
    if parts.scheme != "https" and parts.hostname not in _LOOPBACK:
        raise ConfigError(
            [
                f"salesforce.instance_url {instance_url!r} must be https:// (plain HTTP is "
                "only accepted for a local emulator on loopback)"
            ]
        )
    # simple-salesforce always builds https:// URLs; a loopback emulator without TLS is
    # reached through a session that rewrites them (emulators/salesforce/testing.py).
    instance_url = "https://" + parts.netloc
    sf = Salesforce(
        instance_url=instance_url,
        session_id=token,
        session=session,
        version=settings.api_version,
    )
    relogin = None
    if settings.auth != "access_token":

        def relogin() -> str:
            return login(settings, session)[0]

    return SalesforceClient(sf, session, settings, sleep=sleep, relogin=relogin)
