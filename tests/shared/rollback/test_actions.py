"""Deciding how to undo a journal entry, row by row (pure)."""

from __future__ import annotations

from typing import Any

from shared.dataverse.journal import JournalEntry
from shared.rollback.actions import plan_entry, restore_payload

ME = "aaaaaaaa-0000-0000-0000-000000000001"
PERSON = "bbbbbbbb-0000-0000-0000-000000000002"
NEW = "11111111-1111-1111-1111-111111111111"
OLD = "22222222-2222-2222-2222-222222222222"
ACC = "33333333-3333-3333-3333-333333333333"
NAV = "@Microsoft.Dynamics.CRM.associatednavigationproperty"
TBL = "@Microsoft.Dynamics.CRM.lookuplogicalname"


def entry(**kw: Any) -> JournalEntry:
    base: dict[str, Any] = {
        "run_id": "r",
        "phase_index": 2,
        "phase": "p2",
        "object": "contact",
        "batch": 0,
        "seq": 1,
        "kind": "rows",
        "table": "contact",
        "entity_set": "contacts",
        "primary_id": "contactid",
        "columns": ["firstname", "parentcustomerid_account@odata.bind"],
        "existing": [OLD],
        "created": [NEW],
        "pre_images": {
            OLD: {
                "etag": 'W/"5"',
                "values": {
                    "contactid": OLD,
                    "firstname": "Ann",
                    "_parentcustomerid_value": ACC,
                    f"_parentcustomerid_value{NAV}": "parentcustomerid_account",
                    f"_parentcustomerid_value{TBL}": "account",
                },
            }
        },
        "at": "2026-11-28T12:00:00+00:00",
    }
    base.update(kw)
    return JournalEntry(**base)


def row(rid: str, by: str, **values: Any) -> dict[str, Any]:
    return {"contactid": rid, "@odata.etag": 'W/"9"', "_modifiedby_value": by, **values}


SETS = {"account": "accounts", "contact": "contacts"}


def test_created_rows_untouched_since_the_load_are_deleted_with_their_etag() -> None:
    actions = plan_entry(
        entry(pre_images={}),
        {NEW: row(NEW, ME)},
        migration_users={ME},
        created_by_run={NEW},
        entity_sets=SETS,
    )
    assert [(a.id, a.outcome, a.etag) for a in actions] == [(NEW, "delete", 'W/"9"')]


def test_rows_a_person_changed_after_the_load_are_kept_and_say_who() -> None:
    actions = plan_entry(
        entry(),
        {NEW: row(NEW, PERSON), OLD: row(OLD, PERSON, firstname="Annie")},
        migration_users={ME},
        created_by_run={NEW},
        entity_sets=SETS,
    )
    assert {a.id: a.outcome for a in actions} == {NEW: "kept", OLD: "kept"}
    assert all(PERSON in a.reason for a in actions)


def test_updated_rows_get_their_pre_image_back_including_the_lookup() -> None:
    current = row(
        OLD,
        ME,
        firstname="Anna",
        _parentcustomerid_value=None,
    )
    actions = plan_entry(
        entry(created=[]),
        {OLD: current},
        migration_users={ME},
        created_by_run=set(),
        entity_sets=SETS,
    )
    (action,) = actions
    assert action.outcome == "restore"
    assert action.payload == {
        "firstname": "Ann",
        "parentcustomerid_account@odata.bind": f"/accounts({ACC})",
    }


def test_a_lookup_the_row_did_not_have_is_cleared_with_null() -> None:
    body = restore_payload(
        ["parentcustomerid_account@odata.bind", "jobtitle"],
        {"values": {"jobtitle": None}},
        SETS,
    )
    assert body == {"parentcustomerid_account@odata.bind": None, "jobtitle": None}


def test_rerun_finds_rows_already_gone_or_restored() -> None:
    restored = row(
        OLD,
        ME,
        firstname="Ann",
        _parentcustomerid_value=ACC,
        **{f"_parentcustomerid_value{NAV}": "parentcustomerid_account"},
    )
    actions = plan_entry(
        entry(), {OLD: restored}, migration_users={ME}, created_by_run={NEW}, entity_sets=SETS
    )
    assert {a.id: a.outcome for a in actions} == {NEW: "already_gone", OLD: "already_restored"}


def test_rows_the_run_created_are_not_restored_by_link_entries() -> None:
    link = entry(kind="link", created=[], pre_images={NEW: {"etag": "x", "values": {}}})
    actions = plan_entry(
        link, {NEW: row(NEW, ME)}, migration_users={ME}, created_by_run={NEW}, entity_sets=SETS
    )
    assert actions == []
