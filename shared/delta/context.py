"""The resolution context of a delta: the previous run's, updated by what changed. Pure.

A delta stages only changed records, so the pre-passes over them alone would not know about
the parents, owners and addresses that earlier runs migrated. The delta's context is the
previous run's context with every changed or deleted record's old facts taken out and the
facts the pre-passes found for the changed records put in:

- ``migrated`` / ``present``: previous ids − changed − deleted, ∪ the changed records' own;
- ``flags`` and ``cut_links`` of changed records come from the delta's pre-passes;
- ``addresses`` (email parties): the previous ones, minus those of changed or deleted
  people, plus those of changed people;
- ``users`` and the fallback owner: read from the target again by the delta.

Cross-record pre-passes (duplicate emails, lead/contact overlap) compare changed records with
each other; a changed record is also checked against the previous ``addresses``, so a changed
contact that now shares an email with an earlier migrated person is reported
(``DUPLICATE_EMAIL``) — never merged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import replace

from shared.ids import target_id
from shared.mapping.context import Flag, FlagKey, ResolutionContext

__all__ = ["merge_context"]


def _ids(values: Iterable[str]) -> set[str]:
    return set(values)


def merge_context(
    previous: ResolutionContext,
    delta: ResolutionContext,
    *,
    changed: Mapping[str, Set[str]],
    deleted: Mapping[str, Set[str]],
    email_of: Mapping[tuple[str, str], str] | None = None,
    email_field: str = "Email",
) -> ResolutionContext:
    """The context a delta transforms against.

    Args:
        previous: Context of the run the delta continues from.
        delta: Context the pre-passes built from the delta's staged records alone.
        changed: Per Salesforce object, ids of every staged record (alive or deleted).
        deleted: Per Salesforce object, ids deleted in the source (window or full compare).
        email_of: (object, id) → lowercase email of changed people, to report a changed
            person whose email an earlier migrated person already has.
        email_field: The mapping's email field (named in that report entry).
    """
    objects = set(previous.migrated) | set(delta.migrated)
    gone = {obj: set(changed.get(obj, ())) | set(deleted.get(obj, ())) for obj in objects}
    migrated = {
        obj: frozenset(
            (_ids(previous.migrated.get(obj, ())) - gone[obj]) | _ids(delta.migrated.get(obj, ()))
        )
        for obj in objects
    }
    present_objects = set(previous.present) | set(delta.present)
    present = {
        obj: frozenset(
            (
                _ids(previous.present.get(obj, ()))
                - set(changed.get(obj, ()))
                - set(deleted.get(obj, ()))
            )
            | _ids(delta.present.get(obj, ()))
        )
        for obj in present_objects
    }
    touched = {(obj, i) for obj, ids in gone.items() for i in ids}
    flags: dict[FlagKey, tuple[Flag, ...]] = {
        k: v for k, v in previous.flags.items() if k not in touched
    }
    flags.update(delta.flags)
    cut_links = frozenset(
        link for link in previous.cut_links if (link[0], link[1]) not in touched
    ) | frozenset(delta.cut_links)
    gone_targets = {
        target_id(previous.namespace, obj, i).lower() for obj, ids in gone.items() for i in ids
    }
    addresses = {
        email: ref for email, ref in previous.addresses.items() if ref[1] not in gone_targets
    }
    for (obj, sf_id), email in sorted((email_of or {}).items()):
        holder = addresses.get(email)
        if holder is None or holder[1] == target_id(previous.namespace, obj, sf_id).lower():
            continue
        flags[(obj, sf_id)] = (
            *flags.get((obj, sf_id), ()),
            Flag(
                reason_code="DUPLICATE_EMAIL",
                message=(
                    f"{obj} {sf_id} shares the email {email} with a record migrated earlier "
                    f"({holder[0]}({holder[1]})); both are kept"
                ),
                field=email_field,
                value=email,
                hint="merge them in Dynamics if they are the same person",
            ),
        )
    for email, ref in delta.addresses.items():
        addresses.setdefault(email, ref)
    return replace(
        delta,
        migrated=migrated,
        present=present,
        flags=flags,
        cut_links=cut_links,
        addresses=addresses,
    )
