"""Serve an org to tests: ``run_salesforce`` (background thread) and ``write_org_dir``.

Example::

    org = write_org_dir(tmp_path / "org", {"Contact": [{"Id": "003...", "LastName": "Ng"}]})
    with run_salesforce(org, tls=True) as sf_endpoint:
        sf = sf_endpoint.client()          # simple-salesforce, direct mode, unchanged
        sf.query("SELECT Id FROM Contact")

With ``tls=False`` the server speaks plain HTTP; ``requests_session()`` then mounts an
adapter that rewrites simple-salesforce's hard-coded ``https://`` to ``http://`` for this
host only. ``tls=True`` serves HTTPS with a self-signed certificate (``ca_cert``).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from emulators.common.server import serve_in_thread
from emulators.common.tls import ensure_self_signed
from emulators.salesforce.app import API_VERSION, EmulatorOptions, SalesforceEmulator, build_app
from emulators.salesforce.orgdir import write_org_dir

__all__ = ["SalesforceEndpoint", "run_salesforce", "write_org_dir"]


class _HttpsToHttp(HTTPAdapter):
    """Send ``https://127.0.0.1:PORT`` requests as plain HTTP (emulator without --tls)."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if request.url and request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://") :]
        return super().send(request, *args, **kwargs)


@dataclass(frozen=True)
class SalesforceEndpoint:
    """How to reach a running emulator, and the org's integration-user credentials."""

    instance_url: str
    access_token: str = field(repr=False)
    api_version: str
    username: str
    password: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    ca_cert: Path | None
    admin_url: str
    emulator: SalesforceEmulator = field(repr=False, compare=False)
    sessions: list[requests.Session] = field(default_factory=list, repr=False, compare=False)

    @property
    def base_url(self) -> str:
        """``<instance_url>/services/data/v59.0``."""
        return f"{self.instance_url}/services/data/v{self.api_version}"

    def requests_session(self) -> requests.Session:
        """A requests session that trusts this emulator (and ignores proxy/CA env vars)."""
        session = requests.Session()
        self.sessions.append(session)  # closed when run_salesforce exits (see there)
        session.trust_env = False
        if self.ca_cert is not None:
            session.verify = str(self.ca_cert)
        else:
            host = self.instance_url.split("://", 1)[1]
            session.mount(f"https://{host}", _HttpsToHttp())
        return session

    def client(self, session: requests.Session | None = None) -> Any:
        """simple-salesforce in direct mode against this emulator."""
        from simple_salesforce.api import Salesforce

        return Salesforce(
            instance_url=self.instance_url.replace("http://", "https://"),
            session_id=self.access_token,
            session=session or self.requests_session(),
            version=self.api_version,
        )


@contextlib.contextmanager
def run_salesforce(
    org_dir: Path, *, tls: bool = False, **options: Any
) -> Iterator[SalesforceEndpoint]:
    """Serve ``org_dir`` on a free loopback port for the duration of the block.

    Args:
        org_dir: An org directory (``write_org_dir`` or ``./migrate generate-org``).
        tls: Serve HTTPS with a self-signed certificate for 127.0.0.1.
        **options: ``EmulatorOptions`` fields: ``reset``, ``fault_5xx``, ``fault_drop``,
            ``fault_seed``, ``daily_limit``, ``page_size``, ``query_all_files``.
    """
    emulator = SalesforceEmulator(org_dir, EmulatorOptions(**options))
    with contextlib.ExitStack() as stack:
        stack.callback(emulator.close)  # runs last, after the server has stopped
        cert = None
        if tls:
            cert_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sf-tls-")))
            cert = ensure_self_signed(cert_dir, "salesforce")
        server = stack.enter_context(serve_in_thread(build_app(emulator), 0, cert))
        scheme = "https" if tls else "http"
        instance = f"{scheme}://127.0.0.1:{server.port}"
        user = emulator.config.user
        endpoint: SalesforceEndpoint | None = None
        try:
            endpoint = SalesforceEndpoint(
                instance_url=instance,
                access_token=emulator.access_token,
                api_version=API_VERSION,
                username=user.username,
                password=user.password,
                client_id=user.client_id,
                client_secret=user.client_secret,
                ca_cert=cert.cert if cert else None,
                admin_url=f"{instance}/__admin",
                emulator=emulator,
            )
            yield endpoint
        finally:
            # Close our clients' idle keep-alive connections first: over TLS the server's
            # graceful shutdown otherwise waits for a close_notify an idle client never sends.
            for session in endpoint.sessions if endpoint else ():
                session.close()
            # Other clients (another library's pool) may still hold one open: do not wait.
            server.server.force_exit = True
