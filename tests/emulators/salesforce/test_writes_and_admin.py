"""Writes through the REST API keep system fields as Salesforce does, so delta extraction can
be tested while records change; the admin surface resets, moves the clock and counts."""

from __future__ import annotations

import base64

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from emulators.salesforce.testing import SalesforceEndpoint
from tests.emulators.salesforce.conftest import ACME, contact_id


def test_create_update_delete_maintain_system_fields(writable: SalesforceEndpoint) -> None:
    sf = writable.client()
    new = sf.Contact.create({"LastName": "Novak", "FirstName": "Ida", "AccountId": ACME})
    assert new["success"] is True and new["id"].startswith("003") and len(new["id"]) == 18
    created = sf.Contact.get(new["id"])
    assert created["Name"] == "Ida Novak"
    assert created["CreatedDate"] == created["LastModifiedDate"] == created["SystemModstamp"]
    assert created["OwnerId"] == created["CreatedById"]

    sf.Contact.update(new["id"], {"LastName": "Novakova"})
    updated = sf.Contact.get(new["id"])
    assert updated["Name"] == "Ida Novakova"
    assert updated["SystemModstamp"] > created["SystemModstamp"]
    assert updated["CreatedDate"] == created["CreatedDate"]

    watermark = updated["SystemModstamp"]
    sf.Contact.delete(new["id"])
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(new["id"])
    since = watermark.replace("+0000", "Z")
    delta = sf.query_all(
        f"SELECT Id, IsDeleted FROM Contact WHERE SystemModstamp > {since}",
        include_deleted=True,
    )["records"]
    assert [(r["Id"], r["IsDeleted"]) for r in delta] == [(new["id"], True)]
    assert sf.query(f"SELECT COUNT() FROM Contact WHERE Id = '{new['id']}'")["totalSize"] == 0


def test_updated_and_deleted_resources_report_changes(writable: SalesforceEndpoint) -> None:
    sf = writable.client()
    start = sf.Contact.get(contact_id(0))["SystemModstamp"]
    sf.Contact.update(contact_id(0), {"Title": "CTO"})
    sf.Contact.delete(contact_id(1))
    import datetime as dt

    begin = dt.datetime.strptime(start, "%Y-%m-%dT%H:%M:%S.%f%z") - dt.timedelta(days=400)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert contact_id(0) in sf.Contact.updated(begin, end)["ids"]
    deleted = sf.Contact.deleted(begin, end)["deletedRecords"]
    assert contact_id(1) in {d["id"] for d in deleted}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"Nope__c": 1}, "INVALID_FIELD"),
        ({"Salary__c": 5}, "INVALID_FIELD"),  # hidden by FLS: not writable either
        ({"LastName": "x" * 81}, "STRING_TOO_LONG"),
        ({"LastName": "x", "Email": "bob@"}, "INVALID_EMAIL_ADDRESS"),
        ({"FirstName": "only"}, "REQUIRED_FIELD_MISSING"),
        ({"LastName": "x", "Name": "y"}, "INVALID_FIELD_FOR_INSERT_UPDATE"),
        ({"LastName": "x", "HasOptedOutOfEmail": "yes"}, "JSON_PARSER_ERROR"),
    ],
)
def test_bad_writes_are_refused_with_salesforce_codes(
    writable: SalesforceEndpoint, body: dict[str, object], code: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as err:
        writable.client().Contact.create(body)
    assert err.value.content[0]["errorCode"] == code


def test_content_version_upload_is_served_back(writable: SalesforceEndpoint) -> None:
    sf = writable.client()
    body = "héllo, file".encode()
    new = sf.ContentVersion.create({
        "Title": "Note", "PathOnClient": "note.TXT", "FirstPublishLocationId": ACME,
        "VersionData": base64.b64encode(body).decode(),
    })  # fmt: skip
    assert sf.ContentVersion.get_base64(new["id"], "VersionData") == body
    row = sf.query(
        "SELECT ContentSize, FileExtension, FileType, ContentDocumentId, "
        f"ContentDocument.LatestPublishedVersionId FROM ContentVersion WHERE Id = '{new['id']}'"
    )["records"][0]
    assert (row["ContentSize"], row["FileExtension"], row["FileType"]) == (len(body), "txt", "TEXT")
    assert row["ContentDocument"]["LatestPublishedVersionId"] == new["id"]
    links = sf.query(
        "SELECT LinkedEntityId FROM ContentDocumentLink "
        f"WHERE ContentDocumentId = '{row['ContentDocumentId']}'"
    )["records"]
    assert [link["LinkedEntityId"] for link in links] == [ACME]


def test_admin_reset_restores_the_org_directory(writable: SalesforceEndpoint) -> None:
    sf = writable.client()
    session = writable.requests_session()
    sf.Contact.update(contact_id(0), {"Title": "Changed"})
    state = session.post(f"{writable.admin_url}/reset").json()
    assert state["api_requests"]["used"] == 0
    assert sf.Contact.get(contact_id(0))["Title"] is None


def test_admin_clock_moves_system_modstamp_and_date_literals(writable: SalesforceEndpoint) -> None:
    sf = writable.client()
    session = writable.requests_session()
    clock = session.post(f"{writable.admin_url}/clock", json={"now": "2031-06-01T12:00:00Z"}).json()
    assert clock["now"].startswith("2031-06-01T12:00")
    sf.Contact.update(contact_id(2), {"Title": "Later"})
    stamp = sf.Contact.get(contact_id(2))["SystemModstamp"]
    assert stamp.startswith("2031-06-01T12:00")
    today = sf.query("SELECT Id FROM Contact WHERE SystemModstamp = TODAY")["records"]
    assert [r["Id"] for r in today] == [contact_id(2)]


def test_admin_counts_requests_by_resource(writable: SalesforceEndpoint) -> None:
    sf = writable.client()
    session = writable.requests_session()
    sf.query("SELECT Id FROM Account")
    sf.Contact.describe()
    state = session.get(f"{writable.admin_url}/state").json()
    assert state["api_requests"]["by_resource"] == {"query": 1, "sobjects": 1}
    assert state["api_requests"]["used"] == 2


def test_a_delete_cascades_as_salesforce_does(writable: SalesforceEndpoint) -> None:
    sf = writable.client()
    contact = sf.Contact.create({"LastName": "Cascade", "AccountId": ACME})["id"]
    task = sf.Task.create(
        {"Subject": "Call", "WhoId": contact, "Status": "Completed", "Priority": "Normal"}
    )["id"]
    sf.Account.delete(ACME)
    deleted = sf.query_all(
        f"SELECT Id FROM Contact WHERE IsDeleted = true AND Id = '{contact}'", include_deleted=True
    )["records"]
    assert [r["Id"] for r in deleted] == [contact]  # the account took its contact...
    tasks = sf.query_all(
        f"SELECT Id, IsDeleted FROM Task WHERE Id = '{task}'", include_deleted=True
    )["records"]
    assert tasks[0]["IsDeleted"] is True  # ...and the contact its task


def test_admin_purge_empties_the_recycle_bin(writable: SalesforceEndpoint) -> None:
    sf = writable.client()
    session = writable.requests_session()
    refused = session.post(f"{writable.admin_url}/purge", json={"ids": [contact_id(3)]})
    assert refused.status_code == 400 and "delete it first" in refused.json()["error"]
    sf.Contact.delete(contact_id(3))
    purged = session.post(f"{writable.admin_url}/purge", json={"ids": [contact_id(3)]}).json()
    assert purged == {"purged": 1}
    gone = sf.query_all(
        f"SELECT Id FROM Contact WHERE Id = '{contact_id(3)}'", include_deleted=True
    )["records"]
    assert gone == []  # not even queryAll returns it: only a full id comparison notices
