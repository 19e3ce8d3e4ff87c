"""The one place where values become SOQL or OData literals.

A value pasted into a query with an f-string is an injection waiting to happen: a contact
named ``O'Brien`` breaks the query, and ``x' OR Id != '`` widens it. Every SOQL value goes
through :func:`soql_quote` / :func:`soql_in`; every OData ``$filter`` value through
:func:`odata_quote`; every key segment of a Dataverse URL through :func:`odata_key`.

SOQL escapes follow the SOQL reference ("Quoted String Escape Sequences"): ``\\n \\r \\t
\\b \\f \\" \\' \\\\``. OData string literals double the single quote (OData ABNF
``SQUOTE-in-string``); key segments are additionally percent-encoded because they sit in the
URL path, where ``/ ? # % &`` would otherwise change the request's meaning.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import quote

__all__ = ["odata_key", "odata_quote", "soql_in", "soql_like", "soql_quote"]

_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
# Characters left as they are inside an OData key segment: RFC 3986 unreserved plus the
# sub-delimiters OData key syntax itself uses. Everything else is percent-encoded.
_ODATA_KEY_SAFE = "'(),=-._~:@!$*+;"


def _soql_string(text: str) -> str:
    return "'" + "".join(_SOQL_ESCAPES.get(ch, ch) for ch in text) + "'"


def _scalar(value: object, dialect: str) -> str:
    """Literals SOQL and OData write alike: null, booleans, numbers, datetimes, dates.

    Raises:
        TypeError: a value with no literal form in ``dialect`` (NaN, infinity, a naive
            datetime, a list...), so nothing odd is pasted into a query by ``str()``.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        if value != value or value in (float("inf"), float("-inf")):
            raise TypeError(f"{value!r} has no {dialect} literal form")
        return format(value, "f") if isinstance(value, Decimal) else repr(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError(f"{value!r} is a naive datetime; give it a timezone")
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} value {value!r} has no {dialect} literal form")


def soql_quote(value: object) -> str:
    """Render one Python value as a SOQL literal.

    Strings are quoted and escaped; ``None`` is ``null``; booleans ``true``/``false``;
    numbers as they are; datetimes in UTC as ``2024-05-01T12:00:00Z``; dates as
    ``2024-05-01``.

    Raises:
        TypeError: a value with no SOQL form (a list, a dict, NaN...), so nothing odd is
            ever pasted into a query by ``str()``.
    """
    if isinstance(value, str):
        return _soql_string(value)
    return _scalar(value, "SOQL")


def soql_in(values: Iterable[object]) -> str:
    """Render ``(v1, v2, ...)`` for ``IN``/``NOT IN``; each value through :func:`soql_quote`.

    Raises:
        ValueError: ``values`` is empty (``IN ()`` is a SOQL syntax error; the caller must
            skip the query instead).
    """
    items = [soql_quote(v) for v in values]
    if not items:
        raise ValueError("soql_in needs at least one value; skip the query when there are none")
    return "(" + ",".join(items) + ")"


def soql_like(fragment: str, *, match: str = "exact") -> str:
    """Quote ``fragment`` for ``LIKE`` with its own ``%`` and ``_`` matched literally.

    Args:
        fragment: Text to match.
        match: ``exact``, ``prefix`` (``fragment%``), ``suffix`` or ``contains``.
    """
    if match not in {"exact", "prefix", "suffix", "contains"}:
        raise ValueError(f"match must be exact, prefix, suffix or contains, not {match!r}")
    body = "".join(_SOQL_ESCAPES.get(ch, ch) for ch in fragment)
    body = body.replace("%", "\\%").replace("_", "\\_")
    head = "%" if match in {"suffix", "contains"} else ""
    tail = "%" if match in {"prefix", "contains"} else ""
    return "'" + head + body + tail + "'"


def odata_quote(value: object) -> str:
    """Render one Python value as an OData literal for ``$filter`` (not URL-encoded).

    Pass the whole ``$filter`` through the HTTP client's ``params=`` so it is percent-encoded
    once; never paste it into a URL by hand. Strings become ``'...'`` with ``'`` doubled;
    GUIDs are bare; ``None`` is ``null``; datetimes are UTC ``2024-05-01T12:00:00Z``.

    Raises:
        TypeError: a value with no OData literal form.
    """
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, uuid.UUID):
        return str(value)
    return _scalar(value, "OData")


def odata_key(value: object = None, /, **alternate_key: object) -> str:
    """Render a URL key segment, percent-encoded and ready to append to an entity set.

    ``"contacts" + odata_key(guid)`` gives ``contacts(6f1f...)``;
    ``"contacts" + odata_key(lfwd_sfid="003...")`` gives ``contacts(lfwd_sfid='003...')``
    (an alternate key; several keyword arguments make a composite key, in argument order).

    Raises:
        ValueError: neither or both of a primary key and alternate-key columns given, or a
            primary key that is not a GUID.
    """
    if (value is None) == (not alternate_key):
        raise ValueError("odata_key takes either one primary key or alternate-key columns")
    if value is not None:
        try:
            body = str(uuid.UUID(str(value)))
        except ValueError:
            raise ValueError(f"primary key {value!r} is not a GUID") from None
    else:
        body = ",".join(f"{name}={odata_quote(v)}" for name, v in alternate_key.items())
    return "(" + quote(body, safe=_ODATA_KEY_SAFE) + ")"
