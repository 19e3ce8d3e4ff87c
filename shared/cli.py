"""The ``./migrate`` command line: the one place every subcommand is registered.

Each subcommand is a plain function defined next to the code it drives (for example
``emulators/dataverse/command.py``); this module only attaches them to the root app, so
``./migrate --help`` lists them all with one line each.

Exit codes: 0 success; 1 the run failed or did not reconcile; 2 bad configuration or usage;
3 the requested part of the product is not built yet.
"""

from __future__ import annotations

import sys

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
    """Attach every subcommand. Imports are local so one broken module names itself."""
    from shared.demo import demo

    app.command("demo", help="Run a whole migration on embedded defaults against both emulators.")(
        demo
    )
    from emulators.dataverse.command import emulate_dataverse

    emulate_app.command(
        "dataverse", help="Run the Dataverse Web API emulator (prints one JSON line)."
    )(emulate_dataverse)
    from emulators.salesforce.generate.command import generate_org
    from emulators.salesforce.import_tree import import_tree

    app.command("generate-org", help="Generate a Leadfwd Salesforce org with planted defects.")(
        generate_org
    )
    app.command("import-tree", help="Build an org directory from 'sf data export tree' files.")(
        import_tree
    )

    from emulators.salesforce.command import emulate_salesforce

    emulate_app.command("salesforce", help="Serve an org directory as a Salesforce org.")(
        emulate_salesforce
    )

    from shared.mapping_review.command import confirm_map, propose_map, review

    app.command("propose-map", help="Propose a field map with evidence, for a person to review.")(
        propose_map
    )
    app.command("review", help="Show a proposal; write mapping-review.html for sign-off.")(review)
    app.command("confirm-map", help="Record who confirmed a mapping (sha256 of its exact bytes).")(
        confirm_map
    )

    from shared.mapping.command import check_mapping

    app.command("check-mapping", help="Validate a mapping file; show phases, fields, columns.")(
        check_mapping
    )

    from shared.dataverse.command import deploy_schema_command

    app.command(
        "deploy-schema",
        help="Create the mapping's custom columns and keys in Dataverse.",
    )(deploy_schema_command)

    from shared.salesforce.command import discover, extract, inventory

    app.command("discover", help="Inspect the source org and write the discovery report.")(discover)
    app.command("extract", help="Extract the mapped objects into the stage, parents first.")(
        extract
    )
    app.command("inventory", help="Write the sequence inventory and the enrollment manifest.")(
        inventory
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
