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

err_console = Console(stderr=True)


def _register() -> None:
    """Attach every subcommand. Imports are local so one broken module names itself."""
    from shared.demo import demo

    app.command("demo", help="Run a whole migration on embedded defaults against both emulators.")(
        demo
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
