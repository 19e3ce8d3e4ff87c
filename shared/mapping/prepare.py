"""Build the :class:`ResolutionContext` of a run from its staged records and target users.

Runs the pre-passes of ``shared.mapping.dedup`` once over all staged people and companies, so
every later transform decision (skip, fallback, cut link) is known before the first write.
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
        mapping: The confirmed mapping (policies, dedup fields, self-lookups).
        namespace: ``shared.ids.org_namespace`` of the source org.
        users: ``systemuser`` rows (``systemuserid``, ``internalemailaddress``,
            ``isdisabled``) read from the target.
        fallback_owner_email: ``dataverse.fallback_owner_email``.
        run_id: The run, for stage keys of file bodies.
    """
    deleted = mapping.policies.deleted_field
    live = {obj: dedup.live(recs, deleted) for obj, recs in records.items()}
    present = {obj: frozenset(to_18(str(r["Id"])) for r in recs) for obj, recs in live.items()}
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
    migrated = {
        obj: frozenset(i for i in ids if (obj, i) not in skipped)
        for obj, ids in present.items()
        if obj in sources
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
