"""The README's first command: ``./migrate demo`` migrates a generated org and exits 0."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_demo_migrates_everything_reconciled_and_writes_every_report(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION__")}
    result = subprocess.run(
        [str(REPO / "migrate"), "demo", "--workdir", str(tmp_path), "--scale", "50"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "phase 1: reconciled" in result.stderr
    reports = tmp_path / "runs" / "demo" / "reports"
    for name in (
        "discovery.md",
        "sequences.json",
        "sequences.csv",
        "enrollments.csv",
        "phase1-reconciliation.md",
        "quarantine.csv",
        "summary.md",
    ):
        assert (reports / name).exists(), name
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert all(p["reconciliation"]["reconciled"] for p in summary["phases"])
    # The servers were stopped: nothing the demo started is still listening.
    leftover = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if "emulate" in (p.info["cmdline"] or []) and str(tmp_path) in " ".join(p.info["cmdline"])
    ]
    assert leftover == []
