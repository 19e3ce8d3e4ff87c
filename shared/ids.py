"""Deterministic Dataverse ids for migrated records (ARCHITECTURE decision 1).

The primary key of every migrated record is ``uuid5(org_namespace, "<sobject>:<18-char Id>")``.
Lookups bind by computing the parent's id, writes are upserts by primary key, a retry after a
lost response cannot create a duplicate, and rollback knows every id without an id map.

Salesforce ids are case-sensitive; 15-character ids are widened to their 18-character form
first so both spellings of one record give the same target id.
"""

from __future__ import annotations

import uuid

_ORG_ROOT = uuid.UUID("6f1f3c52-2a4b-5d43-9b0e-8f2d7c1a4e10")
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def to_18(sf_id: str) -> str:
    """Return the 18-character, case-safe form of a 15- or 18-character Salesforce id.

    Raises:
        ValueError: ``sf_id`` is not 15 or 18 alphanumeric characters.
    """
    if len(sf_id) == 18 and sf_id.isalnum():
        return sf_id
    if len(sf_id) != 15 or not sf_id.isalnum():
        raise ValueError(f"{sf_id!r} is not a 15- or 18-character Salesforce id")
    suffix = ""
    for chunk in range(3):
        bits = 0
        for pos, ch in enumerate(sf_id[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << pos
        suffix += _SUFFIX_ALPHABET[bits]
    return sf_id + suffix


def org_namespace(org_id: str) -> uuid.UUID:
    """The uuid5 namespace for one source org (its 18-character organization id)."""
    return uuid.uuid5(_ORG_ROOT, to_18(org_id))


def target_id(namespace: uuid.UUID, sobject: str, sf_id: str) -> str:
    """The deterministic Dataverse primary key of one migrated Salesforce record."""
    return str(uuid.uuid5(namespace, f"{sobject}:{to_18(sf_id)}"))


def derived_id(namespace: uuid.UUID, sobject: str, sf_id: str, role: str) -> str:
    """A deterministic id for a second target row made from one source record.

    Example: the note that carries a sequence enrollment's history, or one of several
    activities produced from a single engagement event.
    """
    return str(uuid.uuid5(namespace, f"{sobject}:{to_18(sf_id)}:{role}"))
