"""Reading the vendors' metadata responses into plain field descriptions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.mapping_review.metadata import (
    parse_describe,
    parse_entity_definition,
    read_source_dir,
    read_target_dir,
)
from tests.shared.mapping_review.vendor_fields import describe
from tests.shared.mapping_review.vendor_tables import entity_definition


def test_describe_keeps_what_matching_needs() -> None:
    contact = parse_describe(describe("Contact"))
    by = {f.name: f for f in contact.fields}
    assert by["Email"].type == "email" and by["Email"].label == "Email"
    assert by["AccountId"].reference_to == ("Account",)
    assert [p.label for p in by["LeadSource"].picklist][:2] == ["Web", "Phone Inquiry"]
    assert by["leadfwd__Icebreaker__c"].custom and by["leadfwd__Icebreaker__c"].length == 32768
    assert not by["Name"].createable


def test_entity_definition_reads_formats_options_and_shadows() -> None:
    contact = parse_entity_definition(entity_definition("contact"))
    email = contact.column("emailaddress1")
    assert email is not None and email.format_name == "Email" and email.writable
    lead_source = contact.column("leadsourcecode")
    assert lead_source is not None and (8, "Web") in [
        (o.value, o.label) for o in lead_source.options
    ]
    shadow = contact.column("parentcustomeridname")
    assert shadow is not None and not shadow.writable  # AttributeOf another column
    primary = contact.column("contactid")
    assert primary is not None and not primary.writable
    birthday = contact.column("birthdate")
    assert birthday is not None and birthday.date_only
    assert contact.entity_set == "contacts"


def test_wrong_shapes_are_refused_with_the_file_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a Salesforce describe"):
        parse_describe({"records": []})
    with pytest.raises(ConfigError, match="not a Dataverse entity definition"):
        parse_entity_definition({"value": []})
    (tmp_path / "Contact.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"Contact\.json: not valid JSON at line 1"):
        read_source_dir(tmp_path)


def test_folders_must_exist_and_hold_responses(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        read_source_dir(tmp_path / "missing")
    with pytest.raises(ConfigError, match=r"holds no <table>\.json"):
        read_target_dir(tmp_path)


def test_sampled_records_are_read_beside_the_describe(tmp_path: Path) -> None:
    (tmp_path / "Contact.json").write_text(json.dumps(describe("Contact")), encoding="utf-8")
    records = {"records": [{"attributes": {"type": "Contact"}, "Email": "a@b.co"}]}
    (tmp_path / "Contact.records.json").write_text(json.dumps(records), encoding="utf-8")
    objects = read_source_dir(tmp_path)
    assert list(objects) == ["Contact"]
    assert objects["Contact"].values_of("Email") == ["a@b.co"]
    assert "attributes" not in objects["Contact"].samples[0]


def test_salesforce_cli_output_is_accepted() -> None:
    wrapped = {"status": 0, "result": describe("Lead"), "warnings": []}
    assert parse_describe(wrapped).name == "Lead"
