"""Parse record addresses: ``(guid)``, ``(key='v',other=1)`` and ``/contacts(...)`` references.

The same forms are valid in URLs and in ``@odata.bind`` values (absolute or relative), so one
parser serves both.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import unquote

from emulators.dataverse.errors import bad_request, odata_error

KeySpec = str | dict[str, Any]
# Documented: key values with these characters make GET, PATCH and upsert by key fail.
UNSAFE_KEY_CHARS = ("/", "<", ">", "*", "%", "&", ":", "\\", "?", "+")
_REF = re.compile(r"^(?:[a-z]+://[^/]+)?/?(?:api/data/v9\.\d/)?([A-Za-z_][A-Za-z0-9_]*)\((.*)\)$")


def parse_literal(text: str) -> Any:
    """An OData literal: 'string' (with '' escapes), integer, decimal, guid, true/false/null."""
    text = text.strip()
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return text[1:-1].replace("''", "'")
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        pass
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise odata_error(f"Bad Request - Error in query syntax: literal {text!r}") from None


def split_top(text: str) -> list[str]:
    """Split on commas that are outside quotes and parentheses."""
    parts: list[str] = []
    depth, quoted = 0, False
    current: list[str] = []
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def parse_key(inner: str) -> KeySpec:
    """The part between parentheses: a primary key guid or ``name=value`` pairs."""
    inner = unquote(inner).strip()
    if "=" not in inner or inner.startswith("'"):
        try:
            return str(uuid.UUID(inner))
        except ValueError:
            raise odata_error(
                f"Bad Request - Error in query syntax. The key value '{inner}' is not a valid Guid."
            ) from None
    values: dict[str, Any] = {}
    for part in split_top(inner):
        name, _, literal = part.partition("=")
        value = parse_literal(literal)
        if isinstance(value, str) and any(ch in value for ch in UNSAFE_KEY_CHARS):
            raise bad_request(
                f"The alternate key value {value!r} of '{name.strip()}' contains one of the "
                f"characters {' '.join(UNSAFE_KEY_CHARS)}, which cannot be used to address a "
                "record by key. Address the record by its primary key instead.",
            )
        values[name.strip()] = value
    return values


def parse_reference(ref: str) -> tuple[str, KeySpec]:
    """``/contacts(<id>)`` or ``https://host/api/data/v9.2/contacts(k='v')`` → (set, key)."""
    match = _REF.match(ref.strip())
    if not match:
        raise odata_error(
            f"The URI '{ref}' is not valid because it is not based on the service root."
        )
    return match.group(1), parse_key(match.group(2))
