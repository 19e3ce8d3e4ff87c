"""``./migrate check-mapping``: validate a mapping file and show what it will do.

A person reviewing a mapping sees every problem with its file, line and key (exit code 2), or,
when the file is valid, the load phases, what each object extracts and the custom columns
``deploy-schema`` will create. Nothing is read from or written to Salesforce or Dataverse.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shared.mapping.columns import required_columns
from shared.mapping.loader import load_mapping
from shared.mapping.plan import extraction_plan, plan_phases


def check_mapping(
    file: Annotated[Path, typer.Argument(help="Mapping file to check.")] = Path(
        "mappings/leadfwd-to-dynamics365.yaml"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Validate a mapping file; print its phases, extraction plan and custom columns."""
    mapping = load_mapping(file)
    phases = plan_phases(mapping)
    plans = extraction_plan(mapping)
    columns = required_columns(mapping)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "mapping": mapping.name,
                    "phases": [
                        {
                            "phase": p.index,
                            "objects": list(p.objects),
                            "second_pass": [list(s) for s in p.second_pass],
                        }
                        for p in phases
                    ],
                    "extract": [
                        {"object": p.object, "fields": p.fields, "query_all": p.include_deleted}
                        for p in plans
                    ],
                    "columns": [f"{c.table}.{c.logical_name}" for c in columns],
                }
            )
        )
        return
    typer.echo(f"{file}: valid mapping '{mapping.name}', {len(mapping.objects)} objects")
    for phase in phases:
        later = ", ".join(f"{o}.{nav}" for o, nav in phase.second_pass)
        typer.echo(
            f"  phase {phase.index}: {', '.join(phase.objects)}"
            + (f" (second pass: {later})" if later else "")
        )
    typer.echo("  extracts:")
    for plan in plans:
        how = "queryAll" if plan.include_deleted else "query"
        typer.echo(f"    {plan.object}: {len(plan.fields)} fields ({how})")
    typer.echo(f"  custom columns for deploy-schema: {len(columns)}")
    for col in columns:
        key = ", alternate key" if col.alternate_key else ""
        typer.echo(f"    {col.table}.{col.logical_name} ({col.type}{key})")
