"""Stage fixtures: every stage test runs against the directory AND Azurite (Blob) backends."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from shared.stage.base import Stage
from shared.stage.blob import BlobStage
from shared.stage.local import LocalStage

REPO = Path(__file__).resolve().parents[3]
AZURITE = REPO / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account (published in Azurite's README; not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def azurite_connection_string(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start Azurite's Blob service on a free loopback port for the whole session."""
    if not AZURITE.exists():
        pytest.fail(f"{AZURITE} is missing: run `npm ci` in the repository root")
    port = _free_port()
    location = tmp_path_factory.mktemp("azurite")
    proc = subprocess.Popen(
        [
            str(AZURITE),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--silent",
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--inMemoryPersistence",
        ],
        cwd=location,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read().decode() if proc.stderr and proc.poll() is not None else ""
            proc.kill()
            pytest.fail(f"Azurite did not start on port {port}: {err}")
        time.sleep(0.1)
    yield (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};"
    )
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def blob_stage(azurite_connection_string: str) -> BlobStage:
    """A fresh container per test so tests never see each other's keys."""
    service = BlobServiceClient.from_connection_string(azurite_connection_string)
    return BlobStage(service.get_container_client(f"t{uuid.uuid4().hex}"))


@pytest.fixture(params=["local", "blob"])
def stage(request: pytest.FixtureRequest, tmp_path: Path) -> Stage:
    """The same tests against both backends."""
    if request.param == "local":
        return LocalStage(tmp_path / "stage")
    result: Stage = request.getfixturevalue("blob_stage")
    return result
