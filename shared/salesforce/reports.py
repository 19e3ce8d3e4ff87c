"""Where reports go and how they are written (atomically, so a crash leaves no half report).

Reports live in ``<workdir>/runs/<run-id>/reports/``; the lead's run code calls
:func:`reports_dir` to find them, and extraction copies them to the stage as well.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from shared.errors import StageError
from shared.run.layout import new_run_id
from shared.run.layout import reports_dir as layout_reports_dir
from shared.settings import Settings


def run_id_for(settings: Settings, now: dt.datetime | None = None) -> str:
    """The configured run id, or a new one from the clock (``shared.run.layout``)."""
    return settings.run.run_id or new_run_id(now)


def reports_dir(workdir: Path, run_id: str) -> Path:
    """``<workdir>/runs/<run-id>/reports`` (created)."""
    path = layout_reports_dir(Path(workdir), run_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_text(path: Path) -> Iterator[IO[str]]:
    """Open a temporary file beside ``path``; it replaces ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except OSError as exc:
        raise StageError(
            f"cannot write report {path} ({exc.strerror}); free space or fix permissions"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_text(path: Path, text: str) -> None:
    """Write a whole report atomically."""
    with atomic_text(path) as fh:
        fh.write(text)
