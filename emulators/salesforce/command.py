"""``./migrate emulate salesforce``: serve an org directory as a Salesforce org.

Prints exactly one JSON line on stdout once listening (instance URL, access token, API
version, integration user's credentials, CA certificate path or null) and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emulators.common.server import serve_foreground
from emulators.common.tls import ensure_self_signed
from emulators.salesforce.app import API_VERSION, EmulatorOptions, SalesforceEmulator, build_app

__all__ = ["emulate_salesforce"]


def emulate_salesforce(
    org: Annotated[Path, typer.Option(help="Org directory (generate-org, import-tree).")],
    port: Annotated[int, typer.Option(help="Loopback port; 0 picks a free one.")] = 8780,
    tls: Annotated[bool, typer.Option("--tls", help="Serve HTTPS (self-signed).")] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Rebuild org.sqlite from the org directory.")
    ] = False,
    fault_5xx: Annotated[
        float, typer.Option("--fault-5xx", help="Share of API requests answered 503.")
    ] = 0.0,
    fault_drop: Annotated[
        float, typer.Option("--fault-drop", help="Share of API requests whose connection drops.")
    ] = 0.0,
    fault_seed: Annotated[int | None, typer.Option(help="Seed for fault injection.")] = None,
    daily_limit: Annotated[
        int | None, typer.Option(help="Daily API request allocation (default: org.json).")
    ] = None,
    query_all_files: Annotated[
        bool,
        typer.Option("--query-all-files", help="Lift the ContentDocumentLink filter restriction."),
    ] = False,
) -> None:
    """Serve a Salesforce org (REST, SOQL, Bulk API 2.0, Tooling, OAuth) on 127.0.0.1."""
    if not (0 <= fault_5xx <= 1 and 0 <= fault_drop <= 1 and fault_5xx + fault_drop <= 1):
        raise typer.BadParameter("--fault-5xx and --fault-drop must be rates between 0 and 1")
    options = EmulatorOptions(
        fault_5xx=fault_5xx,
        fault_drop=fault_drop,
        fault_seed=fault_seed,
        daily_limit=daily_limit,
        reset=reset,
        query_all_files=query_all_files,
    )
    emulator = SalesforceEmulator(org, options)
    cert = ensure_self_signed(org / "org.tls", "salesforce") if tls else None
    scheme = "https" if tls else "http"
    user = emulator.config.user

    def ready(actual: int) -> dict[str, object]:
        return {
            "instance_url": f"{scheme}://127.0.0.1:{actual}",
            "access_token": emulator.access_token,
            "api_version": API_VERSION,
            "username": user.username,
            "password": user.password,
            "ca_cert": str(cert.cert) if cert else None,
        }

    try:
        serve_foreground(build_app(emulator), port, cert, ready)
    finally:
        emulator.close()
