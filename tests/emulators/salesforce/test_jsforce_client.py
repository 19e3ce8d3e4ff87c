"""A Salesforce client in another language (jsforce on Node) works against the emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from emulators.salesforce.testing import SalesforceEndpoint
from tests.emulators.salesforce.conftest import N_CONTACTS, contact_id

REPO = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).parent / "js" / "jsforce_client.js"


def test_jsforce_logs_in_describes_and_pages_a_query(sf_endpoint: SalesforceEndpoint) -> None:
    node = shutil.which("node")
    if node is None or not (REPO / "node_modules" / "jsforce").is_dir():
        pytest.fail("node and node_modules/jsforce are required: run `make setup`")
    assert sf_endpoint.ca_cert is not None
    cfg = {
        "instance_url": sf_endpoint.instance_url,
        "api_version": sf_endpoint.api_version,
        "client_id": sf_endpoint.client_id,
        "client_secret": sf_endpoint.client_secret,
        "username": sf_endpoint.username,
        "password": sf_endpoint.password,
    }
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NODE_EXTRA_CA_CERTS"] = str(sf_endpoint.ca_cert)
    env["NODE_PATH"] = str(REPO / "node_modules")
    done = subprocess.run(
        [node, str(SCRIPT), json.dumps(cfg)],
        capture_output=True, text=True, timeout=120, env=env, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["instanceUrl"] == sf_endpoint.instance_url
    assert "Email" in out["fields"] and "Salary__c" not in out["fields"]
    assert out["records"] == out["count"] == N_CONTACTS - 3
    assert out["first"]["Id"] == contact_id(0)
    assert out["first"]["Account"]["Name"] == "Acme"
