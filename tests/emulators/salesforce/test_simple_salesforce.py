"""simple-salesforce 1.12.10, unchanged, against the emulator over HTTPS: every read call the
product makes (describe, query paging, queryAll, record GET, limits, Tooling, file bodies)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from emulators.salesforce.testing import SalesforceEndpoint
from tests.emulators.salesforce.conftest import (
    ACME,
    BIG_BODY,
    BIG_FILE,
    EMPTY_FILE,
    GLOBEX,
    N_CONTACTS,
    contact_id,
    org_records,
)

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
LIVE_CONTACTS = N_CONTACTS - 3


def test_global_describe_lists_standard_and_leadfwd_objects(sf: Any) -> None:
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Lead", "Task", "ContentVersion", "ActionCadence"} <= names
    assert "leadfwd__Sequence_Enrollment__c" in names


def test_sobject_describe_omits_fields_hidden_by_field_level_security(sf: Any) -> None:
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert "Salary__c" not in fields
    assert fields["Email"]["type"] == "email"
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["MailingStreet"]["compoundFieldName"] == "MailingAddress"
    assert fields["leadfwd__Icebreaker__c"]["length"] == 32768


def test_query_pages_2000_records_and_query_all_iter_follows_next_records_url(sf: Any) -> None:
    first = sf.query("SELECT Id FROM Contact")
    assert first["totalSize"] == LIVE_CONTACTS
    assert len(first["records"]) == 2000
    assert first["done"] is False
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    ids = [r["Id"] for r in sf.query_all_iter("SELECT Id FROM Contact ORDER BY LastName")]
    assert len(ids) == len(set(ids)) == LIVE_CONTACTS
    assert ids[0] == contact_id(0)


def test_query_all_includes_deleted_rows_flagged_is_deleted(sf: Any) -> None:
    rows = sf.query_all("SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true",
                        include_deleted=True)["records"]  # fmt: skip
    assert sorted(r["Id"] for r in rows) == sorted(contact_id(i) for i in (5, 6, 7))
    assert sf.query("SELECT Id FROM Contact WHERE IsDeleted = true")["totalSize"] == 0


def test_records_look_like_the_real_api(sf: Any) -> None:
    rec = sf.query(
        "SELECT Id, Name, Account.Name, Account.Owner.Email, Owner.IsActive, CreatedDate, "
        f"HasOptedOutOfEmail, MailingAddress FROM Contact WHERE Id = '{contact_id(0)}'"
    )["records"][0]
    assert rec["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v59.0/sobjects/Contact/{contact_id(0)}",
    }
    assert rec["Name"] == "First0 Last0000"
    assert rec["Account"]["attributes"]["type"] == "Account"
    assert rec["Account"]["Name"] == "Acme"
    assert rec["Account"]["Owner"]["Email"] == "ana@acme.example"
    assert rec["Owner"]["IsActive"] is True
    assert DATETIME.match(rec["CreatedDate"])
    assert rec["HasOptedOutOfEmail"] is True
    assert rec["MailingAddress"]["city"] == "Lyon"
    assert rec["MailingAddress"]["street"] == "1 Rue X"
    no_account = sf.query(f"SELECT Account.Name FROM Contact WHERE Id = '{contact_id(1)}'")
    assert no_account["records"][0]["Account"] is None


def test_numbers_come_back_as_numbers(sf: Any) -> None:
    rec = sf.query(f"SELECT NumberOfEmployees, AnnualRevenue FROM Account WHERE Id = '{ACME}'")
    assert rec["records"][0]["NumberOfEmployees"] == 250
    assert rec["records"][0]["AnnualRevenue"] == pytest.approx(1500000.5)


def test_polymorphic_who_type_resolves_contact_and_lead(sf: Any) -> None:
    rows = sf.query("SELECT Subject, Who.Type, Who.Name, What.Type FROM Task ORDER BY Subject")
    by_subject = {r["Subject"]: r for r in rows["records"]}
    assert by_subject["Call Bo"]["Who"]["Type"] == "Contact"
    assert by_subject["Call Bo"]["Who"]["Name"] == "First0 Last0000"
    assert by_subject["Call Bo"]["What"]["Type"] == "Account"
    assert by_subject["Email Lee"]["Who"]["Type"] == "Lead"
    assert by_subject["Email Lee"]["What"] is None


def test_archived_tasks_only_in_query_all(sf: Any) -> None:
    assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 2
    assert sf.query("SELECT COUNT() FROM Task", include_deleted=True)["totalSize"] == 3


def _live_contacts() -> list[dict[str, Any]]:
    return [c for c in org_records()["Contact"] if not c["IsDeleted"]]


def _account_name(c: dict[str, Any]) -> str | None:
    return {ACME: "Acme", GLOBEX: "Globex"}.get(c["AccountId"] or "")


# Each WHERE clause beside a plain-Python statement of what it means, evaluated on the source.
WHERE_CASES: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
    ("Email = 'PERSON1@EXAMPLE.COM'", lambda c: c["Email"] == "person1@example.com"),
    ("Email LIKE 'person1%'", lambda c: c["Email"].startswith("person1")),
    ("AccountId = null", lambda c: c["AccountId"] is None),
    ("AccountId != null", lambda c: c["AccountId"] is not None),
    (f"AccountId IN ('{ACME}')", lambda c: c["AccountId"] == ACME),
    (f"AccountId NOT IN ('{ACME}')", lambda c: c["AccountId"] != ACME),
    (
        "Account.Name = 'Globex' AND HasOptedOutOfEmail = false",
        lambda c: _account_name(c) == "Globex" and not c["HasOptedOutOfEmail"],
    ),
    (
        "(Account.Name = 'Globex' OR Account.Name = 'Acme') AND NOT Email LIKE '%0@%'",
        lambda c: _account_name(c) is not None and "0@" not in c["Email"],
    ),
    (
        "LastModifiedDate > 2024-02-01T00:00:58Z",
        lambda c: c["LastModifiedDate"] > "2024-02-01T00:00:58.000+0000",
    ),
    ("CreatedDate < 2024-01-01T00:00:00.000+0000", lambda c: False),
    ("CreatedDate = LAST_N_DAYS:30", lambda c: False),
    ("Id IN (SELECT WhoId FROM Task)", lambda c: c["Id"] == contact_id(0)),
]


@pytest.mark.parametrize(("where", "meaning"), WHERE_CASES, ids=[w for w, _ in WHERE_CASES])
def test_where_clauses_select_what_salesforce_would(
    sf: Any, where: str, meaning: Callable[[dict[str, Any]], bool]
) -> None:
    expected = sum(1 for c in _live_contacts() if meaning(c))
    assert sf.query(f"SELECT COUNT() FROM Contact WHERE {where}")["totalSize"] == expected
    ids = {r["Id"] for r in sf.query_all_iter(f"SELECT Id FROM Contact WHERE {where}")}
    assert ids == {c["Id"] for c in _live_contacts() if meaning(c)}


def test_order_by_limit_offset(sf: Any) -> None:
    rows = sf.query("SELECT LastName FROM Contact ORDER BY LastName DESC LIMIT 3 OFFSET 1")
    assert [r["LastName"] for r in rows["records"]] == ["Last2498", "Last2497", "Last2496"]


def test_count_field_is_an_aggregate_result(sf: Any) -> None:
    rows = sf.query("SELECT COUNT(Id) n FROM Account")
    assert rows["records"][0]["n"] == 2


@pytest.mark.parametrize(
    ("soql", "code", "text"),
    [
        ("SELECT Salary__c FROM Contact", "INVALID_FIELD", "No such column 'Salary__c' on entity"),
        ("SELECT Id FROM Contac", "INVALID_TYPE", "sObject type 'Contac' is not supported"),
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact WHERE CreatedDate > '2024'", "INVALID_FIELD", "of type dateTime"),
        ("SELECT Foo.Name FROM Contact", "INVALID_FIELD", "Didn't understand relationship 'Foo'"),
        ("SELECT Id FROM ContentDocumentLink", "MALFORMED_QUERY", "Implementation restriction"),
    ],
)  # fmt: skip
def test_query_errors_carry_real_codes_and_messages(
    sf: Any, soql: str, code: str, text: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query(soql)
    assert err.value.content[0]["errorCode"] == code
    message = err.value.content[0]["message"]
    assert text in message
    if code != "MALFORMED_QUERY" or "unexpected token" in text:
        # Salesforce points at the offending token: query line, caret, row and column.
        assert message.startswith(f"\n{soql}\n") and "\nERROR at Row:1:Column:" in message


def test_record_get_returns_visible_fields_only(sf: Any) -> None:
    rec = sf.Contact.get(contact_id(0))
    assert rec["Email"] == "person0@example.com"
    assert "Salary__c" not in rec
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(contact_id(5))  # deleted


def test_limits_and_sforce_limit_info_header(sf: Any, sf_endpoint: SalesforceEndpoint) -> None:
    limits = sf.limits()
    daily = limits["DailyApiRequests"]
    assert daily["Max"] == 100_000
    used = sf.api_usage["api-usage"]
    assert used.total == 100_000
    assert used.used == daily["Max"] - daily["Remaining"]


def test_tooling_field_definition_lists_fields_hidden_by_fls(sf: Any) -> None:
    soql = ("SELECT QualifiedApiName, DataType FROM FieldDefinition "
            "WHERE EntityDefinition.QualifiedApiName = 'Contact'")  # fmt: skip
    rows = sf.restful("tooling/query/", params={"q": soql})
    names = {r["QualifiedApiName"]: r["DataType"] for r in rows["records"]}
    described = {f["name"] for f in sf.Contact.describe()["fields"]}
    assert set(names) - described == {"Salary__c"}
    assert names["Salary__c"] == "Currency(18, 2)"
    assert names["Email"] == "Email"


def test_content_version_body_is_streamed_byte_for_byte(
    sf: Any, sf_endpoint: SalesforceEndpoint
) -> None:
    rec = sf.query(
        "SELECT Id, VersionData, ContentSize, FileExtension FROM ContentVersion "
        f"WHERE Id = '{BIG_FILE}'"
    )
    row = rec["records"][0]
    assert (
        row["VersionData"] == f"/services/data/v59.0/sobjects/ContentVersion/{BIG_FILE}/VersionData"
    )
    assert row["ContentSize"] == len(BIG_BODY)
    assert row["FileExtension"] == "pdf"
    assert sf.ContentVersion.get_base64(BIG_FILE, "VersionData") == BIG_BODY
    assert sf.ContentVersion.get_base64(EMPTY_FILE, "VersionData") == b""


def test_sforce_query_options_batch_size_sets_the_page_size(
    sf_endpoint: SalesforceEndpoint,
) -> None:
    session = sf_endpoint.requests_session()
    headers = {"Authorization": f"Bearer {sf_endpoint.access_token}",
               "Sforce-Query-Options": "batchSize=500"}  # fmt: skip
    page = session.get(f"{sf_endpoint.base_url}/query", params={"q": "SELECT Id FROM Contact"},
                       headers=headers).json()  # fmt: skip
    assert len(page["records"]) == 500
    assert page["nextRecordsUrl"].endswith("-500")
    more = session.get(sf_endpoint.instance_url + page["nextRecordsUrl"], headers=headers).json()
    assert len(more["records"]) == 500


def test_a_page_can_be_fetched_again_after_a_lost_response(sf: Any) -> None:
    first = sf.query("SELECT Id FROM Contact ORDER BY Id")
    url = first["nextRecordsUrl"]
    once = sf.query_more(url, identifier_is_url=True)
    again = sf.query_more(url, identifier_is_url=True)
    assert once["done"] is True
    assert [r["Id"] for r in again["records"]] == [r["Id"] for r in once["records"]]
