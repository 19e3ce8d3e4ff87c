"""Start an emulator as a separate process, the way a user does, and read its JSON line.

The demo and the crash tests use this: ``./migrate emulate <kind> ... --port 0`` runs in the
foreground and prints exactly one JSON line once listening.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


@dataclass
class EmulatorProcess:
    """A running emulator process and the connection details it printed."""

    process: subprocess.Popen[str]
    info: dict[str, Any]
    log: Path

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the emulator to exit (SIGINT), then kill it if it does not."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(kind: str, args: list[str], log: Path, timeout: float = 60.0) -> EmulatorProcess:
    """Run ``python -m shared.cli emulate <kind> <args>``; return once its JSON line arrives.

    Raises:
        RuntimeError: the process exited or printed nothing usable in time; the message
            includes the end of its log.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "shared.cli", "emulate", kind, *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if selector.select(timeout=0.2):
            line = proc.stdout.readline()
            if line.strip():
                try:
                    return EmulatorProcess(proc, json.loads(line), log)
                except json.JSONDecodeError:
                    break
    if proc.poll() is None:
        proc.kill()
    tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"the {kind} emulator did not start (log {log}):\n{tail}")
