"""Named kill points, so crash-safety tests can cut the power at an exact step.

Test-only and inert unless ``LEADFWD_TEST_CRASH_AT`` is set. ``name`` kills the process the
first time it reaches :func:`reach` with that name; ``name:N`` the N-th time (counted per
process, across threads). The kill is ``SIGKILL`` on the process itself: no ``finally``, no
flush, no atexit — what a power cut or an OOM kill leaves behind is what a resume must cope
with. Timing-based kills (``kill`` once some file appears) land wherever the scheduler
happens to be; these land between two named effects, every time.

The variable is read once, on the first call, not at import (settings are built at the
entry point; this is the only knob outside them, and it exists for tests only). The points
are listed in :data:`POINTS` and in docs/testing.md; a value naming anything else, or with
a count that is not a positive integer, stops the process with :class:`ConfigError` rather
than silently never firing.
"""

from __future__ import annotations

import functools
import os
import signal
import threading

from shared.errors import ConfigError

__all__ = ["ENV_VAR", "POINTS", "parse", "reach"]

ENV_VAR = "LEADFWD_TEST_CRASH_AT"

POINTS = frozenset(
    {
        "extract.batch_staged",  # a raw batch was written to the stage
        "load.journaled",  # a batch's journal entry exists, its bulk write not yet sent
        "load.written",  # the bulk write returned, its journal entry not yet finished
        "link.written",  # second pass: links written, journal entry not yet finished
        "reconcile.phase",  # a phase's reconciliation step starts
        "rollback.row",  # a rollback row was deleted/restored, its outcome not yet stored
        "delta.extracted",  # delta sync: changes staged, not yet applied
        "delta.deleting",  # delta sync: about to delete or deactivate rows
    }
)

_counts: dict[str, int] = {}
_lock = threading.Lock()


def parse(value: str | None) -> tuple[str, int] | None:
    """``"name"`` → ``(name, 1)``, ``"name:N"`` → ``(name, N)``, unset or empty → None.

    Raises:
        ConfigError: the name is not one of :data:`POINTS`, or N is not a positive integer.
    """
    if not value or not value.strip():
        return None
    name, colon, count = value.strip().partition(":")
    problems = []
    if name not in POINTS:
        problems.append(
            f"{ENV_VAR}: unknown kill point {name!r}; known: {', '.join(sorted(POINTS))}"
        )
    nth = int(count) if count.isdigit() else 0
    if colon and nth < 1:
        problems.append(f"{ENV_VAR}: {value!r}: the count after ':' must be a positive integer")
    if problems:
        raise ConfigError(problems)
    return name, nth if colon else 1


@functools.cache
def _armed() -> tuple[str, int] | None:
    return parse(os.environ.get(ENV_VAR))


def reach(name: str) -> None:
    """Mark that this process reached the kill point ``name``; die here if told to."""
    armed = _armed()
    if armed is None or armed[0] != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        if _counts[name] != armed[1]:
            return
    os.kill(os.getpid(), signal.SIGKILL)
