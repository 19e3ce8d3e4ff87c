"""SOQL date literals (``TODAY``, ``LAST_N_DAYS:n``...) as half-open ranges of days.

Ranges are computed in UTC from the emulator's clock (real Salesforce uses the running user's
time zone; the integration user of an emulated org is on GMT). Weeks start on Sunday.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["date_literal_range"]


def _month_start(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def date_literal_range(name: str, n: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """``[start, end)`` of the literal ``name`` (with ``n`` for the ``_N_`` forms).

    Raises:
        ValueError: an unknown literal name.
    """
    day = dt.timedelta(days=1)
    week_start = today - dt.timedelta(days=(today.weekday() + 1) % 7)
    year_start = dt.date(today.year, 1, 1)
    ranges: dict[str, tuple[dt.date, dt.date]] = {
        "YESTERDAY": (today - day, today),
        "TODAY": (today, today + day),
        "TOMORROW": (today + day, today + 2 * day),
        "LAST_WEEK": (week_start - 7 * day, week_start),
        "THIS_WEEK": (week_start, week_start + 7 * day),
        "NEXT_WEEK": (week_start + 7 * day, week_start + 14 * day),
        "LAST_MONTH": (_month_start(today, -1), _month_start(today, 0)),
        "THIS_MONTH": (_month_start(today, 0), _month_start(today, 1)),
        "NEXT_MONTH": (_month_start(today, 1), _month_start(today, 2)),
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
        "THIS_YEAR": (year_start, dt.date(today.year + 1, 1, 1)),
        "LAST_YEAR": (dt.date(today.year - 1, 1, 1), year_start),
        "NEXT_YEAR": (dt.date(today.year + 1, 1, 1), dt.date(today.year + 2, 1, 1)),
        "LAST_N_DAYS": (today - n * day, today + day),
        "NEXT_N_DAYS": (today + day, today + (n + 1) * day),
        "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
        "LAST_N_WEEKS": (week_start - 7 * n * day, week_start),
        "NEXT_N_WEEKS": (week_start + 7 * day, week_start + 7 * (n + 1) * day),
        "LAST_N_MONTHS": (_month_start(today, -n), _month_start(today, 0)),
        "NEXT_N_MONTHS": (_month_start(today, 1), _month_start(today, n + 1)),
        "LAST_N_YEARS": (dt.date(today.year - n, 1, 1), year_start),
        "NEXT_N_YEARS": (dt.date(today.year + 1, 1, 1), dt.date(today.year + n + 1, 1, 1)),
    }
    if name not in ranges:
        raise ValueError(f"unknown date literal {name}")
    return ranges[name]
