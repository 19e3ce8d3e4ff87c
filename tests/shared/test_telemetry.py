"""Telemetry: dimensions on every span and log, secrets never leave, export only when asked.

The export test runs the real Azure Monitor exporter in a child process against a loopback
HTTP server standing in for the Application Insights ingestion endpoint, and reads the
envelopes it receives: what the portal would store.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from shared import telemetry

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("login failed: password=hunter2&user=a", "login failed: password=***&user=a"),
        ('{"client_secret": "abc123", "id": 1}', '{"client_secret": "***", "id": 1}'),
        ("Authorization: Bearer eyJ0eXAi.eyJhdWQ.sig-_", "Authorization: Bearer ***"),
        (
            "GET https://st.blob.core.windows.net/c/b?sv=2024&sig=AbC%2B",
            "GET https://st.blob.core.windows.net/c/b?sv=2024&sig=***",
        ),
        ("POST /api/migrations?code=FuNcKeY==", "POST /api/migrations?code=***"),
        (
            "DefaultEndpointsProtocol=https;AccountKey=a1b2==;EndpointSuffix=x",
            "DefaultEndpointsProtocol=https;AccountKey=***;EndpointSuffix=x",
        ),
        ("session 00D5g000004KzXyEAK!AQ4AQH0dMHZfz972", "session 00D5g000004KzXyEAK!***"),
        ("security_token=XYZ client_secret=s3cr3t", "security_token=*** client_secret=***"),
    ],
)
def test_secrets_are_masked(text: str, expected: str) -> None:
    assert telemetry.redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "contact 003xx0000012AbCAAU: reason_code=INVALID_EMAIL emailaddress1 'bob@'",
        "https://contoso.crm.dynamics.com/api/data/v9.2/accounts?$select=name",
        "wrote 500 rows to account in 2.1 s (throttled 3 times)",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert telemetry.redact(text) == text


def test_dimensions_nest_and_unwind() -> None:
    assert telemetry.current_dimensions() == {}
    with telemetry.dimensions(run_id="run-1"):
        with telemetry.dimensions(phase="contacts", object_name="Contact") as dims:
            assert dims == {
                telemetry.RUN_ID: "run-1",
                telemetry.PHASE: "contacts",
                telemetry.OBJECT: "Contact",
            }
        assert telemetry.current_dimensions() == {telemetry.RUN_ID: "run-1"}
    assert telemetry.current_dimensions() == {}


def test_dimensions_unwind_after_an_error() -> None:
    with pytest.raises(RuntimeError), telemetry.dimensions(run_id="run-9"):
        raise RuntimeError("boom")
    assert telemetry.current_dimensions() == {}


def test_log_records_carry_dimensions_and_lose_secrets(caplog: pytest.LogCaptureFixture) -> None:
    telemetry.install_log_enrichment()
    telemetry.install_log_enrichment()  # idempotent: one wrapper, not two
    log = logging.getLogger("shared.test_telemetry")
    with caplog.at_level(logging.INFO, logger="shared.test_telemetry"):
        with telemetry.dimensions(run_id="run-2", phase="accounts", object_name="Account"):
            log.info("token refresh failed: %s", "refresh_token=abcdef")
        log.info("outside")

    inside, outside = caplog.records
    assert getattr(inside, telemetry.RUN_ID) == "run-2"
    assert getattr(inside, telemetry.OBJECT) == "Account"
    assert inside.getMessage() == "token refresh failed: refresh_token=***"
    assert not hasattr(outside, telemetry.RUN_ID)


def test_progress_counts_become_dimensions(caplog: pytest.LogCaptureFixture) -> None:
    telemetry.install_log_enrichment()
    log = logging.getLogger("shared.test_progress")
    with (
        caplog.at_level(logging.INFO, logger="shared.test_progress"),
        telemetry.dimensions(run_id="run-3", object_name="Contact"),
    ):
        telemetry.log_progress(log, "batch loaded", {"written": 498, "quarantined": 2})

    [record] = caplog.records
    assert record.getMessage() == "batch loaded: written=498, quarantined=2"
    assert getattr(record, "migration.written") == 498
    assert getattr(record, "migration.quarantined") == 2
    assert getattr(record, telemetry.OBJECT) == "Contact"


def test_no_connection_string_means_no_export() -> None:
    assert telemetry.configure_telemetry({}) is False
    assert telemetry.configure_telemetry({"APPLICATIONINSIGHTS_CONNECTION_STRING": " "}) is False


def test_worker_managed_export_is_not_configured_twice() -> None:
    env = {
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x",
        "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY": "true",
    }
    assert telemetry.configure_telemetry(env) is False


def test_entra_id_auth_uses_the_managed_identity() -> None:
    from azure.identity import ManagedIdentityCredential

    assert telemetry._credential("") is None
    assert isinstance(telemetry._credential("Authorization=AAD"), ManagedIdentityCredential)
    assert isinstance(
        telemetry._credential("ClientId=0000-1111;Authorization=AAD"), ManagedIdentityCredential
    )


class _Ingestion(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        items = json.loads(raw)
        type(self).received.extend(items)
        out = json.dumps(
            {"itemsReceived": len(items), "itemsAccepted": len(items), "errors": []}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def ingestion() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    _Ingestion.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingestion)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], _Ingestion.received
    finally:
        server.shutdown()
        server.server_close()


CHILD = """
import logging, sys
from opentelemetry import trace
from opentelemetry._logs import get_logger_provider
from shared import telemetry

env = {"APPLICATIONINSIGHTS_CONNECTION_STRING":
       "InstrumentationKey=11111111-2222-3333-4444-555555555555;"
       f"IngestionEndpoint=http://127.0.0.1:{sys.argv[1]}/"}
assert telemetry.configure_telemetry(env) is True
assert telemetry.configure_telemetry(env) is False
log = logging.getLogger("shared.load")
log.setLevel(logging.INFO)
with telemetry.dimensions(run_id="run-7", phase="accounts"):
    with telemetry.dimensions(object_name="Account", span="load batch 3"):
        log.warning("batch 3 throttled after %s", "Authorization: Bearer abc.def.ghi")
trace.get_tracer_provider().force_flush()
get_logger_provider().force_flush()
"""


def test_exported_telemetry_carries_run_phase_object_and_no_secret(
    ingestion: tuple[int, list[dict[str, Any]]], tmp_path: Path
) -> None:
    port, received = ingestion
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "TMPDIR": str(tmp_path),
        # The distro rate-limits traces by default (5/s, first spans may drop): keep all here.
        "OTEL_TRACES_SAMPLER": "always_on",
    }
    env.pop("APPLICATIONINSIGHTS_CONNECTION_STRING", None)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(port)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]

    messages = [e for e in received if e["data"]["baseType"] == "MessageData"]
    spans = [e for e in received if e["data"]["baseType"] == "RemoteDependencyData"]
    [message] = [m for m in messages if "batch 3" in m["data"]["baseData"]["message"]]
    props = message["data"]["baseData"]["properties"]
    assert props["migration.run_id"] == "run-7"
    assert props["migration.phase"] == "accounts"
    assert props["migration.object"] == "Account"
    assert (
        message["data"]["baseData"]["message"]
        == "batch 3 throttled after Authorization: Bearer ***"
    )
    [span] = [s for s in spans if s["data"]["baseData"]["name"] == "load batch 3"]
    assert span["data"]["baseData"]["properties"]["migration.object"] == "Account"
    assert message["tags"]["ai.operation.id"] == span["tags"]["ai.operation.id"]
    assert "abc.def.ghi" not in json.dumps(received)
