"""``./migrate generate-org``: write a generated org directory for the emulator to serve.

Prints one JSON line summarising what was written (counts per object, file bytes, planted
defects), so scripts and people see at once whether the org has what they expect.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from emulators.salesforce.generate import generate_org as _generate


def generate_org(
    out: Annotated[Path, typer.Option("--out", help="Org directory to write.")],
    scale: Annotated[
        int, typer.Option(help="Number of contacts; every other object scales with it.")
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed: the same scale and seed give the same org.")] = 1,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an org already in --out.")
    ] = False,
) -> None:
    """Generate a Leadfwd customer's Salesforce org, with planted defects, for the emulator."""
    summary = _generate(out, scale=scale, seed=seed, force=force)
    typer.echo(json.dumps(summary.to_dict()))
