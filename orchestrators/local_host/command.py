"""``./migrate run``, ``resume`` and ``status``: the local host from the command line.

``run`` starts the ``migrate`` orchestrator on this machine; ``resume`` continues an
interrupted run by replay (completed activities are not run again); ``status`` shows where a
run stands. Ctrl-C stops cleanly: activities in flight finish and are recorded, then the
command says how to resume.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from orchestrators.local_host.runner import FunctionRegistry, InstanceResult, LocalHost
from shared.errors import ConfigError
from shared.run import runtime as rt
from shared.run.clients import close_clients
from shared.run.layout import (
    check_run_id,
    new_run_id,
    read_run_record,
    reports_dir,
    write_run_record,
)
from shared.settings import Settings, load_settings
from shared.stage.factory import open_stage

console = Console(stderr=True)
ORCHESTRATOR = "migrate"


def registry() -> FunctionRegistry:
    """Every orchestrator and activity the local host can run."""
    from activities.delta import bp as delta_activities
    from activities.migration import bp as migration_activities
    from activities.rollback import bp as rollback_activities
    from orchestrators.delta import bp as delta_bp
    from orchestrators.migrate import bp as migrate_bp
    from orchestrators.rollback import bp as rollback_bp

    return FunctionRegistry.from_blueprints(
        [
            migrate_bp,
            migration_activities,
            rollback_bp,
            rollback_activities,
            delta_bp,
            delta_activities,
        ]
    )


class ProgressView:
    """A live table: the run's step and, per object, batches, counts and throughput."""

    def __init__(self, run_id: str, client_stats: Callable[[], Any] | None = None) -> None:
        self.run_id = run_id
        self.client_stats = client_stats
        self.started = time.monotonic()
        self.statuses: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def update(self, instance_id: str, status: dict[str, Any]) -> None:
        with self.lock:
            self.statuses[instance_id] = status

    def render(self) -> Table:
        with self.lock:
            statuses = dict(self.statuses)
        elapsed = max(time.monotonic() - self.started, 0.001)
        main = statuses.get(self.run_id, {}).get("customStatus") or {}
        stats = self.client_stats() if self.client_stats else None
        traffic = (
            f" — Dataverse: {stats.requests} requests, {stats.throttled} throttled (429), "
            f"{stats.transient} retried"
            if stats is not None
            else ""
        )
        table = Table(
            title=f"run {self.run_id} — {main.get('step', 'starting')}{traffic}", expand=False
        )
        for col in ("object", "pass", "batches", "written", "quarantined", "rec/s"):
            table.add_column(col, justify="right" if col != "object" else "left")
        for _instance, status in sorted(statuses.items()):
            custom = status.get("customStatus") or {}
            if "entry" not in custom:
                continue
            counts = custom.get("counts") or {}
            written = int(counts.get("written", 0))
            table.add_row(
                str(custom["entry"]),
                str(custom.get("pass", 1)),
                f"{custom.get('done', 0)}/{custom.get('batches', 0)}",
                str(written),
                str(counts.get("quarantined", 0)),
                f"{written / elapsed:,.0f}",
            )
        return table


def _settings(config: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    return load_settings(config, overrides=overrides)


def _run_settings(run_id: str, workdir: Path, config: Path | None) -> Settings:
    """Settings of an existing run: its recorded config file unless one is given."""
    record = read_run_record(workdir, run_id)
    config_file = config or (Path(record["config_file"]) if record.get("config_file") else None)
    if config_file is not None and not config_file.exists():
        raise ConfigError(
            [f"config file {config_file} of run {run_id} no longer exists: pass --config"]
        )
    return _settings(config_file, {"run": {"workdir": str(workdir)}})


def start_local_run(
    settings: Settings,
    *,
    config_file: Path | None,
    run_id: str | None = None,
    workers: int = 4,
    quiet: bool = False,
) -> tuple[str, InstanceResult]:
    """Start a new run of the migrate orchestrator on this machine and drive it to the end."""
    run_id = check_run_id(run_id or settings.run.run_id or new_run_id())
    workdir = settings.run.workdir
    write_run_record(
        workdir,
        run_id,
        {
            "run_id": run_id,
            "config_file": str(config_file.resolve()) if config_file else None,
            "workdir": str(workdir.resolve()),
            "mapping_file": str(settings.mapping.file),
            "started": dt.datetime.now(dt.UTC).isoformat(),
            "host": "local",
        },
    )
    payload = {"run_id": run_id, "require_approval": False}
    return run_id, drive(
        settings, run_id, workers=workers, start=(ORCHESTRATOR, payload), quiet=quiet
    )


def drive(
    settings: Settings,
    run_id: str,
    *,
    workers: int,
    start: tuple[str, dict[str, Any]] | None = None,
    quiet: bool = False,
) -> InstanceResult:
    """Run (``start`` = orchestrator and input) or resume the instance ``run_id`` to its end."""
    stage = open_stage(settings)
    runtime = rt.Runtime(settings=settings, stage=stage, local_reports=True)
    rt.install(runtime)

    def client_stats() -> Any:
        client = runtime.peek("dataverse")
        return getattr(client, "stats", None)

    view = ProgressView(run_id, client_stats)
    stop = threading.Event()
    host = LocalHost(
        stage, run_id, registry(), max_workers=workers, on_status=view.update, stop=stop
    )
    if start is not None:
        host.start(start[0], run_id, start[1])

    def on_sigint(_sig: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        console.print(
            "stopping: waiting for activities in flight to finish (Ctrl-C again to abort)"
        )
        stop.set()

    previous = signal.signal(signal.SIGINT, on_sigint) if _main_thread() else None
    try:
        if quiet or not console.is_terminal:
            result = host.run(run_id)
        else:
            with Live(view.render(), console=console, refresh_per_second=4) as live:
                ticker = threading.Thread(target=_refresh, args=(live, view, stop), daemon=True)
                ticker.start()
                result = host.run(run_id)
                live.update(view.render())
    finally:
        host.close()
        close_clients(runtime)
        rt.install(None)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return result


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _refresh(live: Live, view: ProgressView, stop: threading.Event) -> None:
    while not stop.wait(0.5):
        live.update(view.render())


def report_outcome(settings: Settings, run_id: str, result: InstanceResult) -> int:
    """Print how the run ended and where its reports are; return the exit code."""
    reports = reports_dir(settings.run.workdir, run_id)
    if result.runtime_status == "Running":
        console.print(
            f"run {run_id} stopped. Resume it with: ./migrate resume {run_id} "
            f"--workdir {settings.run.workdir}"
        )
        return 130
    if result.runtime_status == "Failed":
        console.print(f"[bold red]run {run_id} failed:[/] {result.error}", highlight=False)
        console.print(
            f"Fix the cause, then: ./migrate resume {run_id} --workdir {settings.run.workdir}"
        )
        return 1
    output = result.output or {}
    status = output.get("status")
    console.print(f"run {run_id}: {status}. Reports: {reports}")
    if output.get("detail"):
        console.print(str(output["detail"]))
    for phase in output.get("phase_table", []):
        console.print("  " + phase)
    return 0 if status == "completed" else 1


def run(
    config: Annotated[Path, typer.Option("--config", help="YAML config file.")],
    run_id: Annotated[str | None, typer.Option(help="Run id (default: from the clock).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Activities at once.")] = 4,
) -> None:
    """Start a migration on this machine (the mapping must be confirmed first)."""
    settings = _settings(config)
    run_id, result = start_local_run(settings, config_file=config, run_id=run_id, workers=workers)
    raise typer.Exit(report_outcome(settings, run_id, result))


def resume(
    run_id: Annotated[str, typer.Argument(help="The run to continue.")],
    workdir: Annotated[Path, typer.Option(help="Work directory the run was started in.")] = Path(
        "work"
    ),
    config: Annotated[
        Path | None, typer.Option(help="Config file (default: the one the run started with).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Activities at once.")] = 4,
) -> None:
    """Continue an interrupted run by replay, without re-running completed steps."""
    settings = _run_settings(run_id, workdir, config)
    result = drive(settings, run_id, workers=workers)
    raise typer.Exit(report_outcome(settings, run_id, result))


def status(
    run_id: Annotated[str, typer.Argument(help="The run to show.")],
    workdir: Annotated[Path, typer.Option(help="Work directory the run was started in.")] = Path(
        "work"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show a run's progress and results."""
    record = read_run_record(workdir, run_id)
    config_file = Path(record["config_file"]) if record.get("config_file") else None
    settings = _settings(
        config_file if config_file and config_file.exists() else None,
        {"run": {"workdir": str(workdir)}},
    )
    stage = open_stage(settings)
    prefix = f"{run_id}/status/"
    statuses = [json.loads(stage.get_bytes(k)) for k in stage.list_keys(prefix)]
    if as_json:
        typer.echo(json.dumps({"run": record, "instances": statuses}, indent=2))
        return
    out = Console()
    main = next((s for s in statuses if s["instanceId"] == run_id), None)
    out.print(f"run {run_id}: {main['runtimeStatus'] if main else 'not started'}")
    if main and main.get("error"):
        out.print(f"error: {main['error']}", highlight=False)
    view = ProgressView(run_id)
    for s in statuses:
        view.update(s["instanceId"], s)
    out.print(view.render())
    out.print(f"reports: {reports_dir(workdir, run_id)}")


def rollback(
    run_id: Annotated[str, typer.Argument(help="The run to undo.")],
    workdir: Annotated[Path, typer.Option(help="Work directory the run was started in.")] = Path(
        "work"
    ),
    config: Annotated[
        Path | None, typer.Option(help="Config file (default: the one the run started with).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide and report, change nothing.")
    ] = False,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Activities at once.")] = 4,
) -> None:
    """Undo a run: delete what it created, restore what it changed, keep what people edited."""
    settings = _run_settings(run_id, workdir, config)
    rollback_id = f"{run_id}.rollback" + ("-dry-run" if dry_run else "")
    stage = open_stage(settings)
    fresh = not stage.list_keys(f"{rollback_id}/history/")
    payload = {"run_id": rollback_id, "target_run_id": run_id, "dry_run": dry_run}
    if dry_run and not fresh:  # a dry run always looks at the target as it is now
        for key in stage.list_keys(f"{rollback_id}/"):
            stage.delete(key)
        fresh = True
    result = drive(
        settings, rollback_id, workers=workers, start=("rollback", payload) if fresh else None
    )
    if result.runtime_status != "Completed":
        raise typer.Exit(report_outcome(settings, rollback_id, result))
    output = result.output or {}
    console.print(
        f"rollback of {run_id}{' (dry run)' if dry_run else ''}: {output.get('status')} — "
        f"{output.get('counts')}; kept (changed by people since the load): {output.get('kept')}. "
        f"Report: {output.get('report')}"
    )
    raise typer.Exit(0 if output.get("status") == "completed" else 1)
