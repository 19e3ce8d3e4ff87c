"""The mapping drives extraction and load order (extraction_plan, plan_phases)."""

from __future__ import annotations

from shared.mapping.loader import parse_mapping
from shared.mapping.plan import extraction_plan, plan_phases
from tests.shared.mapping.metadata_fixture import default_mapping


def test_routes_of_one_object_merge_into_one_extraction() -> None:
    plans = extraction_plan(default_mapping())
    task = next(p for p in plans if p.object == "Task")
    assert [p.object for p in plans].count("Task") == 1
    assert task.fields[0] == "Id"
    for field in (
        "TaskSubtype",
        "CallDurationInSeconds",
        "CallType",
        "WhoId",
        "Who.Type",
        "WhatId",
        "What.Type",
        "Owner.Email",
        "Owner.IsActive",
        "IsDeleted",
    ):
        assert field in task.fields
    assert task.include_deleted is True and task.where is None


def test_parents_are_extracted_before_children() -> None:
    order = [p.object for p in extraction_plan(default_mapping())]
    assert order.index("Account") < order.index("Contact") < order.index("Task")
    assert order.index("leadfwd__Sequence__c") < order.index("leadfwd__Sequence_Enrollment__c")


def test_files_and_links_carry_body_and_parent_filter() -> None:
    plans = {p.object: p for p in extraction_plan(default_mapping())}
    link = plans["ContentDocumentLink"]
    assert link.file_body == {
        "object": "ContentVersion",
        "id_field": "ContentDocument.LatestPublishedVersionId",
    }
    assert link.parent_filter == {
        "field": "LinkedEntityId",
        "parents": ["Account", "Contact", "Lead", "Opportunity"],
    }
    assert plans["Attachment"].file_body == {"object": "Attachment", "id_field": "Id"}


def test_people_extraction_includes_dedup_and_policy_fields() -> None:
    plans = {p.object: p for p in extraction_plan(default_mapping())}
    for field in ("Email", "leadfwd__External_Id__c", "leadfwd__Created_By_Sync__c"):
        assert field in plans["Contact"].fields
    assert "IsConverted" in plans["Lead"].fields


def test_reference_check_objects_are_extracted_for_their_ids() -> None:
    plans = {p.object: p for p in extraction_plan(default_mapping())}
    assert plans["leadfwd__Sequence__c"].fields == ["Id"]


def test_filters_combine_per_object() -> None:
    text = """\
version: 1
name: f
objects:
  - {name: a, source: Task, target: task, entity_set: tasks, filter: "Status = 'Open'",
     route: {field: TaskSubtype, in: [Task]}}
  - {name: b, source: Task, target: phonecall, entity_set: phonecalls, filter: "IsClosed = true",
     route: {field: TaskSubtype, in: [Call]}}
"""
    (plan,) = extraction_plan(parse_mapping(text))
    assert plan.where == "(Status = 'Open') OR (IsClosed = true)"


def test_phases_follow_lookups_and_self_reference_is_second_pass() -> None:
    phases = plan_phases(default_mapping())
    where = {name: ph.index for ph in phases for name in ph.objects}
    assert where["account"] < where["contact"] < where["task"]
    assert where["account"] < where["opportunity"] < where["task"]
    first = phases[where["account"] - 1]
    assert ("account", "parentaccountid") in first.second_pass
    assert sorted(where) == sorted(o.name for o in default_mapping().objects)


def test_cycle_between_objects_goes_to_one_phase_with_second_pass() -> None:
    text = """\
version: 1
name: c
objects:
  - name: a
    source: A__c
    target: account
    entity_set: accounts
    lookups: [{source: B__c, object: b, nav: lfwd_B}]
  - name: b
    source: B__c
    target: contact
    entity_set: contacts
    lookups: [{source: A__c, object: a, nav: lfwd_A}]
"""
    (phase,) = plan_phases(parse_mapping(text))
    assert set(phase.objects) == {"a", "b"}
    assert set(phase.second_pass) == {("a", "lfwd_B"), ("b", "lfwd_A")}
