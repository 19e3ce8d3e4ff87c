"""A generated org is served by the emulator and read with simple-salesforce, unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from emulators.salesforce.generate import generate_org
from emulators.salesforce.generate.reader import iter_records, read_defects
from emulators.salesforce.testing import SalesforceEndpoint, run_salesforce


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceEndpoint]:
    out = tmp_path_factory.mktemp("served") / "acme"
    generate_org(out, scale=60, seed=5)
    with run_salesforce(out) as running:
        yield running


@pytest.fixture(scope="module")
def sf(endpoint: SalesforceEndpoint) -> Any:
    return endpoint.client()


def _org(endpoint: SalesforceEndpoint) -> Path:
    return Path(endpoint.emulator.org_dir)


def test_query_returns_the_live_contacts_and_query_all_the_deleted_too(
    sf: Any, endpoint: SalesforceEndpoint
) -> None:
    everything = list(iter_records(_org(endpoint), "Contact"))
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 60
    deleted = sf.query_all("SELECT Id FROM Contact WHERE IsDeleted = true", include_deleted=True)
    assert deleted["totalSize"] == len(everything) - 60 > 0


def test_contacts_come_back_with_their_account_name(sf: Any, endpoint: SalesforceEndpoint) -> None:
    accounts = {a["Id"]: a["Name"] for a in iter_records(_org(endpoint), "Account")}
    rows = sf.query_all("SELECT Id, AccountId, Account.Name FROM Contact WHERE AccountId != null")
    assert rows["totalSize"] > 0
    for row in rows["records"]:
        if row["Account"] is not None:
            assert row["Account"]["Name"] == accounts[row["AccountId"]]


def test_fls_hidden_field_is_absent_from_describe_and_refused_in_soql(sf: Any) -> None:
    names = {f["name"] for f in sf.Contact.describe()["fields"]}
    assert "Interests__c" in names and "leadfwd__Icebreaker__c" in names
    assert "Salary__c" not in names
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query("SELECT Salary__c FROM Contact")
    content: Any = refused.value.content
    assert content[0]["errorCode"] == "INVALID_FIELD"


def test_planted_unicode_and_big_file_arrive_exactly(sf: Any, endpoint: SalesforceEndpoint) -> None:
    rows = read_defects(_org(endpoint))
    for row in rows:
        if row["defect"] == "unicode_text" and row["object"] == "Contact":
            served = sf.Contact.get(row["id"])
            assert served[row["field"]] == row["value"]
    (big,) = [r for r in rows if r["defect"] == "file_over_5mb"]
    body = sf.ContentVersion.get_base64(big["id"], "VersionData")
    assert body == (_org(endpoint) / "files" / big["id"]).read_bytes()


def test_bulk2_extracts_every_live_engagement_event(sf: Any, endpoint: SalesforceEndpoint) -> None:
    expected = sum(
        1
        for r in iter_records(_org(endpoint), "leadfwd__Engagement_Event__c")
        if not r.get("IsDeleted")
    )
    pages = sf.bulk2.leadfwd__Engagement_Event__c.query(
        "SELECT Id, leadfwd__Event_Type__c FROM leadfwd__Engagement_Event__c", wait=0
    )
    lines = sum(len(page.strip().splitlines()) - 1 for page in pages)
    assert lines == expected
