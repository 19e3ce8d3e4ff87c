"""Salesforce values → Dataverse values, checked against the live column (docs/type-mapping.md).

Each ``make_*`` function is called once per mapped field at compile time and returns a small
closure ``convert(value, notes) -> target value``. A value that does not fit raises
:class:`ValueProblemError` with a reason code (``docs/reason-codes.md``); a fix the converter
made on its own (control characters removed) is appended to ``notes``. The field's
``on_error`` policy is applied by the caller, so the converters stay policy-free.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.mapping.target_metadata import Column

Note = tuple[str, str]
Converter = Callable[[Any, list[Note]], Any]

INT32 = (-2_147_483_648, 2_147_483_647)
INT64 = (-(2**63), 2**63 - 1)
DECIMAL_RANGE = (-100_000_000_000, 100_000_000_000)
MONEY_RANGE = (-922_337_203_685_477, 922_337_203_685_477)
MIN_DATE = "1753-01-01"
MAX_DATE = "9999-12-30"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\]]+$")
_SF_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+0000$")


class ValueProblemError(Exception):
    """One value does not fit its column. ``fallback`` is the truncated text, when there is one."""

    def __init__(self, code: str, message: str, hint: str, fallback: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.fallback = fallback


def utf16_len(text: str) -> int:
    """Length as Dataverse counts it (UTF-16 code units: emoji count twice)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _truncate_utf16(text: str, limit: int) -> str:
    out = text[:limit]
    while utf16_len(out) > limit:
        out = out[:-1]
    return out


def make_text(col: Column | None, *, email: bool = False) -> Converter:
    """Text into String/Memo: control characters removed (reported), MaxLength enforced."""
    limit = col.max_length if col else None
    half = limit // 2 if limit is not None else None

    def convert(value: Any, notes: list[Note]) -> Any:
        text = value if type(value) is str else _as_text(value)
        if not text.isprintable() and _CONTROL.search(text):
            text = _CONTROL.sub("", text)
            notes.append(("CONTROL_CHARACTERS_REMOVED", "control characters removed"))
        if email and not _EMAIL.match(text.strip()):
            raise ValueProblemError(
                "INVALID_EMAIL",
                f"'{text}' is not an email address",
                "correct the address in Salesforce or set the field's on_error: null",
            )
        if limit is not None and len(text) > (half or 0) and utf16_len(text) > limit:
            raise ValueProblemError(
                "TEXT_TOO_LONG",
                f"{utf16_len(text)} characters exceed the column's MaxLength {limit}",
                "widen the column or set on_error: truncate",
                fallback=_truncate_utf16(text, limit),
            )
        return text

    return convert


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def choice_table(values: Mapping[str, Any]) -> dict[str, int]:
    """A field's ``values:`` map as label → option value (what :func:`make_choice` looks up)."""
    return {str(k): int(v) for k, v in values.items()}


def make_choice(values: Mapping[str, Any], *, multi: bool = False) -> Converter:
    """Picklist label → option value (multi-select: ``a;b`` → ``"1,2"``)."""
    table = choice_table(values)
    code = "MULTICHOICE_UNMAPPED" if multi else "CHOICE_UNMAPPED"

    def one(label: str) -> int:
        try:
            return table[label]
        except KeyError:
            raise ValueProblemError(
                code,
                f"picklist value '{label}' has no destination choice",
                "add the value to the field's values: map, or map the field to text",
            ) from None

    def convert(value: Any, notes: list[Note]) -> Any:
        if not multi:
            return one(_key(value))
        labels = [p for p in str(value).split(";") if p]
        return ",".join(str(one(p)) for p in labels) if labels else None

    return convert


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _as_text(value)


def make_boolean(values: Mapping[str, Any] | None) -> Converter:
    """Checkbox → Two Options; ``values`` remaps labels (``Inbound: false``)."""
    table = {str(k): v for k, v in (values or {}).items()}

    def convert(value: Any, notes: list[Note]) -> Any:
        if table:
            key = _key(value)
            if key in table:
                return bool(table[key])
            raise ValueProblemError(
                "INVALID_VALUE",
                f"'{value}' has no entry in the field's values: map",
                "add the value to the field's values: map",
            )
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueProblemError("INVALID_VALUE", f"'{value}' is not a boolean", "map it to text")

    return convert


def _range(col: Column | None, default: tuple[int, int]) -> tuple[float, float]:
    lo = col.min_value if col and col.min_value is not None else default[0]
    hi = col.max_value if col and col.max_value is not None else default[1]
    return float(lo), float(hi)


def make_integer(col: Column | None, *, big: bool = False) -> Converter:
    """Whole number within the column's MinValue..MaxValue (int32, or int64 for BigInt)."""
    lo, hi = _range(col, INT64 if big else INT32)

    def convert(value: Any, notes: list[Note]) -> Any:
        number = _to_int(value)
        if not lo <= number <= hi:
            raise ValueProblemError(
                "INTEGER_OUT_OF_RANGE",
                f"{number} is outside {int(lo)}..{int(hi)}",
                "map to a decimal or bigint column",
            )
        return number

    return convert


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueProblemError("INVALID_VALUE", f"{value} is not a number", "map it to a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueProblemError(
        "INVALID_VALUE", f"'{value}' is not a whole number", "map to a decimal column"
    )


def make_decimal(col: Column | None) -> Converter:
    """Decimal/Money/Float within the column's range and precision (no silent rounding)."""
    money = col is not None and col.type == "Money"
    lo, hi = _range(col, MONEY_RANGE if money else DECIMAL_RANGE)
    places = col.precision if col and col.precision is not None else None

    def convert(value: Any, notes: list[Note]) -> Any:
        kind = type(value)
        if kind is float and lo <= value <= hi:  # fast path: digits after the point via repr
            text = repr(value)
            if "e" not in text and (places is None or len(text) - text.index(".") - 1 <= places):
                return value
        elif kind is int and lo <= value <= hi:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueProblemError("INVALID_VALUE", f"'{value}' is not a number", "map it to text")
        try:
            number = Decimal(value) if isinstance(value, int | str) else Decimal(repr(value))
        except InvalidOperation:
            raise ValueProblemError(
                "INVALID_VALUE", f"'{value}' is not a number", "map it to text"
            ) from None
        if not number.is_finite() or not lo <= number <= hi:
            raise ValueProblemError(
                "DECIMAL_OUT_OF_RANGE",
                f"{value} is outside {lo:g}..{hi:g}",
                "correct the value or widen the column's range",
            )
        exponent = number.as_tuple().exponent
        if places is not None and isinstance(exponent, int) and -exponent > places:
            raise ValueProblemError(
                "DECIMAL_OUT_OF_RANGE",
                f"{value} has more than {places} decimal places",
                "raise the column's precision",
            )
        return value if not isinstance(value, str) else float(number)

    return convert


def _check_date(day: str, original: Any) -> None:
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValueProblemError(
            "DATE_OUT_OF_RANGE",
            f"'{original}' is outside {MIN_DATE}..{MAX_DATE}",
            "correct the date in Salesforce or set on_error: null",
        )


def to_utc_iso(value: Any) -> str:
    """A Salesforce date or datetime → ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), range-checked."""
    if not isinstance(value, str):
        raise ValueProblemError("INVALID_VALUE", f"'{value}' is not a date", "map it to text")
    if _SF_DATETIME.match(value):
        _check_date(value[:10], value)
        return value[:19] + "Z"
    if len(value) == 10:
        _check_date(value, value)
        _parse(value + "T00:00:00+00:00", value)
        return value + "T00:00:00Z"
    moment = _parse(value, value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    _check_date(f"{moment.year:04d}" + text[4:10], value)
    return f"{moment.year:04d}" + text[4:] + "Z"


def _parse(text: str, original: Any) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        year = text[:4]
        if year.isdigit() and not MIN_DATE[:4] <= year <= MAX_DATE[:4]:
            _check_date(text[:10], original)
        raise ValueProblemError(
            "INVALID_VALUE", f"'{original}' is not a date or datetime", "correct it in Salesforce"
        ) from None


def make_datetime(col: Column | None, *, date_only: bool = False) -> Converter:
    """Date/datetime into DateTime: UTC, 1753-01-01..9999-12-30; DateOnly columns get the date."""
    only = date_only or (col.date_only if col else False)

    def convert(value: Any, notes: list[Note]) -> Any:
        if type(value) is str and _SF_DATETIME.match(value) and MIN_DATE <= value[:10] <= MAX_DATE:
            return value[:10] if only else value[:19] + "Z"  # to_utc_iso's first case, inlined
        iso = to_utc_iso(value)
        return iso[:10] if only else iso

    return convert


def make_duration(col: Column | None, rounding: str) -> Converter:
    """Seconds → whole minutes (``half_up`` by default: 29 s → 0, 30 s → 1, 90 s → 2)."""
    as_int = make_integer(col)

    def convert(value: Any, notes: list[Note]) -> Any:
        seconds = _to_int(value)
        if rounding == "ceiling":
            minutes = -(-seconds // 60)
        elif rounding == "floor":
            minutes = seconds // 60
        else:
            minutes = (seconds + 30) // 60
        return as_int(minutes, notes)

    return convert


_FIELD_REF = re.compile(r"\{([^{}]+)\}")


def make_template(template: str) -> Callable[[Mapping[str, Any]], str]:
    """``"Sequence: {leadfwd__Sequence__r.Name}"`` → a renderer; missing values render empty."""
    parts = _FIELD_REF.split(template)
    literals, names = parts[0::2], parts[1::2]

    def render(record: Mapping[str, Any]) -> str:
        out = [literals[0]]
        for name, lit in zip(names, literals[1:], strict=True):
            value = record.get(name)
            out.append("" if value is None else _as_text(value))
            out.append(lit)
        return "".join(out).strip()

    return render
