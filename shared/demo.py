"""``./migrate demo``: a whole migration on embedded defaults against both emulators.

Until every part of the pipeline exists, the demo says plainly which part is missing and
exits non-zero; it never pretends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shared.errors import NotBuiltError


def demo(
    workdir: Annotated[
        Path | None,
        typer.Option(help="Work directory for the org, emulator data, stage and reports."),
    ] = None,
) -> None:
    """Generate an org, start both emulators, migrate, reconcile and report."""
    raise NotBuiltError(
        "the demo needs the whole pipeline and these parts are not built yet: "
        "the orchestrated migration run (issue 8: orchestrators and the local host). "
        "Nothing was started."
    )
