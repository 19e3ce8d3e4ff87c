"""The proposal JSON and the proposed mapping file (which the mapping loader must accept)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.mapping.loader import parse_mapping
from shared.mapping_review.mapping_file import build_mapping, render_mapping
from shared.mapping_review.metadata import SourceObject, read_source_dir, read_target_dir
from shared.mapping_review.propose import (
    Proposal,
    proposal_path,
    propose,
    read_proposal_json,
    write_proposal_json,
)

KEYS = {"source_object", "source_field", "target_table", "target_column", "confidence", "evidence"}


@pytest.fixture(scope="module")
def sources(vendor_dirs: tuple[Path, Path]) -> dict[str, SourceObject]:
    return read_source_dir(vendor_dirs[0])


@pytest.fixture(scope="module")
def proposal(vendor_dirs: tuple[Path, Path], sources: dict[str, SourceObject]) -> Proposal:
    return propose(sources, read_target_dir(vendor_dirs[1]))


def test_proposal_json_is_a_flat_list_with_one_entry_per_source_field_and_pair(
    proposal: Proposal, sources: dict[str, SourceObject], tmp_path: Path
) -> None:
    path = write_proposal_json(proposal, tmp_path / "map.yaml")
    assert path == proposal_path(tmp_path / "map.yaml") == tmp_path / "map.yaml.proposal.json"
    entries = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(entries, list) and all(set(e) >= KEYS for e in entries)
    per_pair = {(p.pair.source, p.pair.target) for p in proposal.pairs}
    expected = sum(len(sources[s].fields) for s, _ in per_pair)
    assert len(entries) == expected
    assert all(0.0 <= e["confidence"] <= 1.0 and e["evidence"] for e in entries)
    title = next(
        e for e in entries if (e["source_object"], e["source_field"]) == ("Contact", "Title")
    )
    assert (title["target_table"], title["target_column"]) == ("contact", "jobtitle")


def test_objects_without_a_destination_are_listed_not_dropped(
    vendor_dirs: tuple[Path, Path],
) -> None:
    sources = read_source_dir(vendor_dirs[0])
    lone = SourceObject("leadfwd__Sequence__c", "Sequence", sources["Lead"].fields[:2])
    result = propose({**sources, lone.name: lone}, read_target_dir(vendor_dirs[1]))
    entries = [d for d in result.decisions if d.source_object == "leadfwd__Sequence__c"]
    assert len(entries) == 2
    assert all(
        d.action == "skip" and "no destination table" in d.evidence[0].detail for d in entries
    )


def test_the_mapping_loader_accepts_the_proposed_file(
    proposal: Proposal, sources: dict[str, SourceObject]
) -> None:
    built = build_mapping(proposal, sources, name="acme")
    text = render_mapping(built, "acme.yaml")
    assert text.startswith("# status: proposed by")
    mapping = parse_mapping(text, "acme.yaml")
    contact = mapping.by_name("contact")
    assert contact.id_column == "lfwd_sfcontactid"
    assert contact.owner is not None and contact.owner.email == "Owner.Email"
    assert [(lk.source, lk.object, lk.nav) for lk in contact.lookups] == [
        ("AccountId", "account", "parentcustomerid_account")
    ]
    fields = {f.source: f for f in contact.fields}
    assert fields["Email"].transform == "email" and fields["Email"].target == "emailaddress1"
    assert fields["Birthdate"].transform == "date"
    icebreaker = fields["leadfwd__Icebreaker__c"]
    assert icebreaker.column is not None and icebreaker.column.type == "Memo"
    assert fields["LeadSource"].values == {"Web": 8, "Other": 10}
    call = mapping.by_name("task_call")
    assert call.route is not None and call.route.in_ == ["Call"]
    assert call.parties is not None and call.parties.to == "WhoId"
    duration = next(f for f in call.fields if f.source == "CallDurationInSeconds")
    assert duration.transform == "duration_minutes"
    task = mapping.by_name("task")
    assert task.parent is not None
    assert [c.source for c in task.parent.candidates] == ["WhatId", "WhoId"]


def test_what_the_file_cannot_express_is_listed_in_its_header(
    proposal: Proposal, sources: dict[str, SourceObject]
) -> None:
    built = build_mapping(proposal, sources)
    unresolved = {(u.entry, u.source_field) for u in built.unresolved}
    assert ("contact", "ReportsToId") in unresolved  # needs a new lookup column
    assert ("account", "Rating") in unresolved  # no value has a destination option
    assert ("event", "WhoId") in unresolved  # attendees are not in the mapping format
    assert ("contact", "LeadSource") in unresolved  # 3 of 5 values have no option
    text = render_mapping(built, "m.yaml")
    assert "#   contact.LeadSource: values with no option in leadsourcecode ('Phone Inquiry'" in (
        text
    )
    text = render_mapping(built, "m.yaml")
    assert "#   contact.ReportsToId: needs a new lookup column" in text


def test_a_damaged_proposal_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml.proposal.json"
    path.write_text("[{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        read_proposal_json(path)
    path.write_text('[{"source_object": "Contact"}]', encoding="utf-8")
    with pytest.raises(ConfigError, match="re-run propose-map"):
        read_proposal_json(path)
