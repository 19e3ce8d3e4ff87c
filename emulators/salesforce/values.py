"""Salesforce value formats: datetimes, dates, ids, and the emulator's clock.

The API writes datetimes as ``2024-05-01T12:00:00.000+0000`` (UTC, milliseconds), accepts
``Z`` and ``±HH:MM`` offsets on input, and takes 15- or 18-character ids. Stored datetimes are
always the canonical UTC string, so SQLite compares and sorts them as text.
"""

from __future__ import annotations

import datetime as dt
import re
import threading

from shared.ids import to_18

__all__ = [
    "Clock",
    "format_datetime",
    "is_date",
    "normalize_id",
    "parse_datetime",
]

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def format_datetime(value: dt.datetime) -> str:
    """Canonical API form of a datetime, in UTC with milliseconds."""
    utc = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> dt.datetime:
    """Parse an API datetime (``Z``, ``+0000`` or ``+00:00``; no offset means UTC).

    Raises:
        ValueError: ``text`` is not a datetime in one of those forms.
    """
    m = _DATETIME.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a datetime like 2024-05-01T12:00:00.000+0000")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    frac = (m.group(7) or "0").ljust(6, "0")[:6]
    tz = dt.UTC
    offset = m.group(8)
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return dt.datetime(year, month, day, hour, minute, second, int(frac), tzinfo=tz)


def is_date(text: str) -> bool:
    """True for a valid ``YYYY-MM-DD`` date."""
    if not _DATE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def normalize_id(value: str) -> str:
    """The 18-character form of a 15- or 18-character id (other strings unchanged)."""
    try:
        return to_18(value)
    except ValueError:
        return value


class Clock:
    """The emulator's clock: real UTC time plus an adjustable offset.

    ``stamp()`` never returns the same or an earlier value twice, so every write gets a
    strictly later ``SystemModstamp`` even within one millisecond (delta extraction with
    ``SystemModstamp >`` then never misses a change made right after a watermark).
    """

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self.offset = dt.timedelta(seconds=offset_seconds)
        self._last = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        """Current emulator time (UTC)."""
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative value)."""
        with self._lock:
            self.offset += dt.timedelta(seconds=seconds)

    def set(self, when: dt.datetime) -> None:
        """Make ``now()`` return ``when`` from this moment on (time keeps running)."""
        with self._lock:
            self.offset = when - dt.datetime.now(dt.UTC)

    def stamp(self) -> str:
        """A canonical datetime string strictly later than every earlier stamp."""
        with self._lock:
            now = dt.datetime.now(dt.UTC) + self.offset
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            if now <= self._last:
                now = self._last + dt.timedelta(milliseconds=1)
            self._last = now
            return format_datetime(now)
