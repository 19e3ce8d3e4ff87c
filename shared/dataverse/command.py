"""``./migrate deploy-schema --config FILE [--dry-run]``: custom columns and keys, before loading.

Prints the plan first (what will be created, what exists, what clashes), then creates what is
missing, waits for alternate keys to become Active and publishes. Safe to run again: a second
run finds everything in place and changes nothing. ``--dry-run`` stops after the plan.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shared.dataverse.auth import token_source
from shared.dataverse.client import DataverseClient, http_client
from shared.dataverse.schema_deploy import DeployResult, PlanStep, deploy_schema
from shared.mapping.columns import required_columns
from shared.mapping.loader import load_mapping
from shared.settings import Settings, load_settings

__all__ = ["deploy_schema_command", "print_plan"]

console = Console(highlight=False)
MARKS = {"create": "+ create", "exists": "= exists", "conflict": "! CLASH "}


def print_plan(plan: list[PlanStep]) -> None:
    """One line per column or key, grouped by table, with what will happen to it."""
    if not plan:
        console.print("The mapping needs no custom columns.")
        return
    console.print("Schema plan:")
    for table in sorted({p.table for p in plan}):
        console.print(f"  {table}")
        for step in (p for p in plan if p.table == table):
            console.print(f"    {MARKS[step.action]} {step.kind:<6} {step.name}: {step.detail}")
    todo = sum(1 for p in plan if p.action == "create")
    console.print(f"{todo} to create, {sum(1 for p in plan if p.action == 'exists')} present.")


async def _run(settings: Settings, mapping_file: Path, dry_run: bool) -> DeployResult:
    specs = required_columns(load_mapping(mapping_file))
    tokens = token_source(settings.dataverse)
    async with http_client(settings.dataverse) as http:
        client = DataverseClient.from_settings(http, settings.dataverse, tokens)
        try:
            await client.connect()
            return await deploy_schema(
                client,
                specs,
                dry_run=dry_run,
                solution=settings.dataverse.solution,
                custom_table_limit=settings.dataverse.custom_table_limit,
                key_timeout=settings.dataverse.key_timeout_seconds,
                on_plan=print_plan,
            )
        finally:
            await tokens.close()


def deploy_schema_command(
    config: Annotated[Path, typer.Option(help="Config file (dataverse connection, mapping).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and change nothing.")
    ] = False,
    mapping: Annotated[
        Path | None, typer.Option(help="Mapping file; defaults to mapping.file of the config.")
    ] = None,
) -> None:
    """Create the custom columns and alternate keys the mapping needs, then publish."""
    settings = load_settings(config)
    result = asyncio.run(_run(settings, mapping or settings.mapping.file, dry_run))
    for warning in result.warnings:
        console.print(f"warning: {warning}")
    if dry_run:
        console.print("Dry run: nothing was changed.")
        return
    if result.created:
        console.print(f"Created {len(result.created)}: {', '.join(result.created)}")
        console.print(f"Published: {', '.join(result.published)}")
    else:
        console.print("Everything the mapping needs is already in place; nothing changed.")
