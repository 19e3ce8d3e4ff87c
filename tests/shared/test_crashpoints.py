"""Kill points: inert unless asked, and then a SIGKILL at exactly the N-th time reached."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shared.crashpoints import ENV_VAR, POINTS, parse
from shared.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

# Reaches ``load.written`` three times and ``load.journaled`` once, saying so after each.
CHILD = textwrap.dedent(
    """
    from shared.crashpoints import reach
    for n in (1, 2, 3):
        reach("load.journaled" if n == 2 else "load.written")
        print(n, flush=True)
    reach("load.written")
    print("done", flush=True)
    """
)


def run_child(crash_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    env["PYTHONPATH"] = str(REPO)
    if crash_at is not None:
        env[ENV_VAR] = crash_at
    return subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("crash_at", "printed", "returncode"),
    [
        (None, "1 2 3 done", 0),
        ("", "1 2 3 done", 0),
        ("load.written", "", -signal.SIGKILL),
        ("load.written:1", "", -signal.SIGKILL),
        ("load.written:2", "1 2", -signal.SIGKILL),
        ("load.written:3", "1 2 3", -signal.SIGKILL),
        ("load.written:4", "1 2 3 done", 0),
        ("load.journaled", "1", -signal.SIGKILL),
        ("reconcile.phase", "1 2 3 done", 0),
    ],
)
def test_the_process_dies_the_nth_time_it_reaches_the_named_point(
    crash_at: str | None, printed: str, returncode: int
) -> None:
    child = run_child(crash_at)
    assert (child.stdout.split(), child.returncode) == (printed.split(), returncode), child.stderr


def test_a_value_naming_no_point_stops_the_process_instead_of_never_firing() -> None:
    child = run_child("load.writen:2")
    assert child.returncode == 1
    assert "ConfigError" in child.stderr and "unknown kill point 'load.writen'" in child.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("  ", None),
        ("load.written", ("load.written", 1)),
        ("rollback.row:250", ("rollback.row", 250)),
        (" extract.batch_staged:3 ", ("extract.batch_staged", 3)),
    ],
)
def test_values_are_a_point_and_a_count(value: str | None, expected: object) -> None:
    assert parse(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("load", "unknown kill point 'load'"),
        ("load.written:0", "must be a positive integer"),
        ("load.written:x", "must be a positive integer"),
        ("load.written:-1", "must be a positive integer"),
        ("load.written:", "must be a positive integer"),
    ],
)
def test_bad_values_are_refused_with_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(value)


def test_every_point_is_documented() -> None:
    doc = (REPO / "docs" / "testing.md").read_text(encoding="utf-8")
    assert [p for p in sorted(POINTS) if f"`{p}`" not in doc] == []
