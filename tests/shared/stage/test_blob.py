"""Blob backend specifics: failures are classified into the engine's error tree."""

from __future__ import annotations

import socket

import pytest
from azure.storage.blob import BlobServiceClient

from shared.errors import AuthenticationError, UnreachableError
from tests.shared.stage.conftest import DEV_ACCOUNT


def test_unreachable_storage_is_named(tmp_path: object) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey=eA==;"
        f"BlobEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};"
    )
    service = BlobServiceClient.from_connection_string(conn, retry_total=0)
    from shared.stage.blob import BlobStage

    with pytest.raises(UnreachableError, match="cannot be reached"):
        BlobStage(service.get_container_client("stagetest"))


def test_wrong_account_key_is_an_authentication_error(azurite_connection_string: str) -> None:
    from shared.stage.blob import BlobStage

    bad = azurite_connection_string.replace(
        azurite_connection_string.split("AccountKey=")[1].split(";")[0], "d3Jvbmc="
    )
    service = BlobServiceClient.from_connection_string(bad, retry_total=0)
    with pytest.raises(AuthenticationError, match="refused our credentials") as info:
        BlobStage(service.get_container_client("stagetest"))
    assert "d3Jvbmc=" not in str(info.value)
