"""What every activity of a run needs: settings, the stage, where reports go.

Activities are plain functions called by the Durable framework (Azure) or the local host, so
they cannot receive objects through their input (inputs are JSON). The host that starts them
installs one :class:`Runtime` per process: the local host from the config file it was given,
Azure lazily from app settings (``MIGRATION__*``) on first use. Clients are created from it on
demand and cached for the life of the process.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from shared.run.layout import reports_dir
from shared.settings import Settings, load_settings
from shared.stage.base import Stage
from shared.stage.factory import open_stage

T = TypeVar("T")


@dataclass
class Runtime:
    """Settings, stage and cached clients of one process.

    Attributes:
        settings: The run's settings (secrets included, never serialised).
        stage: Where batches, journals, histories and reports live.
        local_reports: When set (local runs), reports are also written under
            ``<workdir>/runs/<run-id>/reports/`` for a person to open.
    """

    settings: Settings
    stage: Stage
    local_reports: bool = False
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def cached(self, key: str, build: Callable[[], T]) -> T:
        """Build a client once per process (thread-safe)."""
        with self._lock:
            if key not in self._cache:
                self._cache[key] = build()
            value: T = self._cache[key]
            return value

    def peek(self, key: str) -> Any:
        """A cached client if it was built, else None (never builds one)."""
        return self._cache.get(key)

    def write_report(self, run_id: str, name: str, data: bytes) -> str:
        """Store a report on the stage (and locally when enabled); return where it went."""
        self.stage.put_bytes(f"{run_id}/reports/{name}", data)
        if self.local_reports:
            target = reports_dir(self.settings.run.workdir, run_id) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
            return str(target)
        return f"{run_id}/reports/{name}"

    def write_report_file(self, run_id: str, name: str, path: Path) -> str:
        """:meth:`write_report` from a file, streamed (an enrollment manifest at 1M contacts
        is hundreds of megabytes; it is never read into memory whole)."""

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    yield block

        self.stage.put_stream(f"{run_id}/reports/{name}", chunks())
        if self.local_reports:
            target = reports_dir(self.settings.run.workdir, run_id) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            shutil.copyfile(path, tmp)
            tmp.replace(target)
            return str(target)
        return f"{run_id}/reports/{name}"

    def report_path(self, run_id: str) -> Path:
        """The local reports folder of a run."""
        return reports_dir(self.settings.run.workdir, run_id)


_current: Runtime | None = None
_current_lock = threading.Lock()


def install(runtime: Runtime | None) -> None:
    """Make ``runtime`` the one activities use (the local host calls this before a run)."""
    global _current
    with _current_lock:
        _current = runtime


def current() -> Runtime:
    """The installed runtime; on Azure, built from app settings on first use."""
    global _current
    with _current_lock:
        if _current is None:
            settings = load_settings()
            _current = Runtime(settings=settings, stage=open_stage(settings))
        return _current
