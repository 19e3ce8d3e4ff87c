"""Pre-passes: duplicates reported never merged, sync records flagged, cycles cut, policies."""

from __future__ import annotations

from typing import Any

from shared.mapping import dedup
from shared.mapping.models import Policies


def test_duplicate_emails_flag_every_member_case_insensitively() -> None:
    recs: list[dict[str, Any]] = [
        {"Id": "a", "Email": "X@y.com"},
        {"Id": "b", "Email": "x@y.com "},
        {"Id": "c", "Email": "z@y.com"},
        {"Id": "d", "Email": None},
    ]
    flags = dedup.duplicate_emails("Contact", recs, "Email")
    assert set(flags) == {("Contact", "a"), ("Contact", "b")}
    (flag,) = flags[("Contact", "a")]
    assert flag.reason_code == "DUPLICATE_EMAIL" and "b" in flag.message


def test_sync_created_without_external_id_is_flagged_only_then() -> None:
    recs: list[dict[str, Any]] = [
        {"Id": "a", "Sync": True, "Ext": None},
        {"Id": "b", "Sync": True, "Ext": "X1"},
        {"Id": "c", "Sync": False, "Ext": None},
    ]
    flags = dedup.missing_external_ids("Contact", recs, "Ext", "Sync")
    assert list(flags) == [("Contact", "a")]


def test_lead_contact_policy_both_reports_on_the_lead() -> None:
    contacts = [{"Id": "c1", "Email": "p@x.com"}]
    leads = [{"Id": "l1", "Email": "P@x.com"}, {"Id": "l2", "Email": "q@x.com"}]
    both = dedup.lead_contact_overlap(contacts, leads, "Email", "both")
    assert list(both) == [("Lead", "l1")]
    assert both[("Lead", "l1")][0].outcome == "written_with_fallback"
    contact_wins = dedup.lead_contact_overlap(contacts, leads, "Email", "contact_wins")
    assert contact_wins[("Lead", "l1")][0].outcome == "skipped_by_policy"
    lead_wins = dedup.lead_contact_overlap(contacts, leads, "Email", "lead_wins")
    assert lead_wins[("Contact", "c1")][0].outcome == "skipped_by_policy"
    assert lead_wins[("Lead", "l1")][0].outcome == "written_with_fallback"


def test_converted_leads_follow_the_policy() -> None:
    leads = [{"Id": "l1", "IsConverted": True}, {"Id": "l2", "IsConverted": False}]
    skip = dedup.converted_leads(leads, Policies())
    assert [f.outcome for f in skip[("Lead", "l1")]] == ["skipped_by_policy"]
    assert ("Lead", "l2") not in skip
    keep = dedup.converted_leads(leads, Policies(converted_leads="migrate"))
    assert keep[("Lead", "l1")][0].outcome == "written_with_fallback"


def test_parent_cycles_cut_one_link_per_cycle_deterministically() -> None:
    recs: list[dict[str, Any]] = [
        {"Id": "a3", "ParentId": "a1"},
        {"Id": "a1", "ParentId": "a2"},
        {"Id": "a2", "ParentId": "a3"},
        {"Id": "s", "ParentId": "s"},
        {"Id": "c", "ParentId": "a1"},
        {"Id": "root", "ParentId": None},
    ]
    flags, cuts = dedup.parent_cycles("Account", recs)
    assert cuts == {("Account", "a1", "ParentId"), ("Account", "s", "ParentId")}
    assert set(flags) == {("Account", "a1"), ("Account", "s")}
    assert "a1 → a2 → a3 → a1" in flags[("Account", "a1")][0].message


def test_deleted_records_take_no_part() -> None:
    recs: list[dict[str, Any]] = [
        {"Id": "a", "IsDeleted": True},
        {"Id": "b", "IsDeleted": False},
        {"Id": "c"},
    ]
    assert [r["Id"] for r in dedup.live(recs)] == ["b", "c"]


def test_superseded_records_are_skipped_only_within_the_route() -> None:
    tasks = [
        {"Id": "t1", "TaskSubtype": "Email"},
        {"Id": "t2", "TaskSubtype": "Call"},
        {"Id": "t3", "TaskSubtype": "Email"},
    ]
    messages = [{"Id": "m1", "ActivityId": "t1"}, {"Id": "m2", "ActivityId": "t2"}]
    flags = dedup.superseded(
        "Task",
        tasks,
        "EmailMessage",
        messages,
        "ActivityId",
        lambda rec: rec["TaskSubtype"] == "Email",
    )
    assert list(flags) == [("Task", "t1")]
    assert flags[("Task", "t1")][0].outcome == "skipped_by_policy"
