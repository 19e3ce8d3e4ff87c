"""Comparing one entry: id sets, per-record field hashes, exact differences, known exceptions."""

from __future__ import annotations

from typing import Any

import pytest

from shared.cutover.compare import (
    CREATE_ONLY_ON_EXISTING_ROW,
    EntryResult,
    Expected,
    canonical,
    compare_entry,
    compare_record,
    expected_from_row,
    field_set_sha256,
    id_set_sha256,
    record_hash,
    select_columns,
)
from shared.cutover.known import Known
from shared.rows import FileRef, TargetRow

NAV = "@Microsoft.Dynamics.CRM.associatednavigationproperty"
ACC = "6f1f3c52-2a4b-5d43-9b0e-8f2d7c1a4e10"
OWNER = "0b7e6a43-1c1d-4f3a-9a55-8e1f3e9d2c11"
ID1, ID2, ID3, ID4 = (f"00000000-0000-5000-8000-00000000000{i}" for i in range(1, 5))
SF1, SF2, SF3, SF4 = (f"003000000000{i}00AAA" for i in range(1, 5))


def contact(tid: str = ID1, sf: str = SF1, **fields: Any) -> Expected:
    values = {
        "lfwd_sfcontactid": sf,
        "lastname": "Lovelace",
        "revenue": 5000000,
        "overriddencreatedon": "2024-05-01T14:00:00.000+0200",
        "parentcustomerid_account@odata.bind": f"/accounts({ACC.upper()})",
        **fields,
    }
    return Expected(tid, "Contact", sf, values)


def row(tid: str = ID1, sf: str = SF1, **fields: Any) -> dict[str, Any]:
    """The contact as Dataverse answers: its own spellings of the same values."""
    return {
        "contactid": tid,
        "lfwd_sfcontactid": sf,
        "lastname": "Lovelace ",
        "revenue": "5000000.0000",
        "createdon": "2024-05-01T12:00:00Z",
        "_parentcustomerid_value": ACC,
        f"_parentcustomerid_value{NAV}": "parentcustomerid_account",
        **fields,
    }


def test_expected_holds_what_the_loader_writes_and_reconciliation_reads_back() -> None:
    target = TargetRow(
        table="annotation",
        entity_set="annotations",
        id=ID1.upper(),
        source_object="Attachment",
        source_id=SF1,
        payload={
            "subject": "Contract",
            "objectid_contact@odata.bind": f"/contacts({ACC})",
            "documentbody": "QUJD",
            "email_activity_parties": [{"partyid_contact@odata.bind": "/contacts(x)"}],
        },
        second_pass={"parentaccountid@odata.bind": f"/accounts({ACC})"},
        close={"statecode": 1, "statuscode": 2},
        file=FileRef("run/files/Attachment/x", 1234, "contract.pdf", "application/pdf"),
    )
    exp = expected_from_row(target)
    assert exp.target_id == ID1
    assert exp.closes
    assert dict(exp.fields) == {
        "subject": "Contract",
        "objectid_contact@odata.bind": f"/contacts({ACC})",
        "parentaccountid@odata.bind": f"/accounts({ACC})",
        "statecode": 1,
        "statuscode": 2,
        "filesize": 1234,
    }


def test_select_reads_lookups_by_their_value_column_and_created_on() -> None:
    keys = [
        "lastname",
        "overriddencreatedon",
        "parentcustomerid_account@odata.bind",
        "regardingobjectid_contact_task@odata.bind",
        "ownerid@odata.bind",
        "nosuchlookup@odata.bind",
    ]
    lookups = ["parentcustomerid", "regardingobjectid", "ownerid", "parent"]
    assert select_columns(keys, lookups) == [
        "lastname",
        "createdon",
        "_parentcustomerid_value",
        "_regardingobjectid_value",
        "_ownerid_value",
    ]


@pytest.mark.parametrize(
    "key,a,b",
    [
        ("revenue", 5000000, 5000000.0),
        ("actualend", "2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z"),
        ("parentaccountid@odata.bind", f"/accounts({ACC.upper()})", ACC),
        ("description", "a\r\nb ", "a\nb"),
        ("description", "", None),
    ],
)
def test_one_canonical_spelling_per_value(key: str, a: object, b: object) -> None:
    assert canonical(key, a) == canonical(key, b)


def test_a_record_equal_after_normalisation_hashes_equal_on_both_sides() -> None:
    cmp = compare_record(contact(), row())
    assert cmp.differences == [] and cmp.create_only == []
    assert record_hash(cmp.expected) == record_hash(cmp.actual)
    assert cmp.actual["parentcustomerid_account@odata.bind"] == ACC


def test_a_differing_column_is_listed_exactly_and_changes_the_target_hash() -> None:
    cmp = compare_record(contact(), row(lastname="Byron"))
    assert cmp.differences == [
        {"column": "lastname", "kind": "value_mismatch", "expected": "Lovelace", "actual": "Byron"}
    ]
    assert record_hash(cmp.expected) != record_hash(cmp.actual)
    assert record_hash(cmp.expected) == record_hash(compare_record(contact(), row()).expected)


def test_a_lookup_pointing_elsewhere_is_a_difference() -> None:
    other = "11111111-2222-5333-8444-555555555555"
    cmp = compare_record(contact(), row(_parentcustomerid_value=other))
    assert [(d["column"], d["kind"], d["actual"]) for d in cmp.differences] == [
        ("parentcustomerid_account@odata.bind", "lookup_mismatch", other)
    ]


def test_the_completion_time_dataverse_sets_on_close_is_not_compared() -> None:
    exp = Expected(ID1, "Task", SF1, {"subject": "Call", "actualend": None}, closes=True)
    cmp = compare_record(exp, {"subject": "Call", "actualend": "2026-01-01T00:00:00Z"})
    assert cmp.differences == [] and "actualend" not in cmp.expected
    still_open = Expected(ID1, "Task", SF1, {"subject": "Call", "actualend": None})
    cmp = compare_record(still_open, {"subject": "Call", "actualend": "2026-01-01T00:00:00Z"})
    assert [d["column"] for d in cmp.differences] == ["actualend"]


def test_a_create_only_column_of_a_row_that_existed_before_is_a_known_exception() -> None:
    changed = row(createdon="2020-01-01T00:00:00Z")
    kept = compare_record(contact(), changed, create_only={"overriddencreatedon"}, created=set())
    assert kept.differences == []
    assert [d["column"] for d in kept.create_only] == ["overriddencreatedon"]
    ours = compare_record(contact(), changed, create_only={"overriddencreatedon"}, created={ID1})
    assert [d["column"] for d in ours.differences] == ["overriddencreatedon"]


def test_digests_ignore_order_and_case() -> None:
    assert id_set_sha256([ID1, ID2.upper()]) == id_set_sha256([ID2, ID1])
    assert id_set_sha256([ID1]) != id_set_sha256([ID1, ID2])
    assert field_set_sha256({ID1: "a", ID2: "b"}) == field_set_sha256({ID2: "b", ID1: "a"})
    assert field_set_sha256({ID1: "a"}) != field_set_sha256({ID1: "b"})


def entry(id_column: str | None = "lfwd_sfcontactid") -> EntryResult:
    return EntryResult("contact", "Contact", "contact", id_column)


def test_an_entry_whose_target_matches_has_equal_digests_and_no_difference() -> None:
    result = compare_entry(
        entry(),
        expected={ID1: contact(ID1, SF1), ID2: contact(ID2, SF2)},
        rejected={},
        exceptions={},
        actual={ID1: row(ID1, SF1), ID2: row(ID2, SF2)},
    )
    assert result.differences == 0 and result.known_exceptions == []
    assert (result.expected_count, result.target_count) == (2, 2)
    assert result.expected_ids_sha256 == result.target_ids_sha256
    assert result.expected_fields_sha256 == result.target_fields_sha256


def test_missing_extra_and_field_differences_are_exact() -> None:
    result = compare_entry(
        entry(),
        expected={ID1: contact(ID1, SF1), ID2: contact(ID2, SF2)},
        rejected={},
        exceptions={},
        actual={ID1: row(ID1, SF1, lastname="Byron"), ID3: row(ID3, SF3)},
    )
    assert result.missing_in_target == [
        {
            "entry": "contact",
            "table": "contact",
            "source_object": "Contact",
            "source_id": SF2,
            "target_id": ID2,
        }
    ]
    assert result.extra_in_target == [
        {
            "entry": "contact",
            "table": "contact",
            "target_id": ID3,
            "salesforce_id": SF3,
            "reason": "not in the source",
        }
    ]
    diffs = [
        (d["target_id"], d["column"], d["expected"], d["actual"]) for d in result.field_differences
    ]
    assert diffs == [(ID1, "lastname", "Lovelace", "Byron")]
    assert result.differences == 3
    assert result.expected_ids_sha256 != result.target_ids_sha256
    assert result.summary()["differences"] == 3


def test_rejected_records_are_known_exceptions_when_absent_and_extra_when_present() -> None:
    why = "Contact is deleted in Salesforce"
    deleted = Known(
        "Contact", SF2, "SOURCE_DELETED", "transform", "contact", "skipped_by_policy", why
    )
    orphan = Known("Contact", SF3, "ORPHAN_RECORD", "transform", "contact")
    result = compare_entry(
        entry(None),
        expected={ID1: contact(ID1, SF1)},
        rejected={ID2: deleted, ID3: orphan},
        exceptions={},
        actual={ID1: row(ID1, SF1), ID2: row(ID2, SF2)},
        salesforce_ids={ID2: SF2},
    )
    assert [(d["target_id"], d["salesforce_id"]) for d in result.extra_in_target] == [(ID2, SF2)]
    assert result.extra_in_target[0]["reason"].startswith("SOURCE_DELETED: ")
    known = [(k["source_id"], k["reason_code"], k["in_target"]) for k in result.known_exceptions]
    assert known == [(SF3, "ORPHAN_RECORD", False)]
    assert result.differences == 1


def test_quarantined_records_are_set_aside_on_both_sides() -> None:
    link = Known("Contact", SF2, "LINK_REJECTED", "quarantine:run1", "contact")
    invalid = Known("Contact", SF3, "INVALID_EMAIL", "quarantine:run1", "contact")
    result = compare_entry(
        entry(),
        expected={ID1: contact(ID1, SF1)},
        rejected={},
        exceptions={ID2: link, ID3: invalid},
        actual={ID1: row(ID1, SF1), ID2: row(ID2, SF2, lastname="Half written")},
    )
    assert result.differences == 0
    known = [
        (k["source_id"], k["reason_code"], k["in_target"], k["origin"])
        for k in result.known_exceptions
    ]
    assert known == [
        (SF2, "LINK_REJECTED", True, "quarantine:run1"),
        (SF3, "INVALID_EMAIL", False, "quarantine:run1"),
    ]
    assert result.expected_ids_sha256 == result.target_ids_sha256
    assert result.expected_fields_sha256 == result.target_fields_sha256
    assert result.target_count == 2


def test_create_only_differences_do_not_count_against_the_entry() -> None:
    result = compare_entry(
        entry(),
        expected={ID1: contact(ID1, SF1)},
        rejected={},
        exceptions={},
        actual={ID1: row(ID1, SF1, createdon="2020-01-01T00:00:00Z")},
        create_only={"overriddencreatedon"},
        created=set(),
    )
    assert result.differences == 0
    assert [(k["reason_code"], k["column"]) for k in result.known_exceptions] == [
        (CREATE_ONLY_ON_EXISTING_ROW, "overriddencreatedon")
    ]
    assert result.expected_fields_sha256 != result.target_fields_sha256
