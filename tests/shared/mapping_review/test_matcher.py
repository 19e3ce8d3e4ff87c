"""The matcher's decisions on the vendors' metadata: what a reviewer relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.mapping_review.matcher import LOW_CONFIDENCE, FieldDecision, MatchOptions, match_object
from shared.mapping_review.metadata import (
    SourceObject,
    TargetTable,
    parse_describe,
    parse_entity_definition,
    read_source_dir,
    read_target_dir,
)
from tests.shared.mapping_review.vendor_fields import describe
from tests.shared.mapping_review.vendor_tables import entity_definition

OPTS = MatchOptions(object_tables={"Account": ("account",), "Contact": ("contact",)})


@pytest.fixture(scope="module")
def contact(vendor_dirs: tuple[Path, Path]) -> dict[str, FieldDecision]:
    src, tgt = vendor_dirs
    decisions = match_object(read_source_dir(src)["Contact"], read_target_dir(tgt)["contact"], OPTS)
    return {d.source_field: d for d in decisions}


def test_one_decision_per_source_field_in_source_order(vendor_dirs: tuple[Path, Path]) -> None:
    src, tgt = vendor_dirs
    source = read_source_dir(src)["Contact"]
    decisions = match_object(source, read_target_dir(tgt)["contact"], OPTS)
    assert [d.source_field for d in decisions] == [f.name for f in source.fields]


def test_curated_correspondence_wins_and_says_where_it_comes_from(
    contact: dict[str, FieldDecision],
) -> None:
    title = contact["Title"]
    assert (title.action, title.target_column) == ("map", "jobtitle")
    assert title.evidence[0].kind == "dictionary"
    assert "learn.microsoft.com" in title.evidence[0].detail


def test_similar_names_map_with_name_label_and_type_evidence(
    contact: dict[str, FieldDecision],
) -> None:
    first = contact["FirstName"]
    assert (first.action, first.target_column) == ("map", "firstname")
    assert {e.kind for e in first.evidence} >= {"name", "label", "type"}
    assert first.confidence > 0.9


def test_columns_are_assigned_one_to_one(contact: dict[str, FieldDecision]) -> None:
    mapped = [d.target_column for d in contact.values() if d.action == "map"]
    # regardingobjectid-style sharing only comes from the dictionary; contact has none.
    assert len(mapped) == len(set(mapped))
    assert contact["Secondary_Email__c"].target_column == "emailaddress2"


def test_sampled_values_are_evidence(contact: dict[str, FieldDecision]) -> None:
    info = contact["Contact_Info__c"]  # a vague name, but every sampled value is an email
    assert info.action == "new_column"
    assert info.confidence < LOW_CONFIDENCE  # so the reviewer sees it early
    profile = [e for e in info.evidence if e.kind == "profile"]
    assert profile and "10/10 sampled values look like email" in profile[0].detail
    assert "emailaddress3" in profile[0].detail  # the free email slot (1 and 2 are taken)
    assert "reach.me" not in str(info.to_dict())  # counts only, never the values
    phone = contact["Phone"]  # sampled phones agree with the dictionary's choice
    assert phone.target_column == "telephone1"


def test_no_good_target_gets_a_new_column_of_the_right_type(
    contact: dict[str, FieldDecision],
) -> None:
    url = contact["leadfwd__LinkedIn_Url__c"]
    assert url.action == "new_column" and url.new_column is not None
    assert (url.new_column.logical_name, url.new_column.attribute_type) == (
        "lfwd_linkedinurl",
        "String",
    )
    assert url.new_column.format_name == "Url"
    status = contact["leadfwd__Engagement_Status__c"]
    assert status.new_column is not None and status.new_column.attribute_type == "Picklist"
    assert [c.target_value for c in status.choices][:2] == [727_000_000, 727_000_001]
    sfid = contact["Id"]
    assert (sfid.action, sfid.target_column) == ("new_column", "lfwd_sfcontactid")


def test_system_fields_are_skipped_with_a_reason(contact: dict[str, FieldDecision]) -> None:
    for name in ("SystemModstamp", "MailingAddress", "IndividualId", "Name"):
        d = contact[name]
        assert d.action == "skip" and d.target_column is None, name
        assert d.evidence[0].kind == "rule" and d.evidence[0].detail


def test_picklists_get_a_value_map_with_unmatched_values_flagged(
    contact: dict[str, FieldDecision],
) -> None:
    source = contact["LeadSource"]
    by_value = {c.source_value: c for c in source.choices}
    assert by_value["Web"].target_value == 8 and by_value["Other"].target_value == 10
    assert [c.source_value for c in source.unmatched_choices] == [
        "Phone Inquiry",
        "Partner Referral",
        "Purchased List",
    ]
    assert any(e.kind == "choices" and "3 value(s)" in e.detail for e in source.evidence)


def test_without_the_dictionary_the_matcher_still_finds_plain_names() -> None:
    source = parse_describe(describe("Lead"))
    table = TargetTable("lead", "Lead", "leads", ())
    assert match_object(source, table, OPTS)[0].source_field == "Id"  # no columns: still listed
    lead = parse_entity_definition(entity_definition("lead"))
    decisions = {
        d.source_field: d for d in match_object(source, lead, MatchOptions(use_dictionary=False))
    }
    assert decisions["Company"].target_column == "companyname"
    assert decisions["LastName"].target_column == "lastname"


def test_a_unit_mismatch_is_not_proposed_silently() -> None:
    task = parse_describe(describe("Task"))
    table = parse_entity_definition(entity_definition("task"))
    d = {x.source_field: x for x in match_object(task, table, OPTS)}["CallDurationInSeconds"]
    assert d.action == "new_column"
    assert any(c == "actualdurationminutes" for c, _ in d.alternatives)


def test_source_without_fields_gives_no_decisions() -> None:
    empty = SourceObject("X__c", "X", ())
    assert match_object(empty, TargetTable("x", "x", "xs", ())) == []
