"""The pure transform: (staged source record, compiled mapping, context) → row or rejection.

``compile_mapping`` turns the mapping and the live target metadata into small closures once per
run, and each entry's field maps into one generated function (``shared.mapping.codegen``);
:meth:`CompiledMapping.transform` then maps one record with no I/O, no clock and no mutation of
its input, so the same stage always gives the same rows. A record that cannot land
becomes a :class:`~shared.rows.Rejection` naming the record, field, value and what to do; a
record written with a fallback carries :class:`~shared.rows.ReportEntry` values.
"""

from __future__ import annotations

import contextlib
import mimetypes
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from shared.ids import to_18
from shared.mapping.activities import (
    close_state,
    matches,
    parent_nav,
    party_references,
    resolve_parties,
    sobject_of,
)
from shared.mapping.codegen import FieldsFunction, field_function, field_source
from shared.mapping.context import Flag, References, ResolutionContext
from shared.mapping.fields import FieldOutcome, FieldPlan, compile_field
from shared.mapping.memo import TargetIds, fast_target_id
from shared.mapping.models import Mapping as MappingFile
from shared.mapping.models import ObjectMap
from shared.mapping.owners import OwnerResolution, resolve_owner
from shared.mapping.plan import second_pass_navs
from shared.mapping.target_metadata import TargetMetadata
from shared.mapping.types import Note, ValueProblemError
from shared.mapping.validate import ensure_valid
from shared.rows import FileRef, Rejection, ReportEntry, TargetRow

Record = Mapping[str, Any]
__all__ = [
    "CompiledMapping",
    "CompiledObject",
    "TransformResult",
    "compile_mapping",
    "fast_target_id",
    "generated_source",
]

OWNER_MEMO_LIMIT = 1024
"""Owner resolutions remembered per entry and context (one per distinct owner email)."""


@dataclass(frozen=True)
class _Lookup:
    source: str
    parent_source: str
    entity_set: str
    nav: str
    required: bool
    second_pass: bool
    key: str  # "<nav>@odata.bind"


@dataclass(frozen=True)
class _Candidate:
    source: str
    type_field: str | None
    fixed: tuple[str, str, str] | None  # (sobject, table, entity set)
    types: Mapping[str, tuple[str, str, str]]


class _Owner(NamedTuple):
    resolution: OwnerResolution
    bind: str  # "/systemusers(<id>)"; empty when there is no usable owner


class _RejectError(Exception):
    def __init__(self, code: str, field: str | None, value: Any, message: str, hint: str) -> None:
        super().__init__(message)
        self.args_ = (code, field, value, message, hint)


@dataclass
class TransformResult:
    """Rows to write and records not written, for one batch; counts always add up."""

    rows: list[TargetRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Records seen."""
        return len(self.rows) + len(self.rejections)


class CompiledObject:
    """One mapping entry compiled against its target table."""

    def __init__(
        self,
        obj: ObjectMap,
        mapping: MappingFile,
        metadata: TargetMetadata | None,
        second: frozenset[str],
        *,
        ids: TargetIds | None = None,
        generated: bool = True,
    ) -> None:
        self.obj = obj
        self.source = obj.source
        self.table = obj.target
        self.entity_set = obj.entity_set
        table = metadata.tables.get(obj.target) if metadata else None
        self.fields: list[FieldPlan] = [
            compile_field(fm, table.column(fm.target) if table else None) for fm in obj.fields
        ]
        self._plans = [(p.source, p.target, p.convert, p, p.plain_text_limit) for p in self.fields]
        self.generated = generated
        self._map_fields: FieldsFunction = (
            field_function(obj.name, self.fields, self._outcomes)
            if generated
            else self._fields_reference
        )
        self.ids = ids if ids is not None else TargetIds()
        """Row ids and a bounded memo of parent binds, shared by the mapping's entries."""
        self._owner_memo: tuple[ResolutionContext | None, dict[tuple[Any, Any], _Owner]] = (
            None,
            {},
        )
        parties = obj.parties
        self._parties: dict[str, str | list[str] | None] | None = (
            {"from_": parties.from_, "to": parties.to, "cc": parties.cc, "bcc": parties.bcc}
            if parties
            else None
        )
        self.lookups = [
            _Lookup(
                lk.source,
                mapping.by_name(lk.object).source,
                mapping.by_name(lk.object).entity_set,
                lk.nav,
                lk.required,
                lk.nav in second,
                f"{lk.nav}@odata.bind",
            )
            for lk in obj.lookups
        ]

        def ref(name: str) -> tuple[str, str, str]:
            entry = mapping.by_name(name)
            return entry.source, entry.target, entry.entity_set

        self.candidates = [
            _Candidate(
                c.source,
                c.type_field,
                ref(c.object) if c.object else None,
                {sob: ref(name) for sob, name in (c.types or {}).items()},
            )
            for c in (obj.parent.candidates if obj.parent else [])
        ]
        self.people = {
            e.source: (e.target, e.entity_set, e.source)
            for e in mapping.objects
            if e.target in ("contact", "lead") and e.route is None
        }
        # Fields whose values the context is asked about (``CompiledMapping.references``).
        self.reference_fields = tuple(
            dict.fromkeys(
                [lk.source for lk in self.lookups]
                + [c.source for c in self.candidates]
                + [chk.source for chk in obj.checks]
            )
        )

    def transform(self, record: Record, ctx: ResolutionContext) -> TargetRow | Rejection:
        """Map one staged record (see the module docstring)."""
        return self._transform(record, to_18(str(record["Id"])), ctx)

    def _transform(
        self, record: Record, sf_id: str, ctx: ResolutionContext
    ) -> TargetRow | Rejection:
        obj = self.obj
        entries: list[ReportEntry] = []
        try:
            flags = ctx.flags.get((self.source, sf_id))
            if flags:
                skipped = self._flags(flags, sf_id, entries)
                if skipped is not None:
                    return skipped
            payload = self._map_fields(record, sf_id, entries)
            second = self._lookups(record, sf_id, ctx, payload, entries) if self.lookups else {}
            if self.candidates:
                self._parent(record, sf_id, ctx, payload, entries)
            owner = None
            if obj.owner:
                owner = self._owner(record, sf_id, ctx, payload, entries)
            if self._parties:
                parties = resolve_parties(self._parties, record, ctx, owner, self.people)
                if parties:
                    payload[f"{self.table}_activity_parties"] = parties
            if obj.checks:
                self._checks(record, sf_id, ctx, payload, entries)
            file = self._file(record, sf_id, ctx, payload, entries) if obj.file else None
        except _RejectError as rej:
            code, fld, value, message, hint = rej.args_
            return Rejection(self.source, sf_id, code, fld, value, message, hint)
        return TargetRow(
            table=self.table,
            entity_set=self.entity_set,
            id=self.ids.row_id(ctx.namespace, self.source, sf_id),
            source_object=self.source,
            source_id=sf_id,
            payload=payload,
            second_pass=second,
            close=close_state(obj.close, record) if obj.close else None,
            file=file,
            entries=tuple(entries) if entries else (),
        )

    def _flags(
        self, flags: Iterable[Flag], sf_id: str, entries: list[ReportEntry]
    ) -> Rejection | None:
        for flag in flags:
            if flag.outcome == "skipped_by_policy":
                return Rejection(
                    self.source,
                    sf_id,
                    flag.reason_code,
                    flag.field,
                    flag.value,
                    flag.message,
                    flag.hint or "change the policy in the mapping to migrate it",
                    "skipped_by_policy",
                )
            entries.append(
                ReportEntry(
                    flag.reason_code,
                    self.source,
                    sf_id,
                    flag.field,
                    flag.value,
                    flag.message,
                    flag.hint,
                )
            )
        return None

    def _fields_reference(
        self, record: Record, sf_id: str, entries: list[ReportEntry]
    ) -> dict[str, Any]:
        # The reference the generated field functions are tested against (compile_mapping(...,
        # generated=False)): plain reads and converters; anything unusual takes FieldPlan.apply.
        payload: dict[str, Any] = {}
        notes: list[Note] = []
        get = record.get
        for name, target, convert, plan, plain in self._plans:
            if name is None:
                self._outcomes(plan.apply(record, payload), sf_id, entries)
                continue
            value = get(name)
            if value is None or value == "":
                payload[target] = None
            elif convert is None or (
                plain >= 0 and type(value) is str and len(value) <= plain and value.isprintable()
            ):
                payload[target] = value
            else:
                try:
                    payload[target] = convert(value, notes)
                except ValueProblemError:
                    self._outcomes(plan.apply(record, payload), sf_id, entries)
                    continue
                if notes:
                    notes.clear()
                    self._outcomes(plan.apply(record, payload), sf_id, entries)
        return payload

    def _outcomes(self, outs: list[FieldOutcome], sf_id: str, entries: list[ReportEntry]) -> None:
        for out in outs:
            message = f"{self.source} {sf_id}: {out.message}"
            if out.reject:
                raise _RejectError(
                    out.reason_code,
                    out.field,
                    out.value,
                    message,
                    out.hint or "correct the value in Salesforce",
                )
            entries.append(
                ReportEntry(
                    out.reason_code, self.source, sf_id, out.field, out.value, message, out.hint
                )
            )

    def _lookups(
        self,
        record: Record,
        sf_id: str,
        ctx: ResolutionContext,
        payload: dict[str, Any],
        entries: list[ReportEntry],
    ) -> dict[str, Any]:
        second: dict[str, Any] = {}
        cut = ctx.cut_links
        for lk in self.lookups:
            value = record.get(lk.source)
            if not value:
                continue
            if cut and (self.source, sf_id, lk.source) in cut:
                continue  # PARENT_CYCLE entry comes from the pre-pass flags
            parent = to_18(str(value))
            if ctx.is_migrated(lk.parent_source, parent):
                bind = self.ids.bind(ctx.namespace, lk.entity_set, lk.parent_source, parent)
                (second if lk.second_pass else payload)[lk.key] = bind
                continue
            message = (
                f"{self.source} {sf_id}: {lk.source} {parent} ({lk.parent_source}) is deleted, "
                "does not exist or is not migrated"
            )
            if lk.required:
                raise _RejectError(
                    "ORPHAN_RECORD",
                    lk.source,
                    parent,
                    message,
                    "migrate the parent first, or fix the link in Salesforce",
                )
            entries.append(
                ReportEntry(
                    "LOOKUP_CLEARED",
                    self.source,
                    sf_id,
                    lk.source,
                    parent,
                    message + "; written without the link",
                    "fix the link in Salesforce and run a delta",
                )
            )
        return second

    def _parent(
        self,
        record: Record,
        sf_id: str,
        ctx: ResolutionContext,
        payload: dict[str, Any],
        entries: list[ReportEntry],
    ) -> None:
        assert self.obj.parent is not None
        binding = self.obj.parent.binding
        skipped: list[str] = []
        first_skipped: tuple[str, Any] | None = None
        for cand in self.candidates:
            value = record.get(cand.source)
            if not value:
                continue
            ref_id = to_18(str(value))
            target = cand.fixed
            if target is None:
                sob = sobject_of(ref_id, record.get(cand.type_field) if cand.type_field else None)
                target = cand.types.get(sob or "")
                if target is None:
                    skipped.append(f"{cand.source} {ref_id} ({sob or 'unknown object'})")
                    first_skipped = first_skipped or (cand.source, ref_id)
                    continue
            sobject, table, entity_set = target
            if not ctx.is_migrated(sobject, ref_id):
                skipped.append(f"{cand.source} {ref_id} ({sobject})")
                first_skipped = first_skipped or (cand.source, ref_id)
                continue
            nav = parent_nav(binding, table, self.table)
            payload[f"{nav}@odata.bind"] = self.ids.bind(ctx.namespace, entity_set, sobject, ref_id)
            if binding == "object":
                payload["objecttypecode"] = table
            if skipped and first_skipped:
                entries.append(
                    ReportEntry(
                        "REGARDING_FALLBACK",
                        self.source,
                        sf_id,
                        first_skipped[0],
                        first_skipped[1],
                        f"{self.source} {sf_id}: {'; '.join(skipped)} not migrated; attached to "
                        f"{table} {ref_id} instead",
                        None,
                    )
                )
            return
        if self.obj.parent and self.obj.parent.required:
            tried = "; ".join(skipped) if skipped else "no parent reference is set"
            raise _RejectError(
                "ORPHAN_RECORD",
                first_skipped[0] if first_skipped else self.candidates[0].source,
                first_skipped[1] if first_skipped else None,
                f"{self.source} {sf_id}: no surviving parent ({tried})",
                "restore the parent in Salesforce or migrate it, then run a delta",
            )
        if first_skipped:
            entries.append(
                ReportEntry(
                    "LOOKUP_CLEARED",
                    self.source,
                    sf_id,
                    first_skipped[0],
                    first_skipped[1],
                    f"{self.source} {sf_id}: {'; '.join(skipped)} not migrated; written unattached",
                    "fix the link in Salesforce and run a delta",
                )
            )

    def _owner(
        self,
        record: Record,
        sf_id: str,
        ctx: ResolutionContext,
        payload: dict[str, Any],
        entries: list[ReportEntry],
    ) -> Any:
        spec = self.obj.owner
        assert spec is not None
        email = record.get(spec.email)
        active = record.get(spec.active) if spec.active else None
        memo_ctx, memo = self._owner_memo
        if memo_ctx is not ctx:  # one tuple, so a thread never mixes two contexts' memos
            memo = {}
            self._owner_memo = (ctx, memo)
        key = (email, active)
        found = memo.get(key)
        if found is None:
            if len(memo) >= OWNER_MEMO_LIMIT:
                memo.clear()
            res = resolve_owner(email, active, ctx)
            found = memo[key] = _Owner(res, f"/systemusers({res.user.id})" if res.user else "")
        res, bind = found
        if res.user is None:
            raise _RejectError(
                res.reason_code or "OWNER_UNMAPPED",
                spec.email,
                email,
                f"{self.source} {sf_id}: {res.message}",
                res.hint or "",
            )
        payload["ownerid@odata.bind"] = bind
        if res.reason_code:
            entries.append(
                ReportEntry(
                    res.reason_code,
                    self.source,
                    sf_id,
                    spec.email,
                    email,
                    f"{self.source} {sf_id}: {res.message}",
                    res.hint,
                )
            )
        return res.user

    def _checks(
        self,
        record: Record,
        sf_id: str,
        ctx: ResolutionContext,
        payload: dict[str, Any],
        entries: list[ReportEntry],
    ) -> None:
        for chk in self.obj.checks:
            present = ctx.present.get(chk.object)
            if present is None:
                continue
            value = record.get(chk.source)
            if value and to_18(str(value)) in present:
                continue
            entries.append(
                ReportEntry(
                    chk.reason_code,
                    self.source,
                    sf_id,
                    chk.source,
                    value,
                    f"{self.source} {sf_id}: {chk.source} {value or '(empty)'} ({chk.object}) is "
                    "deleted or missing",
                    chk.text,
                )
            )
            if chk.append_to and chk.text:
                before = payload.get(chk.append_to)
                payload[chk.append_to] = f"{before}\n\n{chk.text}" if before else chk.text

    def _file(
        self,
        record: Record,
        sf_id: str,
        ctx: ResolutionContext,
        payload: dict[str, Any],
        entries: list[ReportEntry],
    ) -> FileRef | None:
        spec = self.obj.file
        assert spec is not None
        body_id = record.get(spec.id_field)
        name = str(record.get(spec.filename) or sf_id)
        ext = record.get(spec.extension_field) if spec.extension_field else None
        if ext and not name.lower().endswith("." + str(ext).lower()):
            name = f"{name}.{ext}"
        mime = (record.get(spec.mimetype) if spec.mimetype else None) or (
            mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        payload["filename"] = name
        payload["mimetype"] = mime
        size = record.get(spec.size_field)
        if not body_id:
            raise _RejectError(
                "ORPHAN_RECORD",
                spec.id_field,
                None,
                f"{self.source} {sf_id}: the file's body reference is empty",
                "check the file in Salesforce",
            )
        if not size:
            entries.append(
                ReportEntry(
                    "EMPTY_FILE",
                    self.source,
                    sf_id,
                    spec.size_field,
                    size,
                    f"{self.source} {sf_id}: file '{name}' is empty; the note is written without a "
                    "body",
                    None,
                )
            )
            return None
        return FileRef(
            stage_key=f"{ctx.run_id}/files/{spec.object}/{to_18(str(body_id))}",
            size=int(size),
            filename=name,
            mimetype=str(mime),
        )


def _as_ids(values: Iterable[Any]) -> set[str]:
    """Values as the transform looks them up: as written, and 15-character ids widened."""
    out = {str(v) for v in values if v}
    for short in [v for v in out if len(v) == 15]:
        with contextlib.suppress(ValueError):  # not an id: the transform rejects it
            out.add(to_18(short))
    return out


class CompiledMapping:
    """A mapping compiled against the live target; routes records to their entry."""

    def __init__(self, mapping: MappingFile, objects: list[CompiledObject]) -> None:
        self.mapping = mapping
        self.objects = objects
        self.by_source: dict[str, list[CompiledObject]] = {}
        for comp in objects:
            self.by_source.setdefault(comp.source, []).append(comp)
        self._deleted = mapping.policies.deleted_field
        # Sources with one entry and no route need no routing per record.
        self._only = {
            source: comps[0]
            for source, comps in self.by_source.items()
            if len(comps) == 1 and comps[0].obj.route is None
        }

    def entry_for(self, source: str, record: Record) -> CompiledObject | None:
        """The entry whose route takes this record (None: no route matches)."""
        for comp in self.by_source.get(source, ()):
            if comp.obj.route is None or matches(comp.obj.route, record):
                return comp
        return None

    def references(self, source: str, records: Iterable[Record]) -> References:
        """What transforming ``records`` (of ``source``) will ask the resolution context.

        Collected over every entry of the source, whichever route takes each record: a
        superset, so a context answering these answers the batch as the whole context does
        (``shared.run.context_index``). Column by column, so the per-record work is C's.
        """
        batch = records if isinstance(records, list) else list(records)
        comps = self.by_source.get(source, ())
        values: set[Any] = set()
        for name in dict.fromkeys(f for comp in comps for f in comp.reference_fields):
            values.update(record.get(name) for record in batch)
        ids = _as_ids(values)
        emails: set[str] = set()
        for spec in (comp._parties for comp in comps if comp._parties):
            for record in batch:
                party_references(spec, record, ids, emails)
        own = _as_ids({record.get("Id") for record in batch})
        return References(source, frozenset(own), frozenset(ids), frozenset(emails))

    def transform(
        self, source: str, record: Record, ctx: ResolutionContext
    ) -> TargetRow | Rejection:
        """Transform one staged record of Salesforce object ``source``."""
        deleted = self._deleted
        sf_id = to_18(str(record["Id"]))
        if record.get(deleted):
            return Rejection(
                source,
                sf_id,
                "SOURCE_DELETED",
                deleted,
                True,
                f"{source} {sf_id} is deleted in Salesforce; not migrated",
                "restore it in Salesforce and run a delta to migrate it",
                "skipped_by_policy",
            )
        comp = self._only.get(source) or self.entry_for(source, record)
        if comp is None:
            routes = self.by_source.get(source)
            if not routes:
                return Rejection(
                    source,
                    sf_id,
                    "INVALID_VALUE",
                    None,
                    None,
                    f"{source} {sf_id}: the mapping has no entry for {source}",
                    f"add an object entry for {source} to the mapping",
                )
            fld = routes[0].obj.route.field if routes[0].obj.route else None
            value = record.get(fld) if fld else None
            return Rejection(
                source,
                sf_id,
                "INVALID_VALUE",
                fld,
                value,
                f"{source} {sf_id}: {fld} '{value}' matches no route of the mapping",
                f"add '{value}' to the 'in' list of one of the {source} routes",
            )
        return comp._transform(record, sf_id, ctx)

    def transform_batch(
        self, source: str, records: Iterable[Record], ctx: ResolutionContext
    ) -> TransformResult:
        """Transform a batch; every record ends in exactly one of rows or rejections."""
        result = TransformResult()
        transform, rows, rejections = self.transform, result.rows, result.rejections
        for record in records:
            out = transform(source, record, ctx)
            if isinstance(out, TargetRow):
                rows.append(out)
            else:
                rejections.append(out)
        return result


def compile_mapping(
    mapping: MappingFile,
    metadata: TargetMetadata | None,
    *,
    check: bool = True,
    generated: bool = True,
) -> CompiledMapping:
    """Compile a mapping against the live metadata (read once per run).

    Args:
        mapping: The confirmed mapping.
        metadata: The target's tables; None compiles without per-column limits (dry runs
            before the environment exists: no MaxLength, range or required checks).
        check: Validate the mapping against ``metadata`` first.
        generated: Map fields with one generated function per entry (``shared.mapping.codegen``);
            False uses the interpretive reference path, which gives the same rows, slower.

    Raises:
        SchemaError: the mapping does not fit the target (every problem listed).
    """
    if metadata is not None and check:
        ensure_valid(mapping, metadata)
    second = second_pass_navs(mapping)
    ids = TargetIds()  # one bounded memo of parent binds for every entry
    return CompiledMapping(
        mapping,
        [
            CompiledObject(
                o,
                mapping,
                metadata,
                second.get(o.name, frozenset()),
                ids=ids,
                generated=generated,
            )
            for o in mapping.objects
        ],
    )


def generated_source(entry: CompiledObject) -> str:
    """The Python source of an entry's generated field function (for review and debugging)."""
    return field_source(entry.obj.name, entry.fields)
