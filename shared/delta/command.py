"""``./migrate delta``: one delta sync, or the cutover delta, on this machine."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Annotated

import typer

from orchestrators.local_host.command import console, drive, report_outcome
from shared.run.layout import check_run_id, write_run_record
from shared.settings import load_settings
from shared.stage.factory import open_stage


def delta_id(now: dt.datetime | None = None) -> str:
    """``delta-YYYYMMDD-HHMMSS-xxxx``: sortable, unique across machines."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"delta-{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def delta(
    config: Annotated[Path, typer.Option("--config", help="YAML config file.")],
    cutover: Annotated[
        bool,
        typer.Option(help="Final delta after the source freeze, with the cutover certificate."),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(help="Continue from this completed run (default: the newest)."),
    ] = None,
    full_compare: Annotated[
        bool, typer.Option(help="Also compare full id sets (finds purged rows) now.")
    ] = False,
    run_id: Annotated[
        str | None, typer.Option(help="Run id (default: from the clock); reuse one to resume.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Activities at once.")] = 4,
) -> None:
    """Sync what changed in Salesforce since the last completed run (and deletions)."""
    settings = load_settings(config)
    run_id = check_run_id(run_id or delta_id())
    stage = open_stage(settings)
    fresh = not stage.list_keys(f"{run_id}/history/")
    if fresh:
        write_run_record(
            settings.run.workdir,
            run_id,
            {
                "run_id": run_id,
                "kind": "cutover" if cutover else "delta",
                "config_file": str(config.resolve()),
                "workdir": str(settings.run.workdir.resolve()),
                "mapping_file": str(settings.mapping.file),
                "started": dt.datetime.now(dt.UTC).isoformat(),
                "host": "local",
            },
        )
    payload = {"run_id": run_id, "cutover": cutover, "since": since, "full_compare": full_compare}
    result = drive(settings, run_id, workers=workers, start=("delta", payload) if fresh else None)
    code = report_outcome(settings, run_id, result)
    output = result.output or {}
    info = output.get("delta") or {}
    if info.get("sync_state_advanced_to"):
        console.print(f"the next delta continues from {info['sync_state_advanced_to']}")
    if code == 0 and cutover:
        cert = (result.output or {}).get("certificate") or {}
        if not cert.get("certified"):
            console.print(
                "[bold red]cutover NOT certified:[/] see reports/cutover-certificate.md",
                highlight=False,
            )
            code = 1
    raise typer.Exit(code)
