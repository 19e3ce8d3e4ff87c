"""``./migrate emulate salesforce`` prints exactly one JSON line once listening, and serves."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import httpx

from tests.emulators.salesforce.conftest import make_org

REPO = Path(__file__).resolve().parents[3]


def test_cli_prints_one_json_line_and_serves_over_tls(tmp_path: Path) -> None:
    org = make_org(tmp_path / "org", n_contacts=3)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "emulate", "salesforce", "--org", str(org),
         "--port", "0", "--tls", "--daily-limit", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        info = json.loads(line)
        assert set(info) == {"instance_url", "access_token", "api_version", "username",
                             "password", "ca_cert"}  # fmt: skip
        assert info["instance_url"].startswith("https://127.0.0.1:")
        assert info["api_version"] == "59.0"
        trust = ssl.create_default_context(cafile=info["ca_cert"])
        res = httpx.get(
            f"{info['instance_url']}/services/data/v59.0/query",
            params={"q": "SELECT COUNT() FROM Contact"},
            headers={"Authorization": f"Bearer {info['access_token']}"},
            verify=trust,
            trust_env=False,
        )
        assert res.json()["totalSize"] == 3
        assert res.headers["Sforce-Limit-Info"] == "api-usage=1/50"
    finally:
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"did not stop on SIGTERM: {err}") from None
    assert out == ""
