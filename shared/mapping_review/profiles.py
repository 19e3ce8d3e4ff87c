"""What sampled values look like, as evidence for or against a target column.

A field called ``Contact_Info__c`` whose values are all email addresses belongs in an email
column whatever its name says; a ``Phone__c`` full of URLs does not belong in a phone column.
Profiles are computed from a handful of sampled records, never sent anywhere, and only the
*kind* and counts appear in evidence (never the values themselves).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_URL = re.compile(r"^(https?://|www\.)\S+$", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[\d\s().\-/]{7,20}(\s*(x|ext\.?)\s*\d+)?$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_SFID = re.compile(r"^[a-zA-Z0-9]{5}[a-zA-Z0-9]{10}([a-zA-Z0-9]{3})?$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

#: Kinds a profile can report, most specific first.
KINDS = ("email", "url", "datetime", "date", "salesforce_id", "number", "boolean", "phone", "text")

#: Share of non-empty samples that must agree before a profile names a kind.
AGREEMENT = 0.8


@dataclass(frozen=True)
class ValueProfile:
    """The dominant kind of a field's sampled values and how many samples agree."""

    kind: str | None
    matching: int
    non_empty: int
    sampled: int
    max_length: int

    def describe(self) -> str:
        """One evidence line: counts only, never values."""
        if self.non_empty == 0:
            return f"no sampled values ({self.sampled} records sampled, all empty)"
        if self.kind is None:
            return f"{self.non_empty} sampled values of mixed kinds"
        return f"{self.matching}/{self.non_empty} sampled values look like {self.kind}"


def kind_of(value: Any) -> str:
    """Classify one value. Booleans and numbers by type; strings by shape."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    text = str(value).strip()
    for kind, pattern in (
        ("email", _EMAIL),
        ("url", _URL),
        ("datetime", _DATETIME),
        ("date", _DATE),
    ):
        if pattern.match(text):
            return kind
    if text.lower() in {"true", "false"}:
        return "boolean"
    if _NUMBER.match(text):
        # Unformatted phone numbers arrive as digit strings; numbers arrive as JSON numbers.
        return "phone" if text.lstrip("+").isdigit() and len(text) >= 7 else "number"
    if _SFID.match(text) and any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
        return "salesforce_id"
    if _PHONE.match(text) and sum(c.isdigit() for c in text) >= 7:
        return "phone"
    return "text"


def profile(values: Iterable[Any]) -> ValueProfile:
    """Profile sampled values: the kind at least :data:`AGREEMENT` of non-empty values share."""
    seen = list(values)
    present = [v for v in seen if v is not None and str(v).strip() != ""]
    if not present:
        return ValueProfile(None, 0, 0, len(seen), 0)
    counts = Counter(kind_of(v) for v in present)
    kind, matching = counts.most_common(1)[0]
    longest = max(len(str(v)) for v in present)
    if matching / len(present) < AGREEMENT:
        return ValueProfile(None, matching, len(present), len(seen), longest)
    return ValueProfile(kind, matching, len(present), len(seen), longest)


#: Which sampled kinds fit which Dataverse string formats (FormatName) or column types.
_FITS: dict[str, set[str]] = {
    "email": {"Email"},
    "url": {"Url"},
    "phone": {"Phone"},
    "date": {"DateTime"},
    "datetime": {"DateTime"},
    "number": {"Integer", "BigInt", "Decimal", "Double", "Money"},
    "boolean": {"Boolean"},
}


def fit(prof: ValueProfile, attribute_type: str, format_name: str | None) -> float | None:
    """How well sampled values fit a column: +1 fits, -1 contradicts, None no opinion.

    Only the specific kinds (email, URL, phone, dates, numbers, booleans) have an opinion, and
    only when the samples agree: free text fits anything textual.
    """
    if prof.kind is None or prof.kind not in _FITS:
        return None
    wanted = _FITS[prof.kind]
    if attribute_type in wanted or (format_name or "") in wanted:
        return 1.0
    if attribute_type in {"String", "Memo"}:
        if format_name in {"Email", "Url", "Phone"}:
            return -1.0  # a string column with a *different* specific format
        return None if prof.kind in {"number", "boolean", "date", "datetime"} else -0.5
    return -1.0
