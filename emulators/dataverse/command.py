"""``./migrate emulate dataverse``: serve the emulator in the foreground.

Prints exactly one JSON line on stdout once listening (url, token, ca_cert, admin_url);
logs go to stderr.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from emulators.common.server import HOST, serve_foreground
from emulators.common.tls import ensure_self_signed
from emulators.dataverse.app import create_app
from emulators.dataverse.limits import parse_mode
from emulators.dataverse.testing import build_config
from shared.errors import ConfigError


def emulate_dataverse(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1; 0 picks a free one.")] = 0,
    data: Annotated[
        Path | None, typer.Option(help="SQLite data directory (default: a fresh temp dir).")
    ] = None,
    tls: Annotated[
        bool, typer.Option("--tls", help="Serve HTTPS with a self-signed certificate.")
    ] = False,
    limits: Annotated[
        str, typer.Option(help="Service protection: off, real or scaled:F.")
    ] = "real",
    latency: Annotated[
        str, typer.Option(help="Modelled execution time as delay: off, real or scaled:F.")
    ] = "off",
    fault_5xx: Annotated[
        float, typer.Option("--fault-5xx", help="Share of requests answered 503 (0..1).")
    ] = 0.0,
    fault_drop: Annotated[
        float, typer.Option("--fault-drop", help="Share of connections dropped (0..1).")
    ] = 0.0,
    fault_slow: Annotated[
        float, typer.Option("--fault-slow", help="Extra seconds before every reply.")
    ] = 0.0,
    owner_disabled_check: Annotated[
        str, typer.Option("--owner-disabled-check", help="Refuse disabled owners: on or off.")
    ] = "on",
) -> None:
    """Run a local Dataverse Web API environment until interrupted."""
    problems = []
    for name, value in (("--limits", limits), ("--latency", latency)):
        try:
            parse_mode(value)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if owner_disabled_check not in ("on", "off"):
        problems.append("--owner-disabled-check: expected on or off")
    for name, rate in (("--fault-5xx", fault_5xx), ("--fault-drop", fault_drop)):
        if not 0 <= rate <= 1:
            problems.append(f"{name}: expected a rate between 0 and 1, got {rate}")
    if problems:
        raise ConfigError(problems, source="./migrate emulate dataverse")
    data_dir = data or Path(tempfile.mkdtemp(prefix="dataverse-emulator-"))
    options: dict[str, Any] = {
        "fault_5xx": fault_5xx,
        "fault_drop": fault_drop,
        "fault_slow": fault_slow,
        "owner_disabled_check": owner_disabled_check == "on",
    }
    app = create_app(build_config(data_dir, limits, latency, options))
    certs = ensure_self_signed(data_dir / "tls", "dataverse") if tls else None
    scheme = "https" if tls else "http"
    token = app.state.env.default_token

    def ready(actual: int) -> dict[str, Any]:
        base = f"{scheme}://{HOST}:{actual}"
        return {
            "url": f"{base}/api/data/v9.2/",
            "token": token,
            "ca_cert": str(certs.cert) if certs else None,
            "admin_url": f"{base}/admin/",
        }

    typer.echo(f"dataverse emulator: data in {data_dir}", err=True)
    serve_foreground(app, port, certs, ready)
