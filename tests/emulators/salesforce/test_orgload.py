"""Loading an org directory into org.sqlite: what is filled in, and what is refused (naming
the file, line and field so the writer of the directory can fix it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulators.salesforce.app import SalesforceEmulator
from emulators.salesforce.errors import OrgDirectoryError
from emulators.salesforce.testing import write_org_dir


def test_missing_system_fields_are_filled(tmp_path: Path) -> None:
    org = write_org_dir(tmp_path / "org", {
        "Contact": [{"Id": "003000000000001AAA", "LastName": "Ng", "FirstName": "Al",
                     "LastModifiedDate": "2024-03-01T10:00:00Z"}],
    })  # fmt: skip
    em = SalesforceEmulator(org)
    try:
        row = em.store.get_row(em.store.schema.objects["contact"], "003000000000001AAA")
        assert row is not None
        assert row["Name"] == "Al Ng"
        assert row["LastModifiedDate"] == "2024-03-01T10:00:00.000+0000"
        assert row["SystemModstamp"] == row["CreatedDate"] == row["LastModifiedDate"]
        assert row["IsDeleted"] == 0 and row["HasOptedOutOfEmail"] == 0
        assert row["OwnerId"] == em.config.user.id
        users = em.store.execute('SELECT "Username" FROM "User"')
        assert users == [(em.config.user.username,)]
    finally:
        em.close()


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ({"Contact": [{"Id": "003000000000001AAA", "Shoe_Size__c": 9}]},
         "Contact.jsonl line 1: field 'Shoe_Size__c' does not exist on Contact"),
        ({"Widget__c": [{"Id": "a00000000000001AAA"}]}, "no object named 'Widget__c'"),
        ({"Contact": [{"Id": "003000000000001AAA", "HasOptedOutOfEmail": "no"}]},
         "Contact.HasOptedOutOfEmail is a checkbox; 'no' is not true or false"),
        ({"Contact": [{"Id": "003000000000001AAA", "Birthdate": "01/02/1990"}]},
         "Contact.Birthdate is a date; '01/02/1990' is not YYYY-MM-DD"),
        ({"Contact": [{"Id": "003000000000001AAA", "MailingAddress": {"city": "X"}}]},
         "MailingAddress is a compound field; store its parts instead"),
        ({"Contact": [{"LastName": "NoId"}]}, "Contact record has no Id"),
    ],
)  # fmt: skip
def test_bad_org_directories_are_refused_with_file_line_and_field(
    tmp_path: Path, records: dict[str, list[dict[str, object]]], message: str
) -> None:
    org = write_org_dir(tmp_path / "org", records)
    with pytest.raises(OrgDirectoryError) as err:
        SalesforceEmulator(org)
    assert message in str(err.value)
    assert not (org / "org.sqlite").exists()


def test_bad_line_is_reported_with_its_number(tmp_path: Path) -> None:
    org = write_org_dir(tmp_path / "org", {"Account": [{"Id": "001000000000001AAA", "Name": "A"}]})
    with (org / "data" / "Account.jsonl").open("a") as f:
        f.write("{not json\n")
    with pytest.raises(OrgDirectoryError, match=r"Account.jsonl line 2"):
        SalesforceEmulator(org)


def test_custom_object_from_schema_file_gets_system_fields(tmp_path: Path) -> None:
    org = write_org_dir(
        tmp_path / "org",
        {"Project__c": [{"Id": "a07000000000001AAA", "Name": "P1", "Budget__c": 10.5}]},
        schema={"Project__c": {"keyPrefix": "a07", "fields": [
            {"name": "Budget__c", "type": "currency", "label": "Budget"}]}},
    )  # fmt: skip
    em = SalesforceEmulator(org)
    try:
        obj = em.store.schema.objects["project__c"]
        assert {"id", "ownerid", "systemmodstamp", "budget__c"} <= set(obj.fields)
        rows = em.queries.run("SELECT Name, Budget__c FROM Project__c", include_deleted=False,
                              base="/services/data/v59.0")  # fmt: skip
        assert rows["records"][0]["Budget__c"] == 10.5
    finally:
        em.close()


def test_missing_org_json_says_what_an_org_directory_is(tmp_path: Path) -> None:
    with pytest.raises(OrgDirectoryError, match=r"docs/org-directory\.md"):
        SalesforceEmulator(tmp_path)


def test_multipicklist_includes_and_excludes(tmp_path: Path) -> None:
    values = ["Golf;Tennis", "Tennis", None, "Chess;Golf"]
    org = write_org_dir(
        tmp_path / "org",
        {"Contact": [{"Id": f"00300000000000{i}AAA", "LastName": f"C{i}", "Hobbies__c": v}
                     for i, v in enumerate(values)]},
        schema={"Contact": [{"name": "Hobbies__c", "type": "multipicklist", "label": "Hobbies"}]},
    )  # fmt: skip
    em = SalesforceEmulator(org)

    def names(where: str) -> set[str]:
        rows = em.queries.run(f"SELECT LastName FROM Contact WHERE {where}",
                              include_deleted=False, base="/b")["records"]  # fmt: skip
        return {r["LastName"] for r in rows}

    try:
        assert names("Hobbies__c INCLUDES ('Golf')") == {"C0", "C3"}
        assert names("Hobbies__c INCLUDES ('Golf;Tennis')") == {"C0"}
        assert names("Hobbies__c INCLUDES ('Chess', 'Tennis')") == {"C0", "C1", "C3"}
        assert names("Hobbies__c EXCLUDES ('Golf')") == {"C1", "C2"}
    finally:
        em.close()


def test_clashing_key_prefixes_are_refused(tmp_path: Path) -> None:
    org = write_org_dir(
        tmp_path / "org", {}, schema={"Clash__c": {"keyPrefix": "003", "fields": []}}
    )
    with pytest.raises(OrgDirectoryError, match="key prefix '003' is already used by Contact"):
        SalesforceEmulator(org)


def test_working_copy_persists_until_the_directory_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    org = write_org_dir(tmp_path / "org", {"Account": [{"Id": "001000000000001AAA", "Name": "A"}]})

    def count() -> int:
        em = SalesforceEmulator(org)
        try:
            return int(em.queries.run("SELECT COUNT() FROM Account", include_deleted=False,
                                      base="/b")["totalSize"])  # fmt: skip
        finally:
            em.close()

    em = SalesforceEmulator(org)
    em.store.create(em.store.schema.objects["account"], {"Name": "Made through the API"})
    em.close()
    assert count() == 2  # restart keeps API writes
    write_org_dir(org, {"Account": [{"Id": "001000000000001AAA", "Name": "A"},
                                    {"Id": "001000000000002AAA", "Name": "B"},
                                    {"Id": "001000000000003AAA", "Name": "C"}]})  # fmt: skip
    assert count() == 3
    assert "changed since org.sqlite was built" not in capsys.readouterr().err
    with (org / "data" / "Account.jsonl").open("a") as f:
        f.write(json.dumps({"Id": "001000000000004AAA", "Name": "D"}) + "\n")
    assert count() == 4
    assert "changed since org.sqlite was built; reloading" in capsys.readouterr().err


def test_hidden_fields_must_name_real_fields(tmp_path: Path) -> None:
    org = write_org_dir(tmp_path / "org", {}, hidden_fields={"Contact": ["Salry__c"]})
    with pytest.raises(OrgDirectoryError, match=r"hidden_fields: Contact\.Salry__c does not exist"):
        SalesforceEmulator(org)
