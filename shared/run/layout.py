"""Where a run keeps things.

Locally, everything a run makes stays under the work directory::

    <workdir>/runs/<run-id>/run.json        what was run: config file, mapping, start time
    <workdir>/runs/<run-id>/reports/        every report (discovery, reconciliation, ...)
    <workdir>/stage/                        the default local stage (batches, journal, history)

On Azure the reports live on the stage under ``<run-id>/reports/`` and are served by
``GET /api/migrations/{id}/reports/{name}``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from pathlib import Path
from typing import Any

from shared.errors import ConfigError

RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$"
_RUN_ID = re.compile(RUN_ID_PATTERN)


def new_run_id(now: dt.datetime | None = None, entropy: str | None = None) -> str:
    """``run-YYYYMMDD-HHMMSS-xxxxxx``: sortable by start time, unique across machines.

    ``entropy`` (a few hex characters) keeps two runs started in the same second apart.
    """
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    tail = re.sub(r"[^0-9a-z]", "", (entropy or secrets.token_hex(3)).lower())[:6]
    return f"run-{moment:%Y%m%d-%H%M%S}-{tail}"


def is_valid_run_id(value: str) -> bool:
    """True when ``value`` can be a run id (a stage key segment, folder and instance id)."""
    return bool(_RUN_ID.match(value)) and ".." not in value


def check_run_id(run_id: str) -> str:
    """A run id is a stage key segment and a folder name: refuse anything else."""
    if not is_valid_run_id(run_id):
        raise ConfigError(
            [
                f"run id {run_id!r} is not valid: use 1-80 letters, digits, '_', '.' or '-', "
                "starting with a letter or digit"
            ]
        )
    return run_id


def run_dir(workdir: Path, run_id: str) -> Path:
    """``<workdir>/runs/<run-id>``."""
    return workdir / "runs" / check_run_id(run_id)


def reports_dir(workdir: Path, run_id: str) -> Path:
    """``<workdir>/runs/<run-id>/reports`` (created on demand by writers)."""
    return run_dir(workdir, run_id) / "reports"


def write_run_record(workdir: Path, run_id: str, record: dict[str, Any]) -> Path:
    """Write ``run.json`` (no secrets: callers pass paths and ids only)."""
    path = run_dir(workdir, run_id) / "run.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path


def read_run_record(workdir: Path, run_id: str) -> dict[str, Any]:
    """Read ``run.json``; a clear error names the directory searched when it is missing."""
    path = run_dir(workdir, run_id) / "run.json"
    if not path.exists():
        raise ConfigError(
            [
                f"no run {run_id!r} under {workdir / 'runs'}: pass --workdir with the work "
                "directory the run was started in"
            ]
        )
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded
