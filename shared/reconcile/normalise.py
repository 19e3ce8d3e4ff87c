"""Compare what we meant to write with what Dataverse gives back, after normalisation.

Dataverse answers in its own formats: money as ``5000000.0000``, datetimes in UTC to the
second, empty strings as null, lookups as ``_<name>_value`` GUIDs, multi-select choices as
``"1,2"``. A field matches when both sides are equal after bringing them to one form; when they
are not, the difference is classified so a person knows what kind of defect it is.

Pure functions only: tested with literal values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "Comparison",
    "actual_column",
    "compare_value",
    "normalise",
    "parse_bind",
]

_GUID = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
ANNOTATION_NAV = "@Microsoft.Dynamics.CRM.associatednavigationproperty"


@dataclass(frozen=True)
class Comparison:
    """The verdict on one field: ``kind`` is ``match`` or the class of the difference."""

    kind: str
    expected: Any
    actual: Any

    @property
    def matches(self) -> bool:
        """True when the field is as intended."""
        return self.kind == "match"


def parse_bind(value: Any) -> str | None:
    """The GUID in ``/accounts(<guid>)`` (lower case), or None for a null bind."""
    if value is None:
        return None
    match = _GUID.search(str(value))
    return match.group(1).lower() if match else str(value).lower()


def actual_column(row: dict[str, Any], key: str) -> str | None:
    """The attribute in a read-back row that holds the value of payload key ``key``.

    Plain columns are themselves. ``nav@odata.bind`` is the ``_x_value`` whose
    associated navigation property is ``nav`` (annotation requested by the reader), else the
    lookup named like the navigation property or its prefix (``parentcustomerid_account`` →
    ``_parentcustomerid_value``).
    """
    if "@odata.bind" not in key:
        return key if key in row else None
    nav = key.split("@", 1)[0]
    for name, value in row.items():
        if name.endswith(ANNOTATION_NAV) and value == nav:
            return name.removesuffix(ANNOTATION_NAV)
    candidates = [nav.lower()]
    if "_" in nav:
        candidates.append(nav.rsplit("_", 1)[0].lower())
        candidates.append(nav.split("_", 1)[0].lower())
    for cand in candidates:
        if f"_{cand}_value" in row:
            return f"_{cand}_value"
    return None


def _as_datetime(value: str) -> dt.datetime | None:
    text = value.strip().replace("Z", "+00:00")
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).replace(microsecond=0)


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def normalise(value: Any) -> Any:
    """One comparable form: trimmed text, UTC datetimes to the second, Decimals, sets."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return _as_decimal(value)
    if isinstance(value, str):
        text = value.replace("\r\n", "\n").strip()
        if not text:
            return None
        if _DATE.match(text):
            return dt.date.fromisoformat(text)
        if _DATETIME.match(text):
            return _as_datetime(text) or text
        return text
    if isinstance(value, list):
        return sorted(str(normalise(v)) for v in value)
    return value


def compare_value(key: str, expected: Any, actual: Any) -> Comparison:
    """Compare one payload value with its read-back value and classify any difference."""
    if "@odata.bind" in key:
        exp_id, act_id = parse_bind(expected), (str(actual).lower() if actual else None)
        if exp_id == act_id:
            return Comparison("match", exp_id, act_id)
        return Comparison("lookup_missing" if act_id is None else "lookup_mismatch", exp_id, act_id)
    exp, act = normalise(expected), normalise(actual)
    # datetime is a subclass of date: compare a date-only side by its date.
    if type(exp) is dt.date and isinstance(act, dt.datetime):
        act = act.date()
    if isinstance(exp, dt.datetime) and type(act) is dt.date:
        exp = exp.date()
    if isinstance(exp, Decimal) and isinstance(act, str):
        act = _as_decimal(act) or act
    if isinstance(exp, bool) and isinstance(act, Decimal):
        act = bool(act)
    if isinstance(exp, str) and isinstance(act, str) and "," in act and exp.replace(" ", "") == act:
        return Comparison("match", expected, actual)
    if exp == act:
        return Comparison("match", expected, actual)
    return Comparison(_classify(exp, act), expected, actual)


def _classify(exp: Any, act: Any) -> str:
    if act is None:
        return "missing_value"
    if exp is None:
        return "unexpected_value"
    if isinstance(exp, str) and isinstance(act, str):
        if exp.startswith(act):
            return "truncated"
        if exp.lower() == act.lower():
            return "case_changed"
        if " ".join(exp.split()) == " ".join(act.split()):
            return "whitespace_changed"
        return "value_mismatch"
    if isinstance(exp, Decimal) and isinstance(act, Decimal):
        if abs(exp - act) < Decimal("0.01") * max(Decimal(1), abs(exp)):
            return "rounded"
        return "value_mismatch"
    if isinstance(exp, dt.datetime) and isinstance(act, dt.datetime):
        delta = abs((exp - act).total_seconds())
        if delta % 1800 == 0 and delta <= 14 * 3600:
            return "timezone_shift"
        if delta < 1:
            return "precision"
        return "value_mismatch"
    if type(exp) is not type(act):
        return "type_mismatch"
    return "value_mismatch"
