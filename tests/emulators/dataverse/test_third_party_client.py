"""Microsoft's own Python SDK (PowerPlatform-Dataverse-Client) works unchanged over HTTPS."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from PowerPlatform.Dataverse.client import DataverseClient

from emulators.dataverse.testing import DataverseEndpoint, run_dataverse


class EmulatorCredential:
    """An azure-core TokenCredential that hands out the emulator's bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


@pytest.fixture(scope="module")
def tls_dv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataverseEndpoint]:
    with run_dataverse(
        tmp_path_factory.mktemp("dv-tls"), tls=True, key_activation_seconds=0.1
    ) as endpoint:
        yield endpoint


@pytest.fixture
def client(tls_dv: DataverseEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[DataverseClient]:
    # requests (used by the SDK) trusts the emulator's self-signed CA through this variable.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_dv.ca_cert))
    with DataverseClient(tls_dv.base, EmulatorCredential(tls_dv.token)) as dv_client:
        yield dv_client


def test_crud_and_paged_query(client: DataverseClient) -> None:
    aid = client.records.create("account", {"name": "Contoso", "telephone1": "555"})
    got = client.records.retrieve("account", aid, select=["name", "telephone1"])
    assert got["name"] == "Contoso"
    client.records.update("account", aid, {"telephone1": "556"})
    assert client.records.retrieve("account", aid, select=["telephone1"])["telephone1"] == "556"
    ids = client.records.create("account", [{"name": f"Bulk {i}"} for i in range(5)])
    assert len(ids) == 5
    # page_size=2 makes the SDK follow @odata.nextLink twice to collect the five rows.
    found = list(
        client.records.list(
            "account", filter="startswith(name,'Bulk')", select=["name"], page_size=2
        )
    )
    assert sorted(r["name"] for r in found) == [f"Bulk {i}" for i in range(5)]
    client.records.delete("account", aid)
    assert client.records.retrieve("account", aid) is None  # the SDK maps our 404 to None


def test_columns_keys_upsert_and_batch(client: DataverseClient) -> None:
    created = client.tables.add_columns("contact", {"lfwd_SfId": "string"})
    assert created
    client.tables.create_alternate_key("contact", "lfwd_sfid_key", ["lfwd_sfid"])
    time.sleep(0.15)
    client.records.upsert(
        "contact",
        [
            {"alternate_key": {"lfwd_sfid": "003A"}, "record": {"lastname": "One"}},
            {"alternate_key": {"lfwd_sfid": "003B"}, "record": {"lastname": "Two"}},
        ],
    )
    client.records.upsert(
        "contact", [{"alternate_key": {"lfwd_sfid": "003A"}, "record": {"lastname": "Uno"}}]
    )
    rows = list(
        client.records.list("contact", filter="lfwd_sfid ne null", select=["lastname", "lfwd_sfid"])
    )
    names = sorted(r["lastname"] for r in rows)
    assert names == ["Two", "Uno"]
    batch = client.batch.new()
    batch.records.create("account", {"name": "In batch 1"})
    batch.records.create("account", {"name": "In batch 2"})
    result = batch.execute()
    assert not result.has_errors
    found = list(
        client.records.list("account", filter="startswith(name,'In batch')", select=["name"])
    )
    assert len(found) == 2
