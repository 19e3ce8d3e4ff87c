"""The ``./migrate`` command line: the one place every subcommand is registered.

Each subcommand is a plain function defined next to the code it drives (for example
``emulators/dataverse/command.py``); this module only attaches them to the root app, so
``./migrate --help`` lists them all with one line each.

Exit codes: 0 success; 1 the run failed or did not reconcile; 2 bad configuration or usage;
3 the requested part of the product is not built yet.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from shared.errors import MigrationError

app = typer.Typer(
    name="migrate",
    help="Migrate a Leadfwd sales org (its Salesforce data) into Dynamics 365 Sales (Dataverse).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
emulate_app = typer.Typer(
    help="Run a local emulator (Salesforce org or Dataverse environment) in the foreground.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(emulate_app, name="emulate")

err_console = Console(stderr=True, soft_wrap=True)


def _register() -> None:
    """Attach every subcommand, in the order an engagement uses them.

    Imports are local so one broken module names itself.
    """
    from emulators.dataverse.command import emulate_dataverse
    from emulators.salesforce.command import emulate_salesforce
    from emulators.salesforce.generate.command import generate_org
    from emulators.salesforce.import_tree import import_tree
    from orchestrators.local_host.command import resume, rollback, run, status
    from shared.dataverse.command import deploy_schema_command
    from shared.delta.command import delta
    from shared.demo import demo
    from shared.mapping.command import check_mapping
    from shared.mapping_review.command import confirm_map, propose_map, review
    from shared.salesforce.command import discover, extract, inventory

    commands: list[tuple[str, Callable[..., Any], str]] = [
        ("demo", demo, "Run a whole migration on embedded defaults against both emulators."),
        ("discover", discover, "Inspect the source org and write the discovery report."),
        ("propose-map", propose_map, "Propose a field map with evidence, for a person to review."),
        ("review", review, "Show a proposal; write mapping-review.html for sign-off."),
        ("confirm-map", confirm_map, "Record who confirmed a mapping (sha256 of its exact bytes)."),
        ("check-mapping", check_mapping, "Validate a mapping file; show phases, fields, columns."),
        (
            "deploy-schema",
            deploy_schema_command,
            "Create the mapping's columns and keys in Dataverse.",
        ),
        ("run", run, "Start a migration on this machine (the mapping must be confirmed)."),
        ("status", status, "Show a run's progress and results."),
        (
            "resume",
            resume,
            "Continue an interrupted run by replay, without redoing finished steps.",
        ),
        (
            "rollback",
            rollback,
            "Undo a run; keep what people changed since (--dry-run to preview).",
        ),
        (
            "delta",
            delta,
            "Sync changes and deletions made in Salesforce since the last run (--cutover).",
        ),
        ("extract", extract, "Extract the mapped objects into the stage, parents first."),
        ("inventory", inventory, "Write the sequence inventory and the enrollment manifest."),
        ("generate-org", generate_org, "Generate a Leadfwd Salesforce org with planted defects."),
        ("import-tree", import_tree, "Build an org directory from 'sf data export tree' files."),
    ]
    for name, function, text in commands:
        app.command(name, help=text)(function)
    emulate_app.command(
        "dataverse", help="Run the Dataverse Web API emulator (prints one JSON line)."
    )(emulate_dataverse)
    emulate_app.command("salesforce", help="Serve an org directory as a Salesforce org.")(
        emulate_salesforce
    )


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map engine errors to their exit codes with one clear message.

    Usage errors are click's own (exit code 2); ``SystemExit`` from click propagates.
    """
    try:
        app(args=argv, prog_name="migrate")
    except MigrationError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
