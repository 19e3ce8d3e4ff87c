"""Deterministic Salesforce record ids with real key prefixes.

A Salesforce id is a 3-character key prefix naming the object, then an instance/reserved part,
then a base-62 counter, widened to 18 characters by the case-safe suffix. Generated orgs and
imported exports both need ids that look and behave like real ones (case-sensitive, 15 and 18
character forms, prefix says the object) and that never depend on the clock, so the same input
gives the same org byte for byte.
"""

from __future__ import annotations

import functools

from emulators.salesforce.metadata import load_builtin_metadata

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_COUNTER_WIDTH = 9
_INSTANCE = "8d0"
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

# Key prefixes of objects the emulator's built-in metadata does not describe. Real ones for
# EmailTemplate, Campaign and Organization; the ActionCadenceRule* prefixes are ours (Salesforce
# does not document them), next to the built-in ActionCadence ones.
FALLBACK_PREFIXES: dict[str, str] = {
    "Organization": "00D",
    "EmailTemplate": "00X",
    "Campaign": "701",
    "ActionCadenceRule": "7Dg",
    "ActionCadenceRuleCondition": "7Dh",
}


@functools.cache
def _builtin_prefixes() -> dict[str, str]:
    return {
        name: str(describe["keyPrefix"])
        for name, describe in load_builtin_metadata().items()
        if describe.get("keyPrefix")
    }


def key_prefix(sobject: str) -> str | None:
    """The key prefix the emulator routes ``sobject`` ids by, or None if it has no known one."""
    return _builtin_prefixes().get(sobject) or FALLBACK_PREFIXES.get(sobject)


def base62(n: int, width: int = _COUNTER_WIDTH) -> str:
    """``n`` in base 62, left-padded with zeros to ``width`` characters.

    Raises:
        ValueError: ``n`` is negative or does not fit in ``width`` characters.
    """
    if n < 0:
        raise ValueError(f"id counter {n} is negative")
    digits = ""
    while n:
        n, rem = divmod(n, 62)
        digits = _BASE62[rem] + digits
    if len(digits) > width:
        raise ValueError(f"id counter does not fit in {width} base-62 digits")
    return digits.rjust(width, "0")


def _suffix_char(chunk: str) -> str:
    bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
    return _SUFFIX_ALPHABET[bits]


@functools.cache
def _head(prefix: str) -> tuple[str, str]:
    """The constant first 5 characters of ``prefix``'s ids and their suffix character."""
    head = prefix + _INSTANCE[:2]
    return head, _suffix_char(head)


def make_id(prefix: str, counter: int) -> str:
    """The 18-character id of record number ``counter`` (from 1) with key prefix ``prefix``.

    Same result as ``shared.ids.to_18`` on the 15-character id (a test holds them equal), but
    the constant head's suffix character is computed once per prefix: the generator makes
    millions of ids.

    Raises:
        ValueError: the prefix is not 3 alphanumeric characters or the counter is out of range.
    """
    if len(prefix) != 3 or not prefix.isalnum():
        raise ValueError(f"key prefix {prefix!r} is not 3 alphanumeric characters")
    head, first = _head(prefix)
    tail = _INSTANCE[2] + base62(counter)
    return head + tail + first + _suffix_char(tail[:5]) + _suffix_char(tail[5:])


def id_for(sobject: str, counter: int) -> str:
    """The id of record number ``counter`` of an object with a known key prefix.

    Raises:
        KeyError: neither the built-in metadata nor :data:`FALLBACK_PREFIXES` knows ``sobject``.
    """
    prefix = key_prefix(sobject)
    if prefix is None:
        raise KeyError(f"no key prefix known for {sobject}")
    return make_id(prefix, counter)
