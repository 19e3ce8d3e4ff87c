"""Build the :class:`ResolutionContext` of a run from its staged records and target users.

Runs the pre-passes of ``shared.mapping.dedup`` once over all staged people and companies, so
every later transform decision (skip, fallback, cut link) is known before the first write.

Memory: each object's records are read in one streaming pass. Only the ids are kept for every
object, plus, for the few objects a pre-pass reads (people, companies with parents, records a
``superseded_by`` names), a slim copy holding ``Id`` and the fields those pre-passes read. A
run never holds whole staged records of an object in memory at once (engagement events, half
of an org, leave nothing but their ids).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from shared.ids import target_id, to_18
from shared.mapping import dedup
from shared.mapping.activities import matches
from shared.mapping.context import DynamicsUser, ResolutionContext, users_by_email
from shared.mapping.models import Mapping as MappingFile
from shared.mapping.models import RouteMap

Record = Mapping[str, Any]


def _taken_by(route: RouteMap | None) -> Callable[[Record], bool]:
    return lambda rec: route is None or matches(route, rec)


def fields_read(mapping: MappingFile) -> dict[str, frozenset[str]]:
    """Per Salesforce object, the fields the pre-passes of :func:`build_context` read.

    Objects not listed are only counted for their ids (``present``/``migrated``).
    """
    dd, policies = mapping.dedup, mapping.policies
    need: dict[str, set[str]] = {}

    def add(obj: str, *names: str | None) -> None:
        need.setdefault(obj, {"Id"}).update(n for n in names if n)

    for person in dd.people:
        add(person, dd.email_field)
        if dd.external_id_field and dd.created_by_sync_field:
            add(person, dd.external_id_field, dd.created_by_sync_field)
    add("Lead", dd.email_field, policies.converted_field)
    add("Contact", dd.email_field)
    for obj in mapping.objects:
        if obj.superseded_by is not None:
            add(obj.source, obj.route.field if obj.route is not None else None)
            add(obj.superseded_by.object, obj.superseded_by.field)
        for lk in obj.lookups:
            if lk.object == obj.name:
                add(obj.source, lk.source)
        if obj.target in ("contact", "lead") and obj.route is None:
            add(obj.source, dd.email_field)
    return {obj: frozenset(names) for obj, names in need.items()}


def _one_pass(
    records: Iterable[Record], deleted_field: str, keep: frozenset[str] | None
) -> tuple[frozenset[str], list[Record] | None]:
    """The live ids of one object and, when ``keep`` is given, slim live records.

    Iterates ``records`` exactly once, so a generator over the stage streams.
    """
    ids: list[str] = []
    slim: list[Record] | None = None if keep is None else []
    for rec in records:
        if rec.get(deleted_field):
            continue
        ids.append(to_18(str(rec["Id"])))
        if slim is not None and keep is not None:
            slim.append({k: rec[k] for k in keep if k in rec})
    return frozenset(ids), slim


def build_context(
    records: Mapping[str, Iterable[Record]],
    mapping: MappingFile,
    *,
    namespace: uuid.UUID,
    users: Iterable[Mapping[str, Any]] = (),
    fallback_owner_email: str | None = None,
    run_id: str = "run",
) -> ResolutionContext:
    """Run the pre-passes and collect what the transform resolves against.

    Args:
        records: Staged records per Salesforce object (every object of the extraction plan).
            Each is iterated once, so it may be a generator reading the stage.
        mapping: The confirmed mapping (policies, dedup fields, self-lookups).
        namespace: ``shared.ids.org_namespace`` of the source org.
        users: ``systemuser`` rows (``systemuserid``, ``internalemailaddress``,
            ``isdisabled``) read from the target.
        fallback_owner_email: ``dataverse.fallback_owner_email``.
        run_id: The run, for stage keys of file bodies.
    """
    deleted = mapping.policies.deleted_field
    wanted = fields_read(mapping)
    live: dict[str, list[Record]] = {}
    present: dict[str, frozenset[str]] = {}
    for sobject, recs in records.items():
        present[sobject], slim = _one_pass(recs, deleted, wanted.get(sobject))
        if slim is not None:
            live[sobject] = slim
    dd = mapping.dedup
    parts: list[dedup.Flags] = []
    for person in dd.people:
        recs = live.get(person, [])
        parts.append(dedup.duplicate_emails(person, recs, dd.email_field))
        if dd.external_id_field and dd.created_by_sync_field:
            parts.append(
                dedup.missing_external_ids(
                    person, recs, dd.external_id_field, dd.created_by_sync_field
                )
            )
    parts.append(dedup.converted_leads(live.get("Lead", []), mapping.policies))
    parts.append(
        dedup.lead_contact_overlap(
            live.get("Contact", []),
            [
                r
                for r in live.get("Lead", [])
                if r.get(mapping.policies.converted_field) is not True
            ],
            dd.email_field,
            mapping.policies.lead_contact_same_person,
        )
    )
    cuts: set[tuple[str, str, str]] = set()
    for obj in mapping.objects:
        sup = obj.superseded_by
        if sup is not None:
            route = obj.route
            parts.append(
                dedup.superseded(
                    obj.source,
                    live.get(obj.source, []),
                    sup.object,
                    live.get(sup.object, []),
                    sup.field,
                    _taken_by(route),
                )
            )
    for obj in mapping.objects:
        for lk in obj.lookups:
            if lk.object == obj.name:
                cyc, cut = dedup.parent_cycles(obj.source, live.get(obj.source, []), lk.source)
                parts.append(cyc)
                cuts |= cut
    flags = dedup.merge(*parts)
    skipped = {
        key for key, fl in flags.items() if any(f.outcome == "skipped_by_policy" for f in fl)
    }
    sources = {o.source for o in mapping.objects}
    skipped_by_object: dict[str, set[str]] = {}
    for sobject, sf_id in skipped:
        skipped_by_object.setdefault(sobject, set()).add(sf_id)
    # An object without skips shares its id set with ``present`` (one copy, not two).
    migrated = {
        name: ids - skipped_by_object[name] if name in skipped_by_object else ids
        for name, ids in present.items()
        if name in sources
    }
    addresses: dict[str, tuple[str, str]] = {}
    for obj in mapping.objects:
        if obj.target not in ("contact", "lead") or obj.route is not None:
            continue
        for rec in live.get(obj.source, []):
            email = rec.get(dd.email_field)
            sf_id = to_18(str(rec["Id"]))
            if isinstance(email, str) and email.strip() and sf_id in migrated.get(obj.source, ()):
                addresses.setdefault(
                    email.strip().lower(),
                    (obj.entity_set, target_id(namespace, obj.source, sf_id)),
                )
    by_email = users_by_email(list(users))
    fallback: DynamicsUser | None = (
        by_email.get(fallback_owner_email.strip().lower()) if fallback_owner_email else None
    )
    return ResolutionContext(
        namespace=namespace,
        run_id=run_id,
        migrated=migrated,
        present=present,
        users=by_email,
        fallback_owner=fallback,
        flags=flags,
        cut_links=frozenset(cuts),
        addresses=addresses,
    )
