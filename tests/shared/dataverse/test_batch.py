"""$batch bodies and responses, and the client over TLS with the emulator's certificate."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from emulators.dataverse.testing import run_dataverse
from shared.dataverse.auth import StaticToken
from shared.dataverse.batch import BatchPart, build_batch, parse_batch_response
from shared.dataverse.client import DataverseClient, http_client
from shared.errors import UnreachableError
from shared.settings import DataverseSettings


def test_batch_body_has_one_part_per_request() -> None:
    body = build_batch(
        [
            BatchPart("PATCH", "accounts(1)", {"name": "A"}, (("If-Match", "*"),)),
            BatchPart("DELETE", "accounts(2)"),
        ],
        "https://org/api/data/v9.2/",
        "batch_X",
    ).decode()
    assert body.count("--batch_X\r\n") == 2 and body.endswith("--batch_X--\r\n")
    assert "PATCH https://org/api/data/v9.2/accounts(1) HTTP/1.1\r\nIf-Match: *\r\n" in body
    assert 'Content-Type: application/json\r\n\r\n{"name": "A"}' in body
    with pytest.raises(ValueError, match="at most 1000"):
        build_batch([BatchPart("DELETE", "x")] * 1001, "b/", "b")


def test_batch_response_parts_in_order_including_change_sets() -> None:
    text = (
        "--batchresponse_1\r\n"
        "Content-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n"
        "--changesetresponse_2\r\nContent-Type: application/http\r\n\r\n"
        "HTTP/1.1 204 No Content\r\nOData-EntityId: x\r\n\r\n\r\n"
        "--changesetresponse_2--\r\n"
        "--batchresponse_1\r\nContent-Type: application/http\r\n\r\n"
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n"
        '{"error":{"code":"0x8004431a","message":"out of range"}}\r\n'
        "--batchresponse_1--\r\n"
    )
    response = httpx.Response(
        200,
        content=text.encode(),
        headers={"content-type": "multipart/mixed; boundary=batchresponse_1"},
    )
    parts = parse_batch_response(response)
    assert [p.status_code for p in parts] == [204, 400]
    assert parts[1].json()["error"]["code"] == "0x8004431a"


async def test_client_over_tls_trusts_the_configured_certificate(tmp_path: Path) -> None:
    with run_dataverse(tmp_path / "dv", tls=True) as endpoint:
        settings = DataverseSettings(
            url=endpoint.base,
            auth="static_token",
            token=SecretStr(endpoint.token),
            ca_cert=endpoint.ca_cert,
        )
        async with http_client(settings) as http:
            client = DataverseClient.from_settings(http, settings, StaticToken(settings.token))  # type: ignore[arg-type]
            assert await client.connect()
        async with httpx.AsyncClient() as untrusting:
            client = DataverseClient(
                untrusting, url=endpoint.base, tokens=StaticToken(SecretStr(endpoint.token))
            )
            with pytest.raises(UnreachableError, match=r"(?i)certificate verify failed"):
                await client.connect()
