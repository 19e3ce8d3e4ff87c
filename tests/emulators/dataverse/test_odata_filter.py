from __future__ import annotations

import json
import sqlite3

import pytest

from emulators.dataverse.errors import DataverseFault
from emulators.dataverse.metadata import load_standard_tables
from emulators.dataverse.odata_filter import to_sql

CONTACT = load_standard_tables()["contact"]
ROWS = {
    "11111111-1111-1111-1111-111111111111": {
        "lastname": "O'Brien",
        "firstname": "Ann",
        "statecode": 0,
        "donotemail": True,
        "createdon": "2024-01-02T00:00:00Z",
    },
    "22222222-2222-2222-2222-222222222222": {
        "lastname": "Smith",
        "firstname": None,
        "statecode": 1,
        "donotemail": False,
        "createdon": "2023-06-01T00:00:00Z",
        "parentcustomerid": "33333333-3333-3333-3333-333333333333",
    },
    "44444444-4444-4444-4444-444444444444": {
        "lastname": "smithers",
        "firstname": "50%_off",
        "statecode": 0,
        "donotemail": False,
        "createdon": "2025-01-01T00:00:00Z",
    },
}


def matching(text: str, aliases: dict[str, str] | None = None) -> list[str]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, data TEXT)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(k, json.dumps(v)) for k, v in ROWS.items()])
    where, params = to_sql(CONTACT, text, aliases)
    return [
        ROWS[r[0]]["lastname"]
        for r in db.execute(f"SELECT id FROM t WHERE {where} ORDER BY id", params)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lastname eq 'o''brien'", ["O'Brien"]),
        ("lastname ne 'Smith'", ["O'Brien", "smithers"]),
        ("startswith(lastname,'smith')", ["Smith", "smithers"]),
        ("endswith(lastname,'ERS')", ["smithers"]),
        ("contains(firstname,'%_')", ["smithers"]),
        ("firstname eq null", ["Smith"]),
        ("firstname ne 'Ann'", ["smithers"]),  # a null column matches neither eq nor ne
        ("firstname ne null and statecode eq 0", ["O'Brien", "smithers"]),
        ("not (statecode eq 0) or donotemail eq true", ["O'Brien", "Smith"]),
        ("createdon ge 2024-01-01T00:00:00Z and createdon lt 2025-01-01", ["O'Brien"]),
        ("2024-01-01T00:00:00Z le createdon", ["O'Brien", "smithers"]),
        ("_parentcustomerid_value eq 33333333-3333-3333-3333-333333333333", ["Smith"]),
        (
            "Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=['SMITH','nobody'])",
            ["Smith"],
        ),
        (
            "Microsoft.Dynamics.CRM.NotIn(PropertyName='contactid',PropertyValues=['11111111-1111-1111-1111-111111111111'])",
            ["Smith", "smithers"],
        ),
        (
            "Microsoft.Dynamics.CRM.Between(PropertyName='statecode',PropertyValues=[1,5])",
            ["Smith"],
        ),
        ("lastname eq @name", ["Smith"]),
    ],
)
def test_filter_semantics(text: str, expected: list[str]) -> None:
    assert matching(text, {"@name": "'Smith'"}) == expected


@pytest.mark.parametrize(
    "text", ["lastname eq", "nosuch eq 1", "lastname eq @missing", "contains(lastname)"]
)
def test_bad_filters_are_refused(text: str) -> None:
    with pytest.raises((DataverseFault, ValueError)):
        matching(text)
