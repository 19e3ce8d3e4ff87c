"""The pure transform: fallbacks, rejections and policies on single records."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.ids import org_namespace, target_id
from shared.mapping.loader import parse_mapping
from shared.mapping.prepare import build_context
from shared.mapping.target_metadata import Column, Table, TargetMetadata
from shared.mapping.transform import compile_mapping
from shared.rows import Rejection, TargetRow
from tests.shared.mapping.metadata_fixture import default_mapping, default_metadata

NS = org_namespace("00D000000000001EAA")
USERS = [{"systemuserid": "u-ana", "internalemailaddress": "ana@acme.example", "isdisabled": False}]
OWNER = {"Owner.Email": "ana@acme.example", "Owner.IsActive": True}
ACC: dict[str, Any] = {"Id": "001000000000001AAA", "Name": "Acme", **OWNER}
CON: dict[str, Any] = {
    "Id": "003000000000001AAA",
    "LastName": "Li",
    "AccountId": ACC["Id"],
    **OWNER,
}


def run(
    source: str,
    record: dict[str, Any],
    staged: dict[str, list[dict[str, Any]]],
    fallback: str | None = "ana@acme.example",
) -> TargetRow | Rejection:
    mapping = default_mapping()
    ctx = build_context(staged, mapping, namespace=NS, users=USERS, fallback_owner_email=fallback)
    return compile_mapping(mapping, default_metadata()).transform(source, record, ctx)


def test_lookup_binds_the_parents_deterministic_id() -> None:
    row = run("Contact", CON, {"Account": [ACC], "Contact": [CON]})
    assert isinstance(row, TargetRow) and row.outcome == "written"
    assert row.payload["parentcustomerid_account@odata.bind"] == (
        f"/accounts({target_id(NS, 'Account', ACC['Id'])})"
    )
    assert row.id == target_id(NS, "Contact", CON["Id"])


def test_optional_lookup_to_missing_parent_is_cleared_and_reported() -> None:
    row = run("Contact", CON, {"Account": [], "Contact": [CON]})
    assert isinstance(row, TargetRow)
    assert "parentcustomerid_account@odata.bind" not in row.payload
    (entry,) = row.entries
    assert (entry.reason_code, entry.field, entry.value) == (
        "LOOKUP_CLEARED",
        "AccountId",
        ACC["Id"],
    )


def test_self_reference_goes_to_second_pass_and_cycles_are_cut() -> None:
    child = {**ACC, "Id": "001000000000002AAA", "ParentId": ACC["Id"]}
    loop = {**ACC, "Id": "001000000000003AAA", "ParentId": "001000000000003AAA"}
    staged = {"Account": [ACC, child, loop]}
    row = run("Account", child, staged)
    assert isinstance(row, TargetRow)
    assert "parentaccountid@odata.bind" in row.second_pass
    assert "parentaccountid@odata.bind" not in row.payload
    cut = run("Account", loop, staged)
    assert isinstance(cut, TargetRow) and cut.second_pass == {}
    assert [e.reason_code for e in cut.entries] == ["PARENT_CYCLE"]


def test_regarding_falls_back_to_the_person_then_orphans() -> None:
    task = {
        "Id": "00T000000000001AAA",
        "TaskSubtype": "Task",
        "WhatId": "006000000000009AAA",
        "What.Type": "Opportunity",
        "WhoId": CON["Id"],
        "Who.Type": "Contact",
        "Status": "Not Started",
        "IsDeleted": False,
        **OWNER,
    }
    staged = {"Account": [ACC], "Contact": [CON], "Opportunity": [], "Task": [task]}
    row = run("Task", task, staged)
    assert isinstance(row, TargetRow)
    assert row.payload["regardingobjectid_contact_task@odata.bind"].startswith("/contacts(")
    assert [e.reason_code for e in row.entries] == ["REGARDING_FALLBACK"]
    orphan = run("Task", task, {**staged, "Contact": []})
    assert isinstance(orphan, Rejection) and orphan.reason_code == "ORPHAN_RECORD"
    assert "006000000000009AAA" in orphan.message and orphan.hint


def test_deleted_source_record_is_skipped_and_listed() -> None:
    task = {"Id": "00T000000000002AAA", "TaskSubtype": "Task", "IsDeleted": True, **OWNER}
    out = run("Task", task, {"Task": [task]})
    assert isinstance(out, Rejection)
    assert (out.outcome, out.reason_code) == ("skipped_by_policy", "SOURCE_DELETED")


def test_unrouted_value_is_quarantined_naming_it() -> None:
    task = {"Id": "00T000000000003AAA", "TaskSubtype": "Carrier Pigeon", "IsDeleted": False}
    out = run("Task", task, {"Task": [task]})
    assert isinstance(out, Rejection) and out.reason_code == "INVALID_VALUE"
    assert "Carrier Pigeon" in out.message and "'in' list" in out.hint


def test_no_fallback_owner_quarantines_with_a_hint() -> None:
    con = {**CON, "Owner.Email": "gone@acme.example"}
    out = run("Contact", con, {"Account": [ACC], "Contact": [con]}, fallback=None)
    assert isinstance(out, Rejection) and out.reason_code == "OWNER_UNMAPPED"
    assert "fallback_owner_email" in out.hint


def test_converted_lead_skipped_by_default() -> None:
    lead = {"Id": "00Q000000000001AAA", "LastName": "Li", "IsConverted": True, **OWNER}
    out = run("Lead", lead, {"Lead": [lead]})
    assert isinstance(out, Rejection)
    assert (out.outcome, out.reason_code) == ("skipped_by_policy", "CONVERTED_LEAD")


def test_transform_is_pure_same_input_same_output_input_untouched() -> None:
    staged = {"Account": [ACC], "Contact": [CON]}
    before = copy.deepcopy(CON)
    assert run("Contact", CON, staged) == run("Contact", CON, staged)
    assert before == CON


TINY = """\
version: 1
name: tiny
objects:
  - name: thing
    source: Thing__c
    target: thing
    entity_set: things
    fields:
      - {source: Email__c, target: email, transform: email, on_error: null}
      - {source: Kind__c, target: kind, transform: choice, values: {A: 1}, on_error: default,
         default: 2}
      - {source: Name, target: name, transform: text}
"""


def _tiny(**kw: Any) -> TargetRow | Rejection:
    cols = {
        "email": Column("email", "Email", "String", max_length=100),
        "kind": Column("kind", "Kind", "Picklist", options=frozenset({1, 2})),
        "name": Column("name", "Name", "String", max_length=5, required=True),
    }
    meta = TargetMetadata({"thing": Table("thing", "things", "thingid", cols)})
    mapping = parse_mapping(TINY)
    ctx = build_context({}, mapping, namespace=NS)
    rec = {"Id": "a0X000000000001AAA", "Email__c": "x@y.com", "Kind__c": "A", "Name": "ok", **kw}
    return compile_mapping(mapping, meta).transform("Thing__c", rec, ctx)


def test_on_error_null_and_default_write_and_report() -> None:
    row = _tiny(Email__c="bob@", Kind__c="Z")
    assert isinstance(row, TargetRow)
    assert row.payload["email"] is None and row.payload["kind"] == 2
    assert {e.reason_code for e in row.entries} == {"INVALID_EMAIL", "CHOICE_UNMAPPED"}


@pytest.mark.parametrize(
    ("changes", "code"),
    [({"Name": None}, "REQUIRED_MISSING"), ({"Name": "toolong"}, "TEXT_TOO_LONG")],
)
def test_required_and_length_checks_quarantine(changes: dict[str, Any], code: str) -> None:
    out = _tiny(**changes)
    assert isinstance(out, Rejection) and out.reason_code == code and out.field == "Name"


def test_empty_file_writes_the_note_without_body() -> None:
    link = {
        "Id": "06A000000000001AAA",
        "LinkedEntityId": CON["Id"],
        "ContentDocument.Title": "empty",
        "ContentDocument.FileExtension": "txt",
        "ContentDocument.ContentSize": 0,
        "ContentDocument.LatestPublishedVersionId": "068000000000001AAA",
    }
    row = run("ContentDocumentLink", link, {"Account": [ACC], "Contact": [CON]})
    assert isinstance(row, TargetRow) and row.file is None
    assert row.payload["filename"] == "empty.txt"
    assert [e.reason_code for e in row.entries] == ["EMPTY_FILE"]


def test_fast_target_id_equals_the_shared_deterministic_id() -> None:
    from shared.mapping.transform import fast_target_id

    for n in range(200):
        for sobject, prefix in (("Contact", "003"), ("Task", "00T")):
            sf_id = f"{prefix}{n:012d}AbC"
            assert fast_target_id(NS, sobject, sf_id) == target_id(NS, sobject, sf_id)


def test_converted_lead_migrated_by_policy_is_closed_as_qualified() -> None:
    mapping = default_mapping()
    mapping = mapping.model_copy(
        update={"policies": mapping.policies.model_copy(update={"converted_leads": "migrate"})}
    )
    lead = {
        "Id": "00Q000000000002AAA",
        "LastName": "Li",
        "IsConverted": True,
        "Status": "Closed - Converted",
        **OWNER,
    }
    ctx = build_context({"Lead": [lead]}, mapping, namespace=NS, users=USERS)
    row = compile_mapping(mapping, default_metadata()).transform("Lead", lead, ctx)
    assert isinstance(row, TargetRow) and row.outcome == "written_with_fallback"
    assert row.close == {"statecode": 1, "statuscode": 3}
    assert [e.reason_code for e in row.entries] == ["CONVERTED_LEAD"]
    assert row.payload["lfwd_requiresrequalification"] is True
