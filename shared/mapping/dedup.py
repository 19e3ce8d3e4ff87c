"""Pre-passes over the staged people and companies, before any record is transformed.

Each function is pure: records in, decisions out (:class:`~shared.mapping.context.Flag` per
record, links to cut). Nothing is merged or dropped silently: duplicates are written and
reported, skips happen only by a configured policy and are listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from shared.mapping.context import Flag, FlagKey
from shared.mapping.models import Policies

Record = Mapping[str, Any]
Flags = dict[FlagKey, list[Flag]]


def live(records: Iterable[Record], deleted_field: str = "IsDeleted") -> list[Record]:
    """Records that are not deleted in Salesforce."""
    return [r for r in records if not r.get(deleted_field)]


def _email(rec: Record, field: str) -> str:
    value = rec.get(field)
    return value.strip().lower() if isinstance(value, str) else ""


def _add(flags: Flags, key: FlagKey, flag: Flag) -> None:
    flags.setdefault(key, []).append(flag)


def duplicate_emails(sobject: str, records: Iterable[Record], email_field: str) -> Flags:
    """Flag every person whose email another person of the same object also has.

    Both are written (``DUPLICATE_EMAIL``); merging is a decision for a person in Dynamics.
    """
    groups: dict[str, list[str]] = {}
    for rec in records:
        email = _email(rec, email_field)
        if email:
            groups.setdefault(email, []).append(str(rec["Id"]))
    flags: Flags = {}
    for email, ids in groups.items():
        if len(ids) < 2:
            continue
        for sf_id in ids:
            others = [i for i in ids if i != sf_id]
            shown = ", ".join(others[:5]) + (
                f" and {len(others) - 5} more" if len(others) > 5 else ""
            )
            _add(
                flags,
                (sobject, sf_id),
                Flag(
                    "DUPLICATE_EMAIL",
                    f"{sobject} {sf_id}: {email_field} '{email}' is shared with {shown}",
                    email_field,
                    email,
                    "merge in Dynamics after review",
                ),
            )
    return flags


def missing_external_ids(
    sobject: str, records: Iterable[Record], external_id_field: str, created_by_sync_field: str
) -> Flags:
    """Flag records the sync created that carry no originating external id (review candidates)."""
    flags: Flags = {}
    for rec in records:
        if rec.get(created_by_sync_field) and not rec.get(external_id_field):
            sf_id = str(rec["Id"])
            _add(
                flags,
                (sobject, sf_id),
                Flag(
                    "NO_EXTERNAL_ID",
                    f"{sobject} {sf_id} was created by the Leadfwd sync and has no "
                    f"{external_id_field}",
                    external_id_field,
                    None,
                    "review as a de-duplication candidate before cutover",
                ),
            )
    return flags


def lead_contact_overlap(
    contacts: Iterable[Record], leads: Iterable[Record], email_field: str, policy: str
) -> Flags:
    """Apply the Lead–Contact split rule to people present as both (same email).

    ``both`` writes both and reports it on the lead (naming the contact); ``contact_wins``
    skips the lead, ``lead_wins`` skips the contact (``skipped_by_policy``), naming the record
    that was kept.
    """
    by_email: dict[str, list[str]] = {}
    for rec in contacts:
        if e := _email(rec, email_field):
            by_email.setdefault(e, []).append(str(rec["Id"]))
    flags: Flags = {}
    for lead in leads:
        email = _email(lead, email_field)
        contact_ids = by_email.get(email) if email else None
        if not contact_ids:
            continue
        lead_id = str(lead["Id"])
        pairs = [("Lead", lead_id, ", ".join(contact_ids))]
        if policy == "lead_wins":
            pairs += [("Contact", c, lead_id) for c in contact_ids]
        for sobject, sf_id, other in pairs:
            loses = (policy == "contact_wins" and sobject == "Lead") or (
                policy == "lead_wins" and sobject == "Contact"
            )
            _add(
                flags,
                (sobject, sf_id),
                Flag(
                    "LEAD_CONTACT_SAME_PERSON",
                    f"{sobject} {sf_id}: {email_field} '{email}' is also on "
                    f"{'contact' if sobject == 'Lead' else 'lead'} {other}"
                    + (f"; not migrated (policy {policy})" if loses else ""),
                    email_field,
                    email,
                    "decide in Dynamics whether to qualify the lead or close it",
                    "skipped_by_policy" if loses else "written_with_fallback",
                ),
            )
    return flags


def converted_leads(leads: Iterable[Record], policies: Policies) -> Flags:
    """Leads Salesforce already converted: skipped (default) or migrated with an entry."""
    flags: Flags = {}
    field = policies.converted_field
    for lead in leads:
        if lead.get(field) is True:
            sf_id = str(lead["Id"])
            skip = policies.converted_leads == "skip"
            _add(
                flags,
                ("Lead", sf_id),
                Flag(
                    "CONVERTED_LEAD",
                    f"Lead {sf_id} was converted in Salesforce; "
                    + (
                        "not migrated (policy converted_leads: skip)"
                        if skip
                        else "migrated and closed as qualified (policy converted_leads: migrate)"
                    ),
                    field,
                    True,
                    None,
                    "skipped_by_policy" if skip else "written_with_fallback",
                ),
            )
    return flags


def parent_cycles(
    sobject: str, records: Iterable[Record], parent_field: str = "ParentId"
) -> tuple[Flags, set[tuple[str, str, str]]]:
    """Find circular parent chains; cut the link that closes each cycle.

    In every cycle the member with the smallest id keeps no parent (a self-parent loses its
    own link), so the cut is the same on every run. Returns flags and ``(object, id, field)``
    links not to write.
    """
    parent = {str(r["Id"]): str(r[parent_field]) for r in records if r.get(parent_field)}
    flags: Flags = {}
    cuts: set[tuple[str, str, str]] = set()
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in parent:
        path: list[str] = []
        node: str | None = start
        while node is not None and node in parent and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = parent[node]
        if node is not None and state.get(node) == 1:
            cycle = path[path.index(node) :]
            cut = min(cycle)
            cuts.add((sobject, cut, parent_field))
            at = cycle.index(cut)
            cycle = cycle[at:] + cycle[:at]
            chain = " → ".join([*cycle, cycle[0]])
            _add(
                flags,
                (sobject, cut),
                Flag(
                    "PARENT_CYCLE",
                    f"{sobject} {cut}: {parent_field} {parent[cut]} closes a circular parent "
                    f"chain ({chain}); written without a parent",
                    parent_field,
                    parent[cut],
                    "choose the real parent in Dynamics",
                ),
            )
        for n in path:
            state[n] = 2
    return flags, cuts


def superseded(
    sobject: str,
    records: Iterable[Record],
    by_object: str,
    by_records: Iterable[Record],
    by_field: str,
    taken: Callable[[Record], bool],
) -> Flags:
    """Skip records another object migrates more fully (``superseded_by`` in the mapping).

    Only records ``taken`` by the entry (its route) are considered, so a Task of subtype Call
    is never skipped because an EmailMessage happens to point at it.
    """
    refs = {str(r[by_field]) for r in by_records if r.get(by_field)}
    flags: Flags = {}
    for rec in records:
        sf_id = str(rec["Id"])
        if sf_id in refs and taken(rec):
            _add(
                flags,
                (sobject, sf_id),
                Flag(
                    "SUPERSEDED",
                    f"{sobject} {sf_id} is migrated as the {by_object} whose {by_field} "
                    "points at it; not written twice",
                    by_field,
                    sf_id,
                    None,
                    "skipped_by_policy",
                ),
            )
    return flags


def merge(*parts: Flags) -> dict[FlagKey, tuple[Flag, ...]]:
    """Combine pre-pass results into the context's ``flags``."""
    out: dict[FlagKey, list[Flag]] = {}
    for part in parts:
        for key, flags in part.items():
            out.setdefault(key, []).extend(flags)
    return {k: tuple(v) for k, v in out.items()}
