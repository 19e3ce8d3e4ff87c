"""Value conversion Salesforce → Dataverse, checked against the column (docs/type-mapping.md)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.mapping.target_metadata import Column
from shared.mapping.types import (
    ValueProblemError,
    make_boolean,
    make_choice,
    make_datetime,
    make_decimal,
    make_duration,
    make_integer,
    make_template,
    make_text,
    utf16_len,
)


def col(kind: str, **kw: Any) -> Column:
    return Column(logical_name="x", schema_name="x", type=kind, **kw)


def problem(conv: Any, value: Any) -> ValueProblemError:
    with pytest.raises(ValueProblemError) as info:
        conv(value, [])
    return info.value


def test_text_within_max_length_is_unchanged_including_unicode() -> None:
    notes: list[tuple[str, str]] = []
    assert make_text(col("String", max_length=10))("Café 🚲", notes) == "Café 🚲"
    assert notes == []


def test_max_length_counts_utf16_units_like_dataverse() -> None:
    assert utf16_len("🚀") == 2
    conv = make_text(col("String", max_length=3))
    assert conv("ab🚀"[:2], []) == "ab"
    err = problem(conv, "ab🚀")
    assert err.code == "TEXT_TOO_LONG" and err.fallback == "ab"


def test_control_characters_removed_and_noted_but_tab_newline_kept() -> None:
    notes: list[tuple[str, str]] = []
    out = make_text(None)("a\x07b\tc\r\nd\x1b", notes)
    assert out == "ab\tc\r\nd"
    assert notes[0][0] == "CONTROL_CHARACTERS_REMOVED"


@pytest.mark.parametrize("bad", ["bob@", "lead@@example.com", "no at sign", "a@b", "x y@z.com"])
def test_invalid_email_rejected(bad: str) -> None:
    assert problem(make_text(None, email=True), bad).code == "INVALID_EMAIL"


def test_valid_email_passes() -> None:
    assert make_text(None, email=True)("Dana.Kim+x@mail.example.co", []) == (
        "Dana.Kim+x@mail.example.co"
    )


def test_choice_maps_labels_and_rejects_unknown() -> None:
    conv = make_choice({"Hot": 1, "Warm": 2})
    assert conv("Warm", []) == 2
    err = problem(conv, "Lukewarm")
    assert err.code == "CHOICE_UNMAPPED" and "Lukewarm" in err.message


def test_multichoice_joins_option_values_and_rejects_any_unknown() -> None:
    conv = make_choice({"Cloud": 727000000, "AI": 727000001}, multi=True)
    assert conv("Cloud;AI", []) == "727000000,727000001"
    assert problem(conv, "Cloud;Quantum Knitting").code == "MULTICHOICE_UNMAPPED"


def test_boolean_plain_and_remapped() -> None:
    assert make_boolean(None)(True, []) is True
    assert make_boolean(None)("false", []) is False
    conv = make_boolean({"Inbound": False, "Outbound": True})
    assert conv("Inbound", []) is False
    assert problem(conv, "Sideways").code == "INVALID_VALUE"
    assert make_boolean({"true": False, "false": True})(True, []) is False


def test_integer_range_is_the_columns_or_int32() -> None:
    conv = make_integer(None)
    assert conv(2_147_483_647, []) == 2_147_483_647
    assert conv(12.0, []) == 12
    assert problem(conv, 3_000_000_000).code == "INTEGER_OUT_OF_RANGE"
    assert problem(make_integer(col("Integer", min_value=0, max_value=999)), 1000).code == (
        "INTEGER_OUT_OF_RANGE"
    )
    assert problem(conv, 1.5).code == "INVALID_VALUE"
    assert make_integer(None, big=True)(3_000_000_000, []) == 3_000_000_000


def test_decimal_keeps_precision_or_rejects() -> None:
    conv = make_decimal(col("Decimal", precision=2, min_value=-1e11, max_value=1e11))
    assert conv(12.34, []) == 12.34
    assert problem(conv, 12.345).code == "DECIMAL_OUT_OF_RANGE"
    assert problem(conv, 1234567890123.5).code == "DECIMAL_OUT_OF_RANGE"
    money = make_decimal(col("Money", precision=2))
    assert money(922_337_203_685_477, []) == 922_337_203_685_477
    assert problem(money, 1e15).code == "DECIMAL_OUT_OF_RANGE"


def test_datetime_to_utc_and_range() -> None:
    conv = make_datetime(None)
    assert conv("2024-05-01T12:00:00.000+0000", []) == "2024-05-01T12:00:00Z"
    assert conv("2024-05-01T12:00:00.000+0200", []) == "2024-05-01T10:00:00Z"
    assert conv("2024-05-01", []) == "2024-05-01T00:00:00Z"
    assert problem(conv, "1700-01-01T00:00:00.000+0000").code == "DATE_OUT_OF_RANGE"
    assert problem(conv, "nonsense").code == "INVALID_VALUE"


def test_date_only_and_bounds() -> None:
    conv = make_datetime(None, date_only=True)
    assert conv("1753-01-01", []) == "1753-01-01"
    assert conv("9999-12-30", []) == "9999-12-30"
    assert problem(conv, "9999-12-31").code == "DATE_OUT_OF_RANGE"
    assert problem(conv, "1752-12-31").code == "DATE_OUT_OF_RANGE"


@pytest.mark.parametrize(
    ("rounding", "seconds", "minutes"),
    [
        ("half_up", 29, 0),
        ("half_up", 30, 1),
        ("half_up", 95, 2),
        ("ceiling", 1, 1),
        ("floor", 119, 1),
    ],
)
def test_duration_seconds_to_minutes(rounding: str, seconds: int, minutes: int) -> None:
    assert make_duration(None, rounding)(seconds, []) == minutes


def test_template_renders_dotted_paths_and_blanks_for_null() -> None:
    render = make_template("Sequence: {leadfwd__Sequence__r.Name} ({Step})")
    assert render({"leadfwd__Sequence__r.Name": "Q3", "Step": 2.0}) == "Sequence: Q3 (2)"
    assert render({}) == "Sequence:  ()"
