"""The SOQL parser: the subset extraction writes, and Salesforce's syntax-error layout."""

from __future__ import annotations

import datetime as dt

import pytest

from emulators.salesforce.errors import SalesforceApiError
from emulators.salesforce.soql.ast import And, Compare, Count, FieldRef, InList, Not, Or
from emulators.salesforce.soql.dates import date_literal_range
from emulators.salesforce.soql.parser import parse_soql


def test_parses_fields_paths_conditions_order_limit_offset() -> None:
    q = parse_soql(
        "select Id, Account.Owner.Email from contact "
        "where (Email like 'a\\_b%' or Name = 'O\\'Brien') and not IsDeleted = true "
        "and Id not in ('003000000000001', '003000000000002') "
        "order by LastName desc nulls last, Id limit 10 offset 5"
    )
    assert q.sobject == "contact"
    assert [i.parts for i in q.items if isinstance(i, FieldRef)] == [
        ("Id",),
        ("Account", "Owner", "Email"),
    ]
    assert isinstance(q.where, And)
    first, second, third = q.where.items
    assert isinstance(first, Or)
    like, eq = first.items
    assert isinstance(like, Compare) and like.value.value == "a\\_b%"
    assert isinstance(eq, Compare) and eq.value.value == "O'Brien"
    assert isinstance(second, Not)
    assert isinstance(third, InList) and third.negate and len(third.values) == 2
    assert q.order_by[0].descending and q.order_by[0].nulls_last is True
    assert (q.limit, q.offset) == (10, 5)


def test_literals_dates_datetimes_booleans_null_numbers() -> None:
    q = parse_soql(
        "SELECT Id FROM Task WHERE ActivityDate = 2024-05-01 AND CreatedDate > "
        "2024-05-01T12:00:00.000+0000 AND IsClosed = FALSE AND WhoId = null AND "
        "CallDurationInSeconds >= -5 AND SystemModstamp > LAST_N_DAYS:7"
    )
    assert isinstance(q.where, And)
    kinds = [c.value.kind for c in q.where.items if isinstance(c, Compare)]
    assert kinds == ["date", "datetime", "boolean", "null", "number", "dateliteral"]


def test_count_and_semi_join() -> None:
    q = parse_soql("SELECT COUNT() FROM Contact WHERE AccountId IN (SELECT Id FROM Account)")
    assert q.items == (Count(None),)
    assert isinstance(q.where, InList) and q.where.subquery is not None


@pytest.mark.parametrize(
    ("soql", "column", "token"),
    [
        ("SELECT Id FROM Contact WHERE", 29, "<EOF>"),
        ("SELECT Id Contact", 11, "'Contact'"),
        ("SELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3", 46, "'OR'"),
        ("SELECT FROM Contact", 8, "'FROM'"),
    ],
)
def test_syntax_errors_point_at_the_token(soql: str, column: int, token: str) -> None:
    with pytest.raises(SalesforceApiError) as err:
        parse_soql(soql)
    assert err.value.error_code == "MALFORMED_QUERY"
    assert f"ERROR at Row:1:Column:{column}\nunexpected token: {token}" in err.value.message
    assert err.value.message.split("\n")[2] == " " * (column - 1) + "^"


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
        "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry",
        "SELECT FIELDS(ALL) FROM Account LIMIT 200",
        "SELECT convertTimezone(CreatedDate) FROM Account",
        "SELECT Id FROM Account WITH SECURITY_ENFORCED",
    ],
)
def test_unsupported_soql_is_refused_saying_so(soql: str) -> None:
    with pytest.raises(SalesforceApiError, match="not supported by the"):
        parse_soql(soql)


def test_date_literal_ranges() -> None:
    wed = dt.date(2024, 5, 15)
    assert date_literal_range("TODAY", 1, wed) == (wed, dt.date(2024, 5, 16))
    assert date_literal_range("LAST_N_DAYS", 7, wed) == (dt.date(2024, 5, 8), dt.date(2024, 5, 16))
    assert date_literal_range("THIS_WEEK", 1, wed) == (dt.date(2024, 5, 12), dt.date(2024, 5, 19))
    assert date_literal_range("LAST_MONTH", 1, wed) == (dt.date(2024, 4, 1), dt.date(2024, 5, 1))
    assert date_literal_range("THIS_YEAR", 1, wed) == (dt.date(2024, 1, 1), dt.date(2025, 1, 1))
