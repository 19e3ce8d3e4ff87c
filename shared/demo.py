"""``./migrate demo``: a whole migration on embedded defaults against both emulators.

Generates a small Leadfwd org with the defects real orgs have, starts the Salesforce and
Dataverse emulators as separate processes on free ports (HTTPS, Dataverse service
protection on, scaled), discovers the org, deploys the schema, confirms the default mapping
on the user's behalf (recorded as confirmed by "demo"), runs the migration on the local host,
prints each phase's reconciliation and where the reports are, stops the servers, and exits 0
only if every phase reconciled. Everything it makes stays under the work directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import yaml
from rich.console import Console

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MAPPING = REPO / "mappings" / "leadfwd-to-dynamics365.yaml"
FALLBACK_OWNER = "migration.fallback@demo.example"
RUN_ID = "demo"
console = Console(stderr=True, highlight=False)


def _say(text: str) -> None:
    console.print(f"[bold cyan]demo:[/] {text}")


@contextlib.contextmanager
def _emulators(
    workdir: Path, org: Path, limits: str
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    from emulators.common.launch import start_emulator

    logs = workdir / "logs"
    with (
        start_emulator(
            "salesforce", ["--org", str(org), "--port", "0", "--tls"], logs / "salesforce.log"
        ) as sf,
        start_emulator(
            "dataverse",
            [
                "--data",
                str(workdir / "dataverse"),
                "--port",
                "0",
                "--tls",
                "--limits",
                limits,
                "--latency",
                "off",
            ],
            logs / "dataverse.log",
        ) as dv,
    ):
        yield sf.info, dv.info


def _seed_dynamics_users(org: Path, dv: dict[str, Any]) -> int:
    users = json.loads((org / "dataverse-users.json").read_text(encoding="utf-8"))
    users.append(
        {
            "internalemailaddress": FALLBACK_OWNER,
            "fullname": "Migration Fallback",
            "isdisabled": False,
        }
    )
    for user in users:
        # Stable ids, so two environments seeded from one org can be compared row for row.
        email = str(user["internalemailaddress"]).lower()
        user.setdefault("systemuserid", str(uuid.uuid5(uuid.NAMESPACE_URL, "demo-user:" + email)))
    response = httpx.post(
        dv["admin_url"] + "systemusers", json=users, verify=dv["ca_cert"], timeout=30
    )
    response.raise_for_status()
    return len(users)


def _write_config(workdir: Path, org: Path, sf: dict[str, Any], dv: dict[str, Any]) -> Path:
    org_info = json.loads((org / "org.json").read_text(encoding="utf-8"))
    integration = org_info["integration_user"]
    config = {
        "run": {"workdir": str(workdir)},
        "salesforce": {
            "instance_url": sf["instance_url"],
            "auth": "password",
            "username": sf["username"],
            "password": sf["password"],
            "client_id": integration["client_id"],
            "client_secret": integration["client_secret"],
            "ca_cert": sf["ca_cert"],
            "bulk_threshold": 2000,
            "bulk_poll_seconds": 0.2,
        },
        "dataverse": {
            "url": dv["url"].split("/api/data/")[0],
            "auth": "static_token",
            "token": dv["token"],
            "ca_cert": dv["ca_cert"],
            "fallback_owner_email": FALLBACK_OWNER,
            "key_timeout_seconds": 60,
        },
        "stage": {"backend": "local", "path": str(workdir / "stage")},
        "extract": {"batch_size": 500},
        "mapping": {"file": str(workdir / "mapping.yaml")},
    }
    path = workdir / "demo.yaml"
    path.write_text(
        "# Throw-away credentials of the local emulators, written by ./migrate demo.\n"
        + yaml.safe_dump(config, sort_keys=False),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def _discover(settings: Any, reports: Path) -> str:
    from shared.salesforce.client import connect
    from shared.salesforce.discovery import discover
    from shared.salesforce.discovery_report import write_discovery

    client = connect(settings.salesforce)
    doc = discover(
        client,
        namespace=settings.salesforce.namespace,
        dynamics_user_emails=None,
        bulk_threshold=settings.salesforce.bulk_threshold,
        batch_size=settings.extract.batch_size,
        dataverse_batch_size=settings.dataverse.batch_size,
    )
    write_discovery(doc, reports)
    return str(doc["complexity"]["grade"])


def propose_org_mapping(settings: Any, base: Path, out: Path) -> int:
    """The default map plus a column for every custom field the org's describe shows.

    This is what ``propose-map`` does for the fields no default can know: each org has its
    own custom fields on Account, Contact and Lead. Returns the number of fields added.
    """
    from shared.mapping.loader import load_mapping, parse_mapping
    from shared.mapping.propose import with_custom_fields
    from shared.salesforce.client import connect

    mapping = load_mapping(base)
    before = sum(len(o.fields) for o in mapping.objects)
    client = connect(settings.salesforce)
    for sobject in ("Account", "Contact", "Lead"):
        mapping = with_custom_fields(
            mapping,
            sobject,
            client.describe(sobject).get("fields", []),
            prefix=settings.dataverse.publisher_prefix,
            option_value_prefix=settings.dataverse.option_value_prefix,
        )
    data = mapping.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    text = (
        f"# Proposed for this org: {base.name} plus its custom fields (./migrate demo).\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    )
    parse_mapping(text, str(out))  # refuse to write a map our own loader would reject
    out.write_text(text, encoding="utf-8")
    return sum(len(o.fields) for o in mapping.objects) - before


def _deploy_schema(settings: Any) -> int:
    from shared.dataverse.auth import token_source
    from shared.dataverse.client import DataverseClient, http_client
    from shared.dataverse.schema_deploy import deploy_schema
    from shared.mapping.columns import required_columns
    from shared.mapping.loader import load_mapping

    async def run() -> int:
        specs = required_columns(load_mapping(settings.mapping.file))
        tokens = token_source(settings.dataverse)
        async with http_client(settings.dataverse) as http:
            client = DataverseClient.from_settings(http, settings.dataverse, tokens)
            await client.connect()
            result = await deploy_schema(client, specs, key_timeout=60, poll_seconds=0.2)
            return len(result.created)

    return asyncio.run(run())


def demo(
    workdir: Annotated[
        Path | None,
        typer.Option(help="Work directory for the org, emulator data, stage and reports."),
    ] = None,
    scale: Annotated[int, typer.Option(min=50, help="Contacts in the generated org.")] = 200,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 7,
    limits: Annotated[
        str, typer.Option(help="Dataverse service protection: off, real or scaled:F.")
    ] = "scaled:30",
) -> None:
    """Generate an org, start both emulators, migrate, reconcile and report."""
    from emulators.salesforce.generate import generate_org
    from orchestrators.local_host.command import report_outcome, start_local_run
    from shared.mapping_review.gate import confirm
    from shared.run.layout import reports_dir
    from shared.settings import load_settings

    started = time.monotonic()
    if workdir is None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        workdir = Path(tempfile.mkdtemp(prefix=f"migrate-demo-{stamp}-"))
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    org = workdir / "org"
    _say(f"generating a Leadfwd org with {scale} contacts (seed {seed}) in {org}")
    generate_org(org, scale=scale, seed=seed, force=True)
    _say("starting the Salesforce and Dataverse emulators (HTTPS, throttling " + limits + ")")
    with _emulators(workdir, org, limits) as (sf, dv):
        seeded = _seed_dynamics_users(org, dv)
        _say(f"Dynamics users seeded: {seeded} (one is the fallback owner {FALLBACK_OWNER})")
        config = _write_config(workdir, org, sf, dv)
        settings = load_settings(config)
        added = propose_org_mapping(settings, DEFAULT_MAPPING, settings.mapping.file)
        _say(f"mapping proposed: the default map plus {added} custom fields of this org")
        reports = reports_dir(workdir, RUN_ID)
        grade = _discover(settings, reports)
        _say(f"discovery written to {reports / 'discovery.md'} (complexity: {grade})")
        created = _deploy_schema(settings)
        _say(f"schema deployed: {created} columns and keys created")
        record = confirm(settings.mapping.file, "demo")
        _say(f"default mapping confirmed by {record.by} (sha256 {record.sha256[:12]})")
        run_id, result = start_local_run(
            settings, config_file=config, run_id=RUN_ID, workers=4, quiet=True
        )
        code = report_outcome(settings, run_id, result)
    _say(f"servers stopped; finished in {time.monotonic() - started:.0f}s")
    _say(f"everything is under {workdir}")
    raise typer.Exit(code)
