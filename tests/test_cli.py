"""The ./migrate entry point as a user runs it: a real process from the repository root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_migrate(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION__")}
    return subprocess.run(
        [str(REPO / "migrate"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_help_lists_every_subcommand_with_one_line() -> None:
    result = run_migrate("--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: migrate" in result.stdout
    commands = result.stdout.split("Commands:")[1]
    names = [line.split()[0] for line in commands.splitlines() if line.strip()]
    assert "demo" in names and "emulate" in names
    from shared.cli import app

    registered = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert set(names) == registered


def test_runs_from_any_directory(tmp_path: Path) -> None:
    result = run_migrate("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = run_migrate("teleport")
    assert result.returncode == 2
    assert "No such command" in result.stderr


def test_entry_point_module_runs_under_the_venv_python() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
