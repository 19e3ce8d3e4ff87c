"""Values become SOQL/OData literals that cannot change the query around them."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.quoting import odata_key, odata_quote, soql_in, soql_like, soql_quote


def _soql_unescape(literal: str) -> str:
    """Parse a SOQL string literal the way the SOQL lexer does (test oracle)."""
    assert literal[0] == "'" and literal[-1] == "'"
    body, out, i = literal[1:-1], [], 0
    table = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'"}
    table["\\"] = "\\"
    while i < len(body):
        ch = body[i]
        if ch == "'":
            raise AssertionError(f"unescaped quote ends the literal early in {literal!r}")
        if ch == "\\":
            out.append(table[body[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("O'Brien", "'O\\'Brien'"),
        ("' OR Id != '", "'\\' OR Id != \\''"),
        ("back\\slash", "'back\\\\slash'"),
        ("two\nlines\r\ttab", "'two\\nlines\\r\\ttab'"),
        ('say "hi"', "'say \\\"hi\\\"'"),
        ("Zoë 東京 🚲", "'Zoë 東京 🚲'"),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (1.5, "1.5"),
        (Decimal("10.250"), "10.250"),
        (dt.date(2024, 5, 1), "2024-05-01"),
        (
            dt.datetime(2024, 5, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2024-05-01T12:00:00Z",
        ),
    ],
)
def test_soql_quote_renders_literals(value: object, expected: str) -> None:
    assert soql_quote(value) == expected


@given(st.text())
def test_soql_quote_round_trips_any_text(text: str) -> None:
    # Whatever the text, the literal parses back to exactly it and never ends early.
    assert _soql_unescape(soql_quote(text)) == text


@pytest.mark.parametrize(
    "bad", [[1], {"a": 1}, float("nan"), float("inf"), dt.datetime(2024, 1, 1), object()]
)
def test_soql_quote_refuses_values_without_a_literal(bad: object) -> None:
    with pytest.raises(TypeError):
        soql_quote(bad)


def test_soql_in_quotes_each_value_and_refuses_empty() -> None:
    assert soql_in(["001A", "x' OR Name != 'y"]) == "('001A','x\\' OR Name != \\'y')"
    assert soql_in([1, None]) == "(1,null)"
    with pytest.raises(ValueError, match="at least one value"):
        soql_in([])


def test_soql_like_escapes_wildcards() -> None:
    assert soql_like("50%_off") == "'50\\%\\_off'"
    assert soql_like("Acme", match="prefix") == "'Acme%'"
    assert soql_like("it's", match="contains") == "'%it\\'s%'"
    with pytest.raises(ValueError):
        soql_like("x", match="regex")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("O'Brien", "'O''Brien'"),
        ("' or 1 eq 1 or name eq '", "''' or 1 eq 1 or name eq '''"),
        ("a&b=c%20", "'a&b=c%20'"),
        (uuid.UUID("6f1f3c52-2a4b-5d43-9b0e-8f2d7c1a4e10"), "6f1f3c52-2a4b-5d43-9b0e-8f2d7c1a4e10"),
        (None, "null"),
        (True, "true"),
        (7, "7"),
        (dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC), "2024-05-01T12:00:00Z"),
    ],
)
def test_odata_quote_renders_literals(value: object, expected: str) -> None:
    assert odata_quote(value) == expected


@given(st.text())
def test_odata_quote_round_trips_through_httpx_params(text: str) -> None:
    # The filter travels in params=; the server sees exactly one literal equal to the text.
    flt = "emailaddress1 eq " + odata_quote(text)
    request = httpx.Request(
        "GET", "https://org.example/api/data/v9.2/contacts", params={"$filter": flt}
    )
    received = request.url.params["$filter"]
    assert received == flt
    literal = received.removeprefix("emailaddress1 eq ")
    assert literal[0] == literal[-1] == "'"
    inner = literal[1:-1]
    assert "'" not in inner.replace("''", "")
    assert inner.replace("''", "'") == text


def test_odata_key_primary_and_alternate() -> None:
    guid = "6F1F3C52-2A4B-5D43-9B0E-8F2D7C1A4E10"
    assert odata_key(guid) == "(6f1f3c52-2a4b-5d43-9b0e-8f2d7c1a4e10)"
    assert odata_key(lfwd_sfid="003000000000001AAA") == "(lfwd_sfid='003000000000001AAA')"
    assert odata_key(a="x", b=2) == "(a='x',b=2)"


def test_odata_key_percent_encodes_path_breakers() -> None:
    seg = odata_key(name="R&D / 100% #1 ? it's")
    assert "/" not in seg and "?" not in seg and "#" not in seg and "&" not in seg
    assert unquote(seg) == "(name='R&D / 100% #1 ? it''s')"
    url = httpx.URL("https://org.example/api/data/v9.2/accounts" + seg)
    assert url.path.endswith(")")
    assert not url.query and not url.fragment


def test_odata_key_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="not a GUID"):
        odata_key("003000000000001AAA")
    with pytest.raises(ValueError):
        odata_key()
    with pytest.raises(ValueError):
        odata_key("6f1f3c52-2a4b-5d43-9b0e-8f2d7c1a4e10", name="x")
