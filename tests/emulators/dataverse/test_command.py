from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]


def test_cli_prints_one_json_line_and_serves_https(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "emulate",
            "dataverse",
            "--port",
            "0",
            "--tls",
            "--data",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        assert set(line) == {"url", "token", "ca_cert", "admin_url"}
        assert line["url"].startswith("https://127.0.0.1:") and line["url"].endswith(
            "/api/data/v9.2/"
        )
        trust = ssl.create_default_context(cafile=line["ca_cert"])
        r = httpx.get(
            line["url"] + "WhoAmI",
            headers={"Authorization": f"Bearer {line['token']}"},
            verify=trust,
        )
        assert r.status_code == 200 and r.headers["x-ms-dop-hint"]
        assert httpx.get(line["admin_url"] + "counters", verify=trust).status_code == 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert out == ""  # nothing else on stdout


def test_cli_rejects_bad_modes(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "emulate", "dataverse", "--limits", "fast"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=30,
    )
    assert done.returncode == 2 and "--limits" in done.stderr
