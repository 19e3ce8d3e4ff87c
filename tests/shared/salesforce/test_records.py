"""REST and Bulk 2.0 results become the same staged records."""

from __future__ import annotations

import pytest

from shared.errors import SourceError
from shared.salesforce.records import (
    convert_csv_value,
    csv_records,
    normalise_rest_numbers,
    shape_rest_record,
)

FIELDS = [
    "Id",
    "LastName",
    "Owner.Email",
    "Account.Owner.Email",
    "Amount__c",
    "Score__c",
    "Active__c",
]
TYPES = {
    "Id": "id",
    "LastName": "string",
    "Owner.Email": "email",
    "Account.Owner.Email": "email",
    "Amount__c": "currency",
    "Score__c": "int",
    "Active__c": "boolean",
}


def test_rest_record_is_flattened_without_attributes() -> None:
    raw = {
        "attributes": {"type": "Contact", "url": "/x"},
        "Id": "003A",
        "LastName": "O'Brien",
        "Owner": {"attributes": {"type": "User"}, "Email": "ana@x.com"},
        "Account": None,
        "Amount__c": 5,
        "Score__c": 3,
        "Active__c": True,
    }
    rec = normalise_rest_numbers(shape_rest_record(raw, FIELDS), TYPES)
    assert rec == {
        "Id": "003A",
        "LastName": "O'Brien",
        "Owner.Email": "ana@x.com",
        "Account.Owner.Email": None,
        "Amount__c": 5.0,
        "Score__c": 3,
        "Active__c": True,
    }
    assert isinstance(rec["Amount__c"], float)


def test_rest_field_names_match_case_insensitively() -> None:
    raw = {"Id": "1", "lastname": "x", "OWNER": {"email": "a@b"}}
    assert shape_rest_record(raw, ["Id", "LastName", "Owner.Email"]) == {
        "Id": "1",
        "LastName": "x",
        "Owner.Email": "a@b",
    }


def test_csv_page_types_cells_like_rest() -> None:
    page = (
        '"Id","LastName","Owner.Email","Account.Owner.Email","Amount__c","Score__c","Active__c"\n'
        '"003A","O\'Brien","ana@x.com","","5","3","true"\n'
        '"003B","Multi\nline, ""quoted""","","","1.25","","false"\n'
    )
    rows = list(csv_records(page, FIELDS, TYPES, "Contact"))
    assert rows[0] == {
        "Id": "003A",
        "LastName": "O'Brien",
        "Owner.Email": "ana@x.com",
        "Account.Owner.Email": None,
        "Amount__c": 5.0,
        "Score__c": 3,
        "Active__c": True,
    }
    assert rows[1]["LastName"] == 'Multi\nline, "quoted"'
    assert rows[1]["Score__c"] is None and rows[1]["Active__c"] is False


def test_rest_and_bulk_stage_identical_records() -> None:
    raw = {
        "Id": "003A",
        "LastName": "Zoë",
        "Owner": None,
        "Account": None,
        "Amount__c": 1000.0,
        "Score__c": 7,
        "Active__c": False,
    }
    page = (
        '"Id","LastName","Owner.Email","Account.Owner.Email","Amount__c","Score__c","Active__c"\n'
        '"003A","Zoë","","","1000","7","false"\n'
    )
    rest = normalise_rest_numbers(shape_rest_record(raw, FIELDS), TYPES)
    bulk = next(csv_records(page, FIELDS, TYPES, "Contact"))
    assert rest == bulk
    assert [type(v) for v in rest.values()] == [type(v) for v in bulk.values()]


def test_bad_cell_names_record_field_and_value() -> None:
    page = '"Id","Score__c"\n"003A","abc"\n'
    with pytest.raises(SourceError, match=r"Contact 003A: Score__c 'abc' is not a valid int"):
        list(csv_records(page, ["Id", "Score__c"], {"Score__c": "int"}, "Contact"))


def test_missing_csv_column_is_refused() -> None:
    with pytest.raises(SourceError, match="no column for Email"):
        list(csv_records('"Id"\n"1"\n', ["Id", "Email"], {}, "Contact"))


@pytest.mark.parametrize(
    ("cell", "sf_type", "value"),
    [
        ("", "string", None),
        ("x", "picklist", "x"),
        ("2024-05-01", "date", "2024-05-01"),
        ("12", "long", 12),
        ("0.5", "percent", 0.5),
        ("true", "boolean", True),
    ],
)
def test_convert_csv_value(cell: str, sf_type: str, value: object) -> None:
    assert convert_csv_value(cell, sf_type) == value
