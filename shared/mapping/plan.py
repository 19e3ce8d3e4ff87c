"""What to extract and in which order to load, derived from the mapping (never hand-written).

``extraction_plan`` tells extraction which fields of which objects the mapping reads (so the
mapping drives extraction: a field added to the map is extracted on the next run).
``plan_phases`` orders the mapped objects by their lookups: a parent is loaded in an earlier
phase than its children; self-references (account → parent account) and cycles are bound in a
second pass once every row of the phase exists (ARCHITECTURE decision 4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.mapping.models import Mapping, ObjectMap


@dataclass(frozen=True)
class ObjectExtraction:
    """One Salesforce object to extract, with every field any mapped entry reads.

    Attributes:
        object: Salesforce API name.
        fields: Field names, ``Id`` first, including dotted relationship paths.
        where: SOQL condition from the mapping's ``filter`` (None: every record).
        include_deleted: Use ``queryAll`` (archived activities, deleted records).
        depends_on: Salesforce objects whose ids this one references.
        file_body: ``{"object": "ContentVersion"|"Attachment", "id_field": ...}`` or None.
        parent_filter: ``{"field": "LinkedEntityId", "parents": [...]}`` or None.
    """

    object: str
    fields: list[str]
    where: str | None = None
    include_deleted: bool = False
    depends_on: list[str] = field(default_factory=list)
    file_body: dict[str, str] | None = None
    parent_filter: dict[str, Any] | None = None


@dataclass(frozen=True)
class Phase:
    """Mapped objects loaded together; the next phase starts after this one reconciles.

    Attributes:
        index: 1-based phase number.
        objects: Mapping entry names in this phase, in file order.
        sources: Their Salesforce objects (deduplicated, in order).
        second_pass: ``(entry name, navigation)`` binds written after the phase's rows exist.
    """

    index: int
    objects: tuple[str, ...]
    sources: tuple[str, ...]
    second_pass: tuple[tuple[str, str], ...] = ()


def _unique(items: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return list(seen)


def object_parents(obj: ObjectMap) -> list[str]:
    """Mapping entry names this entry's rows point at (lookups and parent candidates)."""
    refs: list[str | None] = [lk.object for lk in obj.lookups]
    for cand in obj.parent.candidates if obj.parent else []:
        refs.extend([cand.object] if cand.object else list((cand.types or {}).values()))
    return _unique(refs)


def _fields_of(obj: ObjectMap, mapping: Mapping) -> list[str]:
    out: list[str | None] = ["Id"]
    for fm in obj.fields:
        out.append(fm.source)
        out.extend(fm.sources or [])
    out.extend(lk.source for lk in obj.lookups)
    for cand in obj.parent.candidates if obj.parent else []:
        out.extend([cand.source, cand.type_field])
    if obj.owner:
        out.extend([obj.owner.email, obj.owner.active])
    if obj.route:
        out.append(obj.route.field)
    for rule in obj.close:
        out.extend(w.field for w in rule.when)
    out.extend(chk.source for chk in obj.checks)
    if obj.parties:
        for role in (obj.parties.from_, obj.parties.to, obj.parties.cc, obj.parties.bcc):
            names = [role] if isinstance(role, str) else role or []
            out.extend(n for n in names if not n.startswith("$"))
    if obj.file:
        f = obj.file
        out.extend([f.id_field, f.filename, f.size_field, f.extension_field, f.mimetype])
    out.extend(obj.extra_fields)
    if obj.source in mapping.dedup.people:
        out.extend(
            [
                mapping.dedup.email_field,
                mapping.dedup.external_id_field,
                mapping.dedup.created_by_sync_field,
            ]
        )
    if obj.source == "Lead":
        out.append(mapping.policies.converted_field)
    if obj.include_deleted:
        out.append(mapping.policies.deleted_field)
    return _unique(out)


def extraction_plan(mapping: Mapping) -> list[ObjectExtraction]:
    """One :class:`ObjectExtraction` per Salesforce object the mapping reads, parents first.

    Entries sharing a source (routes such as Task → task / phonecall / email) are merged: the
    union of their fields, ``queryAll`` if any needs it, and no filter unless all have one.
    Objects only named by reference checks (e.g. ``leadfwd__Sequence__c``) are extracted with
    their ``Id`` so the transform knows which still exist.
    """
    by_source: dict[str, list[ObjectMap]] = {}
    for obj in mapping.objects:
        by_source.setdefault(obj.source, []).append(obj)
    plans: dict[str, ObjectExtraction] = {}
    for source, entries in by_source.items():
        fields = _unique(f for e in entries for f in _fields_of(e, mapping))
        filters = [e.filter for e in entries]
        where = (
            None
            if any(f is None for f in filters)
            else " OR ".join(f"({f})" for f in _unique(filters))
            if len(_unique(filters)) > 1
            else filters[0]
        )
        depends = _unique(mapping.by_name(p).source for e in entries for p in object_parents(e))
        depends += _unique(c.object for e in entries for c in e.checks)
        file_entry = next((e.file for e in entries if e.file), None)
        pf = next((e.parent_filter for e in entries if e.parent_filter), None)
        plans[source] = ObjectExtraction(
            object=source,
            fields=fields,
            where=where,
            include_deleted=any(e.include_deleted for e in entries),
            depends_on=[d for d in _unique(depends) if d != source],
            file_body=(
                {"object": file_entry.object, "id_field": file_entry.id_field}
                if file_entry
                else None
            ),
            parent_filter=({"field": pf.field, "parents": list(pf.parents)} if pf else None),
        )
    for obj in mapping.objects:
        for chk in obj.checks:
            if chk.object not in plans:
                plans[chk.object] = ObjectExtraction(object=chk.object, fields=["Id"])
        sup = obj.superseded_by
        if sup is not None:
            if sup.object not in plans:
                plans[sup.object] = ObjectExtraction(object=sup.object, fields=["Id"])
            if sup.field not in plans[sup.object].fields:
                plans[sup.object].fields.append(sup.field)
    return _order(plans)


def _order(plans: dict[str, ObjectExtraction]) -> list[ObjectExtraction]:
    done: list[str] = []
    pending = list(plans)
    while pending:
        ready = [
            p for p in pending if all(d in done or d not in plans for d in plans[p].depends_on)
        ]
        if not ready:  # a cycle between objects: keep file order for the rest
            ready = pending[:1]
        for name in ready:
            done.append(name)
            pending.remove(name)
    return [plans[n] for n in done]


def plan_phases(mapping: Mapping) -> list[Phase]:
    """Load phases in dependency order derived from lookups and parent candidates.

    Self-references, and references inside a cycle of entries, go to the phase's second pass
    (their navigation is bound after every row of the phase exists); parent candidates of
    activities and notes never form cycles because their parents are records.
    """
    deps = {o.name: [p for p in object_parents(o) if p != o.name] for o in mapping.objects}
    placed: set[str] = set()
    phases: list[Phase] = []
    pending = [o.name for o in mapping.objects]
    while pending:
        ready = [n for n in pending if all(d in placed for d in deps[n])]
        cyclic = not ready
        if cyclic:
            ready = list(pending)
        members = set(ready)
        second: list[tuple[str, str]] = []
        for name in ready:
            for lk in mapping.by_name(name).lookups:
                if lk.object == name or (cyclic and lk.object in members):
                    second.append((name, lk.nav))
        phases.append(
            Phase(
                index=len(phases) + 1,
                objects=tuple(ready),
                sources=tuple(_unique(mapping.by_name(n).source for n in ready)),
                second_pass=tuple(second),
            )
        )
        placed |= members
        pending = [n for n in pending if n not in members]
    return phases


def second_pass_navs(mapping: Mapping) -> dict[str, frozenset[str]]:
    """Per entry name, the navigations bound in the second pass (see :func:`plan_phases`)."""
    out: dict[str, set[str]] = {}
    for phase in plan_phases(mapping):
        for name, nav in phase.second_pass:
            out.setdefault(name, set()).add(nav)
    return {k: frozenset(v) for k, v in out.items()}
