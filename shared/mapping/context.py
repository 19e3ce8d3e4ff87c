"""Everything the pure transform needs to know beyond the record itself.

A :class:`ResolutionContext` is built once per run (or phase) from the pre-passes over the
staged records (``shared.mapping.dedup``), the Dynamics users read from the target and the
configuration. The transform only reads it, so it stays pure and a rerun gives the same rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from shared.rows import Outcome


@dataclass(frozen=True)
class DynamicsUser:
    """A Dataverse ``systemuser`` matched by ``internalemailaddress``."""

    id: str
    email: str
    disabled: bool = False


@dataclass(frozen=True)
class Flag:
    """A pre-pass decision about one record (a report entry or a skip)."""

    reason_code: str
    message: str
    field: str | None = None
    value: object = None
    hint: str | None = None
    outcome: Outcome = "written_with_fallback"


FlagKey = tuple[str, str]
"""(Salesforce object, 18-character id)."""


@dataclass(frozen=True)
class References:
    """Everything transforming one batch of records asks the context about.

    A superset: a context holding the answers for these (and nothing else) answers every
    question of transforming those records exactly as the whole context does
    (``CompiledMapping.references`` collects it; ``shared.run.context_index`` answers it).

    Attributes:
        source: The batch's Salesforce object (flags are keyed by it).
        record_ids: The records' own 18-character ids (their pre-pass flags).
        ids: Ids the records refer to (lookups, parents, checks, id-valued parties), as
            written and in their 18-character form.
        emails: Lowercase addresses named by email parties.
    """

    source: str
    record_ids: frozenset[str]
    ids: frozenset[str]
    emails: frozenset[str]


@dataclass(frozen=True)
class ResolutionContext:
    """Read-only facts the transform resolves references against.

    Attributes:
        namespace: ``shared.ids.org_namespace`` of the source org.
        run_id: Run id, used in stage keys of file bodies.
        migrated: Per Salesforce object, ids that will exist in the target (extracted, not
            deleted, not skipped, not quarantined as far as known). A lookup or parent outside
            this set is cleared or falls back.
        present: Per Salesforce object, ids that exist in the source and are not deleted,
            including objects that are not migrated as records (sequences).
        users: Dynamics users by lowercase email.
        fallback_owner: The configured fallback owner (``dataverse.fallback_owner_email``).
        flags: Pre-pass decisions per record: entries (duplicates, no external id, lead and
            contact overlap) and skips (converted leads, ``contact_wins``).
        cut_links: ``(object, id, field)`` references not written because they close a cycle.
        addresses: Lowercase email → ``(entity set, target id)`` of a migrated contact or lead,
            to resolve email parties (users come from ``users``).
        owner_policy: ``fallback`` (default) uses the fallback owner; nothing else yet.
    """

    namespace: uuid.UUID
    run_id: str = "run"
    migrated: Mapping[str, frozenset[str]] = field(default_factory=dict)
    present: Mapping[str, frozenset[str]] = field(default_factory=dict)
    users: Mapping[str, DynamicsUser] = field(default_factory=dict)
    fallback_owner: DynamicsUser | None = None
    flags: Mapping[FlagKey, tuple[Flag, ...]] = field(default_factory=dict)
    cut_links: frozenset[tuple[str, str, str]] = frozenset()
    addresses: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    owner_policy: Literal["fallback"] = "fallback"

    def is_migrated(self, sobject: str, sf_id: str) -> bool:
        """True when ``sf_id`` of ``sobject`` will exist in the target."""
        ids = self.migrated.get(sobject)
        return ids is not None and sf_id in ids

    def without(self, sobject: str, ids: frozenset[str]) -> ResolutionContext:
        """A copy in which ``ids`` (e.g. quarantined parents) are no longer migrated."""
        migrated = dict(self.migrated)
        migrated[sobject] = migrated.get(sobject, frozenset()) - ids
        return replace(self, migrated=migrated)


def users_by_email(rows: Iterable[Mapping[str, Any]]) -> dict[str, DynamicsUser]:
    """Index ``systemuser`` rows (``systemuserid``, ``internalemailaddress``, ``isdisabled``).

    Emails compare case-insensitively, as Dataverse compares strings. When two users share an
    address, an enabled one wins, so a disabled duplicate never takes a record.
    """
    out: dict[str, DynamicsUser] = {}
    for row in rows:
        email = row.get("internalemailaddress")
        if not isinstance(email, str) or not email.strip():
            continue
        user = DynamicsUser(
            id=str(row.get("systemuserid") or row.get("id") or ""),
            email=email.strip(),
            disabled=bool(row.get("isdisabled")),
        )
        key = user.email.lower()
        if key not in out or (out[key].disabled and not user.disabled):
            out[key] = user
    return out
