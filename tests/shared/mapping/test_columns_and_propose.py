"""Custom columns the map needs, and columns proposed for an org's own custom fields."""

from __future__ import annotations

import pytest

from shared.mapping.columns import required_columns
from shared.mapping.propose import column_name, propose_field, with_custom_fields
from tests.shared.mapping.metadata_fixture import default_mapping


def test_default_map_columns_once_per_table_with_keys_on_salesforce_ids() -> None:
    specs = required_columns(default_mapping())
    keys = {(s.table, s.logical_name) for s in specs if s.alternate_key}
    assert keys == {
        ("account", "lfwd_sfaccountid"),
        ("contact", "lfwd_sfcontactid"),
        ("lead", "lfwd_sfleadid"),
        ("opportunity", "lfwd_sfopportunityid"),
    }
    assert len({(s.table, s.logical_name) for s in specs}) == len(specs)
    by = {(s.table, s.logical_name): s for s in specs}
    ice = by[("contact", "lfwd_icebreakertext")]
    assert (ice.type, ice.max_length) == ("String", 4000)
    status = by[("lead", "lfwd_engagementstatus")]
    assert status.options[0] == (727000000, "Active") and len(status.options) == 6
    assert by[("lead", "lfwd_requiresrequalification")].type == "Boolean"
    assert by[("contact", "lfwd_sfcontactid")].max_length == 18


@pytest.mark.parametrize(
    ("describe", "transform", "column"),
    [
        (
            {"name": "Nick__c", "type": "string", "length": 80},
            "text",
            {"type": "String", "max_length": 80},
        ),
        (
            {"name": "Bio__c", "type": "textarea", "length": 32768},
            "memo",
            {"type": "Memo", "max_length": 32768},
        ),
        (
            {"name": "Mail__c", "type": "email", "length": 80},
            "email",
            {"type": "String", "format": "Email"},
        ),
        (
            {
                "name": "Region__c",
                "type": "picklist",
                "picklistValues": [{"value": "EMEA"}, {"value": "NA"}],
            },
            "choice",
            {"type": "Picklist"},
        ),
        (
            {"name": "Tags__c", "type": "multipicklist", "picklistValues": [{"value": "A"}]},
            "multichoice",
            {"type": "MultiSelectPicklist"},
        ),
        ({"name": "Vip__c", "type": "boolean"}, "boolean", {"type": "Boolean"}),
        ({"name": "Rank__c", "type": "int"}, "integer", {"type": "Integer"}),
        ({"name": "Big__c", "type": "long"}, "bigint", {"type": "BigInt"}),
        ({"name": "Years__c", "type": "double", "scale": 0}, "integer", {"type": "Integer"}),
        (
            {"name": "Score__c", "type": "percent", "scale": 2},
            "decimal",
            {"type": "Decimal", "precision": 2},
        ),
        (
            {"name": "Mrr__c", "type": "currency", "scale": 2},
            "money",
            {"type": "Money", "precision": 2},
        ),
        (
            {"name": "Met__c", "type": "date"},
            "date",
            {"type": "DateTime", "date_format": "DateOnly"},
        ),
        (
            {"name": "At__c", "type": "datetime"},
            "datetime",
            {"type": "DateTime", "date_format": "DateAndTime"},
        ),
        (
            {"name": "Home__Latitude__s", "type": "double", "scale": 6},
            "float",
            {"type": "Double", "min_value": -90.0, "max_value": 90.0},
        ),
    ],
)
def test_salesforce_type_becomes_the_documented_column(
    describe: dict[str, object], transform: str, column: dict[str, object]
) -> None:
    fm = propose_field({"custom": True, "label": "L", **describe})
    assert fm is not None and fm.transform == transform and fm.column is not None
    for key, value in column.items():
        assert getattr(fm.column, key) == value


def test_picklist_values_numbered_from_the_option_value_prefix() -> None:
    fm = propose_field(
        {
            "name": "Region__c",
            "type": "picklist",
            "picklistValues": [{"value": "EMEA"}, {"value": "NA"}],
        }
    )
    assert fm is not None and fm.values == {"EMEA": 727000000, "NA": 727000001}


def test_compound_location_is_not_proposed_its_parts_are() -> None:
    assert propose_field({"name": "Home__c", "type": "location"}) is None
    assert column_name("Home__Latitude__s") == "lfwd_homelatitude"
    assert column_name("leadfwd__LinkedIn_Url__c") == "lfwd_linkedinurl"


def test_with_custom_fields_adds_only_unmapped_custom_fields_to_the_main_entry() -> None:
    fields = [
        {
            "name": "Region__c",
            "type": "picklist",
            "custom": True,
            "picklistValues": [{"value": "EMEA"}],
        },
        {"name": "Email", "type": "email", "custom": False},
        {"name": "leadfwd__Icebreaker__c", "type": "textarea", "custom": True},
    ]
    mapping = with_custom_fields(default_mapping(), "Contact", fields)
    added = [f.target for f in mapping.by_name("contact").fields][
        len(default_mapping().by_name("contact").fields) :
    ]
    assert added == ["lfwd_region"]
    assert len(required_columns(mapping)) == len(required_columns(default_mapping())) + 1
