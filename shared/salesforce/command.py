"""``./migrate discover``, ``./migrate extract`` and ``./migrate inventory``.

Each reads the config file once, connects to the org, writes its reports under
``<workdir>/runs/<run-id>/reports/`` and prints where they are. Errors are engine errors: the
CLI root prints one message and sets the exit code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shared.errors import ConfigError
from shared.salesforce.reports import reports_dir, run_id_for
from shared.settings import Settings, load_settings

__all__ = ["discover", "extract", "inventory", "read_dynamics_users"]

ConfigOpt = Annotated[Path, typer.Option("--config", help="YAML config file.")]
RunIdOpt = Annotated[
    str | None, typer.Option("--run-id", help="Run id (default: run.run_id or the clock).")
]


def read_dynamics_users(path: Path) -> list[str]:
    """Emails from a JSON list of strings or of systemuser rows (``internalemailaddress``).

    Raises:
        ConfigError: the file is missing, not JSON, or not such a list.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read: {exc.strerror}"]) from None
    except ValueError as exc:
        raise ConfigError([f"{path}: not valid JSON ({exc})"]) from None
    if isinstance(data, dict) and isinstance(data.get("value"), list):
        data = data["value"]  # a saved Web API response
    if not isinstance(data, list):
        raise ConfigError([f"{path}: expected a JSON list of emails or systemuser rows"])
    out = []
    for pos, item in enumerate(data, start=1):
        email = item.get("internalemailaddress") if isinstance(item, dict) else item
        if not isinstance(email, str):
            raise ConfigError([f"{path}: entry {pos} has no email: {item!r}"])
        out.append(email)
    return out


def _reports(settings: Settings, run_id: str | None) -> tuple[str, Path]:
    rid = run_id or run_id_for(settings)
    return rid, reports_dir(settings.run.workdir, rid)


def discover(
    config: ConfigOpt,
    dynamics_users: Annotated[
        Path | None,
        typer.Option(
            help="JSON list of Dynamics user emails or systemuser rows (default: read them "
            "from dataverse.url when configured)."
        ),
    ] = None,
    objects: Annotated[
        str | None, typer.Option(help="Comma-separated objects (default: core + custom).")
    ] = None,
    run_id: RunIdOpt = None,
) -> None:
    """Inspect the source org and write reports/discovery.md and discovery.json."""
    from shared.salesforce.client import connect
    from shared.salesforce.discovery import discover as run_discovery
    from shared.salesforce.discovery_report import write_discovery

    settings = load_settings(config)
    _, out = _reports(settings, run_id)
    if dynamics_users:
        emails: list[str] | None = read_dynamics_users(dynamics_users)
        source = str(dynamics_users)
    else:
        from shared.salesforce.dynamics_users import read_live

        emails, source = read_live(settings.dataverse)
    client = connect(settings.salesforce)
    doc = run_discovery(
        client,
        namespace=settings.salesforce.namespace,
        objects=[o.strip() for o in objects.split(",") if o.strip()] if objects else None,
        dynamics_user_emails=emails,
        dynamics_users_source=source,
        bulk_threshold=settings.salesforce.bulk_threshold,
        batch_size=settings.extract.batch_size,
        dataverse_batch_size=settings.dataverse.batch_size,
    )
    paths = write_discovery(doc, out)
    typer.echo(f"complexity: {doc['complexity']['grade']}")
    for path in paths:
        typer.echo(str(path))


def extract(
    config: ConfigOpt,
    mapping: Annotated[
        Path | None, typer.Option(help="Mapping file (default: mapping.file from the config).")
    ] = None,
    run_id: RunIdOpt = None,
) -> None:
    """Extract every mapped object into the stage, parents first; resumable by run id."""
    from shared.mapping.loader import load_mapping
    from shared.mapping.plan import extraction_plan
    from shared.salesforce.client import connect
    from shared.salesforce.extract import extract_all
    from shared.salesforce.extraction_report import write_extraction_report
    from shared.stage.factory import open_stage

    settings = load_settings(config)
    rid, out = _reports(settings, run_id)
    plan = extraction_plan(load_mapping(mapping or settings.mapping.file))
    client = connect(settings.salesforce)
    stage = open_stage(settings)

    def progress(sobject: str, done: int, total: int) -> None:
        typer.echo(f"{sobject}: {done}/{total}", err=True)

    results = extract_all(client, stage, settings, rid, plan, progress=progress)
    paths = write_extraction_report(results, client.usage.to_dict(), out, stage, rid)
    bad = [r for r in results if r.status == "unexplained"]
    for r in results:
        typer.echo(f"{r.object}: {r.extracted} extracted, {r.status}")
    for path in paths:
        typer.echo(str(path))
    if bad:
        raise typer.Exit(1)


def inventory(config: ConfigOpt, run_id: RunIdOpt = None) -> None:
    """Write the sequence inventory (sequences.json/.csv) and enrollments.csv."""
    from shared.salesforce.client import connect
    from shared.salesforce.inventory import build_inventory

    settings = load_settings(config)
    _, out = _reports(settings, run_id)
    client = connect(settings.salesforce)
    result = build_inventory(client, out, namespace=settings.salesforce.namespace)
    typer.echo(
        f"{result.sequences} sequences, {result.steps} steps, {result.enrollments} enrollments "
        f"({result.requiring_re_enrollment} to re-enroll)"
    )
    for name in result.files:
        typer.echo(str(out / name))
    for note in result.skipped:
        typer.echo(f"not inventoried: {note}", err=True)
