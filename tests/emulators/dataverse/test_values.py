from __future__ import annotations

import pytest

from emulators.dataverse.errors import DataverseFault
from emulators.dataverse.metadata import Column, load_standard_tables
from emulators.dataverse.values import coerce

TABLES = load_standard_tables()


def col(table: str, name: str) -> Column:
    return TABLES[table].columns[name]


@pytest.mark.parametrize(
    ("table", "column", "value", "code", "fragment"),
    [
        (
            "contact",
            "lastname",
            5,
            "0x80048d19",
            "Cannot convert the literal '5' to the expected type 'Edm.String'",
        ),
        ("contact", "lastname", "x" * 51, "0x80044331", "maximum allowed length of '50'"),
        ("account", "numberofemployees", -1, "0x8004432F", "Accepted Values: 0 to 1000000000"),
        ("account", "numberofemployees", 2**31, "0x80048d19", "Edm.Int32"),
        ("account", "numberofemployees", True, "0x80048d19", "'True'"),
        ("account", "revenue", "12", "0x80048d19", "Edm.Decimal"),
        ("account", "revenue", -5, "0x8004432F", "'revenue'"),
        ("lead", "leadqualitycode", 4, "0x8004431A", "Accepted Values: 1,2,3"),
        ("lead", "leadqualitycode", "1", "0x80048d19", "Edm.Int32"),
        ("contact", "donotemail", "yes", "0x80048d19", "Edm.Boolean"),
        ("task", "scheduledstart", "next tuesday", "0x80048d19", "Edm.DateTimeOffset"),
    ],
)
def test_refusals_carry_real_codes(
    table: str, column: str, value: object, code: str, fragment: str
) -> None:
    with pytest.raises(DataverseFault) as caught:
        coerce(col(table, column), value, TABLES[table].entity_set)
    assert caught.value.code == code
    assert fragment in caught.value.message


def test_accepted_values_are_normalised() -> None:
    assert (
        coerce(col("task", "scheduledstart"), "2024-05-01T10:00:00+02:00", "tasks")
        == "2024-05-01T08:00:00Z"
    )
    assert coerce(col("contact", "birthdate"), "1980-02-03", "contacts") == "1980-02-03T00:00:00Z"
    assert coerce(col("account", "revenue"), 10, "accounts") == 10.0
    assert coerce(col("account", "numberofemployees"), 7.0, "accounts") == 7
    assert coerce(col("contact", "lastname"), None, "contacts") is None
    assert coerce(col("contact", "lastname"), "x" * 50, "contacts") == "x" * 50
