"""Mapping files: the default map loads; every invalid file gets one exact message per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.mapping.loader import load_mapping, parse_mapping
from tests.shared.mapping.metadata_fixture import DEFAULT_MAP

BASE = """\
version: 1
name: tiny
objects:
  - name: account
    source: Account
    target: account
    entity_set: accounts
    fields:
      - {source: Name, target: name, transform: text}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_mapping(text, "m.yaml")
    return info.value.problems


def test_minimal_mapping_loads_with_defaults() -> None:
    mapping = parse_mapping(BASE, "m.yaml")
    (obj,) = mapping.objects
    assert obj.fields[0].on_error == "quarantine"
    assert mapping.policies.converted_leads == "skip"
    assert mapping.policies.lead_contact_same_person == "both"


def test_default_map_loads_and_covers_the_domain() -> None:
    mapping = load_mapping(DEFAULT_MAP)
    targets = {o.target for o in mapping.objects}
    assert {
        "account",
        "contact",
        "lead",
        "opportunity",
        "task",
        "phonecall",
        "email",
        "appointment",
        "annotation",
    } <= targets
    sources = {o.source for o in mapping.objects}
    assert {
        "leadfwd__Sequence_Enrollment__c",
        "leadfwd__Engagement_Event__c",
        "ContentDocumentLink",
        "Attachment",
        "Note",
        "EmailMessage",
        "Event",
    } <= sources


INVALID = [
    (
        BASE.replace("transform: text", "transform: txt"),
        [
            "m.yaml:9: objects[0].fields[0].transform: 'txt' is not allowed; expected 'copy', "
            "'text', 'memo', 'email', 'phone', 'url', 'choice', 'multichoice', 'boolean', "
            "'integer', 'bigint', 'decimal', 'money', 'float', 'date', 'datetime', "
            "'duration_minutes', 'template' or 'constant'"
        ],
    ),
    (
        BASE.replace("    entity_set: accounts\n", "    entity_set: accounts\n    colour: red\n"),
        ["m.yaml:8: objects[0].colour: unknown key; see docs/mapping.md for the valid keys"],
    ),
    (
        BASE.replace("    target: account\n", ""),
        ["m.yaml:4: objects[0].target: required key is missing"],
    ),
    (
        BASE.replace("transform: text}", "transform: choice}"),
        ["m.yaml:9: objects[0].fields[0]: transform 'choice' needs a 'values' map"],
    ),
    (
        BASE.replace(
            "{source: Name, target: name, transform: text}",
            "{source: Name, target: name, transform: integer, on_error: truncate}",
        ),
        ["m.yaml:9: objects[0].fields[0]: on_error 'truncate' applies to text only"],
    ),
    (
        BASE.replace("version: 1", "version: 2"),
        ["m.yaml:1: version: 2 is not allowed; expected 1"],
    ),
    (
        BASE + "    lookups:\n      - {source: ParentId, object: company, nav: parentaccountid}\n",
        [
            "m.yaml:11: objects[0].lookups[0].object: lookup ParentId points at 'company', "
            "which is not an object of this mapping"
        ],
    ),
    (
        BASE + BASE[BASE.index("  - name") :],
        ["m.yaml:10: objects[1].name: object name 'account' is used twice"],
    ),
    (
        BASE.replace("    source: Account\n", "    source: Account\n    source: Contact\n"),
        ["m.yaml:6: objects[0].source: duplicate key"],
    ),
    (
        BASE.replace("  - name: account", "  - name: account\n    on_error: null"),
        ["m.yaml:5: objects[0].on_error: unknown key; see docs/mapping.md for the valid keys"],
    ),
    (
        "version: 1\nname: [unclosed\n",
        ["m.yaml:3: not valid YAML: expected ',' or ']', but got '<stream end>'"],
    ),
    ("", ["m.yaml:1: the mapping file is empty"]),
    ("- a\n- b\n", ["m.yaml:1: the top level must be a mapping of keys"]),
]


@pytest.mark.parametrize(("text", "expected"), INVALID, ids=[str(i) for i in range(len(INVALID))])
def test_invalid_mapping_gives_exact_messages(text: str, expected: list[str]) -> None:
    assert _problems(text) == expected


def test_every_problem_is_reported_at_once() -> None:
    text = BASE.replace("transform: text", "transform: txt").replace(
        "    entity_set: accounts\n", "    entity_set: accounts\n    colour: red\n"
    )
    assert len(_problems(text)) == 2


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_mapping(tmp_path / "missing.yaml")
    assert "missing.yaml" in str(info.value)


def test_disabled_object_is_removed_and_its_parents_fall_back() -> None:
    text = (
        BASE
        + """\
  - name: opportunity
    source: Opportunity
    target: opportunity
    entity_set: opportunities
    enabled: false
  - name: task
    source: Task
    target: task
    entity_set: tasks
    parent:
      binding: regarding
      candidates:
        - {source: WhatId, types: {Account: account, Opportunity: opportunity}}
        - {source: Opp__c, object: opportunity}
"""
    )
    mapping = parse_mapping(text, "m.yaml")
    assert [o.name for o in mapping.objects] == ["account", "task"]
    parent = mapping.by_name("task").parent
    assert parent is not None
    assert parent.candidates[0].types == {"Account": "account"}
    assert parent.candidates[1].object is None and parent.candidates[1].types == {}
