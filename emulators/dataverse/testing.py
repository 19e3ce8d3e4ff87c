"""Run the Dataverse emulator in a background thread for tests and the demo.

Example::

    with run_dataverse(tmp_path) as dv:
        httpx.get(dv.url + "WhoAmI", headers={"Authorization": f"Bearer {dv.token}"})
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulators.common.server import HOST, serve_in_thread
from emulators.common.tls import ensure_self_signed
from emulators.dataverse.app import AppConfig, create_app
from emulators.dataverse.environment import Environment, Options
from emulators.dataverse.faults import FaultSettings


@dataclass(frozen=True)
class DataverseEndpoint:
    """Where a running emulator listens and how to call it."""

    url: str
    token: str
    admin_url: str
    ca_cert: Path | None
    base: str
    env: Environment

    def headers(self) -> dict[str, str]:
        """Headers every Web API call needs (bearer token, OData versions, JSON)."""
        return {
            "Authorization": f"Bearer {self.token}",
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
            "Accept": "application/json",
        }


def build_config(data_dir: Path, limits: str, latency: str, options: dict[str, Any]) -> AppConfig:
    """An :class:`AppConfig` from keyword options (shared with the CLI).

    Options: ``fault_5xx``, ``fault_drop``, ``fault_slow`` (seconds), ``owner_disabled_check``
    (bool) and ``key_activation_seconds`` (float, default 1.0).
    """
    known = {
        "fault_5xx",
        "fault_drop",
        "fault_slow",
        "owner_disabled_check",
        "key_activation_seconds",
    }
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"unknown emulator options: {sorted(unknown)}")
    faults = FaultSettings(
        float(options.get("fault_5xx", 0.0)),
        float(options.get("fault_drop", 0.0)),
        float(options.get("fault_slow", 0.0)),
    )
    opts = Options(
        bool(options.get("owner_disabled_check", True)),
        float(options.get("key_activation_seconds", 1.0)),
    )
    return AppConfig(data_dir, limits, latency, faults, opts)


@contextlib.contextmanager
def run_dataverse(
    data_dir: Path, *, tls: bool = False, limits: str = "off", latency: str = "off", **options: Any
) -> Iterator[DataverseEndpoint]:
    """Serve the emulator on a free loopback port for the duration of the block."""
    app = create_app(build_config(data_dir, limits, latency, options))
    certs = ensure_self_signed(data_dir / "tls", "dataverse") if tls else None
    with serve_in_thread(app, 0, certs) as server:
        scheme = "https" if tls else "http"
        base = f"{scheme}://{HOST}:{server.port}"
        env: Environment = app.state.env
        yield DataverseEndpoint(
            url=f"{base}/api/data/v9.2/",
            token=env.default_token,
            admin_url=f"{base}/admin/",
            ca_cert=certs.cert if certs else None,
            base=base,
            env=env,
        )
    env.store.close()
