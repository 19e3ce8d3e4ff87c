"""The pure transform: (staged source record, compiled mapping, context) → row or rejection.

``compile_mapping`` turns the mapping and the live target metadata into small closures once per
run; :meth:`CompiledMapping.transform` then maps one record with no I/O, no clock and no
mutation of its input, so the same stage always gives the same rows. A record that cannot land
becomes a :class:`~shared.rows.Rejection` naming the record, field, value and what to do; a
record written with a fallback carries :class:`~shared.rows.ReportEntry` values.
"""

from __future__ import annotations

import hashlib
import mimetypes
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.ids import target_id, to_18
from shared.mapping.activities import close_state, matches, parent_nav, resolve_parties, sobject_of
from shared.mapping.context import ResolutionContext
from shared.mapping.fields import FieldOutcome, FieldPlan, compile_field
from shared.mapping.models import Mapping as MappingFile
from shared.mapping.models import ObjectMap
from shared.mapping.owners import OwnerResolution, resolve_owner
from shared.mapping.plan import second_pass_navs
from shared.mapping.target_metadata import TargetMetadata
from shared.mapping.types import Note, ValueProblemError
from shared.mapping.validate import ensure_valid
from shared.rows import FileRef, Rejection, ReportEntry, TargetRow

Record = Mapping[str, Any]


@dataclass(frozen=True)
class _Lookup:
    source: str
    parent_source: str
    entity_set: str
    nav: str
    required: bool
    second_pass: bool


@dataclass(frozen=True)
class _Candidate:
    source: str
    type_field: str | None
    fixed: tuple[str, str, str] | None  # (sobject, table, entity set)
    types: Mapping[str, tuple[str, str, str]]


def fast_target_id(namespace: uuid.UUID, sobject: str, sf_id: str) -> str:
    """``shared.ids.target_id`` for an 18-character id, without building a ``uuid.UUID``.

    Same uuid5 (SHA-1, version 5, RFC 4122 variant); about 3x faster, which matters at
    50,000 records/s. A test keeps it equal to ``shared.ids.target_id``.
    """
    digest = bytearray(
        hashlib.sha1(
            namespace.bytes + f"{sobject}:{sf_id}".encode(), usedforsecurity=False
        ).digest()
    )
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


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
        self._ids: dict[tuple[uuid.UUID, str, str], str] = {}
        self._owner_ctx: ResolutionContext | None = None
        parties = obj.parties
        self._parties: dict[str, str | list[str] | None] | None = (
            {"from_": parties.from_, "to": parties.to, "cc": parties.cc, "bcc": parties.bcc}
            if parties
            else None
        )
        self._owners: dict[tuple[Any, Any], OwnerResolution] = {}
        self.lookups = [
            _Lookup(
                lk.source,
                mapping.by_name(lk.object).source,
                mapping.by_name(lk.object).entity_set,
                lk.nav,
                lk.required,
                lk.nav in second,
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

    def transform(self, record: Record, ctx: ResolutionContext) -> TargetRow | Rejection:
        """Map one staged record (see the module docstring)."""
        obj = self.obj
        sf_id = to_18(str(record["Id"]))
        entries: list[ReportEntry] = []
        try:
            for flag in ctx.flags.get((self.source, sf_id), ()):
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
            payload = self._fields(record, sf_id, entries)
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
            id=fast_target_id(ctx.namespace, self.source, sf_id),
            source_object=self.source,
            source_id=sf_id,
            payload=payload,
            second_pass=second,
            close=close_state(obj.close, record) if obj.close else None,
            file=file,
            entries=tuple(entries),
        )

    def _fields(self, record: Record, sf_id: str, entries: list[ReportEntry]) -> dict[str, Any]:
        # The hot loop: plain reads and converters; anything unusual takes FieldPlan.apply.
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
        for lk in self.lookups:
            value = record.get(lk.source)
            if not value:
                continue
            if (self.source, sf_id, lk.source) in ctx.cut_links:
                continue  # PARENT_CYCLE entry comes from the pre-pass flags
            parent = to_18(str(value))
            if ctx.is_migrated(lk.parent_source, parent):
                bind = f"/{lk.entity_set}({self._target_id(ctx, lk.parent_source, parent)})"
                (second if lk.second_pass else payload)[f"{lk.nav}@odata.bind"] = bind
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

    def _target_id(self, ctx: ResolutionContext, sobject: str, sf_id: str) -> str:
        # Parents repeat across records (many contacts, one account): compute each id once.
        key = (ctx.namespace, sobject, sf_id)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = target_id(ctx.namespace, sobject, sf_id)
        return found

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
            payload[f"{nav}@odata.bind"] = f"/{entity_set}({self._target_id(ctx, sobject, ref_id)})"
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
        if self._owner_ctx is not ctx:
            self._owner_ctx, self._owners = ctx, {}
        res = self._owners.get((email, active))
        if res is None:
            res = self._owners[(email, active)] = resolve_owner(email, active, ctx)
        if res.user is None:
            raise _RejectError(
                res.reason_code or "OWNER_UNMAPPED",
                spec.email,
                email,
                f"{self.source} {sf_id}: {res.message}",
                res.hint or "",
            )
        payload["ownerid@odata.bind"] = f"/systemusers({res.user.id})"
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


class CompiledMapping:
    """A mapping compiled against the live target; routes records to their entry."""

    def __init__(self, mapping: MappingFile, objects: list[CompiledObject]) -> None:
        self.mapping = mapping
        self.objects = objects
        self.by_source: dict[str, list[CompiledObject]] = {}
        for comp in objects:
            self.by_source.setdefault(comp.source, []).append(comp)

    def entry_for(self, source: str, record: Record) -> CompiledObject | None:
        """The entry whose route takes this record (None: no route matches)."""
        for comp in self.by_source.get(source, ()):
            if comp.obj.route is None or matches(comp.obj.route, record):
                return comp
        return None

    def transform(
        self, source: str, record: Record, ctx: ResolutionContext
    ) -> TargetRow | Rejection:
        """Transform one staged record of Salesforce object ``source``."""
        deleted = self.mapping.policies.deleted_field
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
        comp = self.entry_for(source, record)
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
        return comp.transform(record, ctx)

    def transform_batch(
        self, source: str, records: Iterable[Record], ctx: ResolutionContext
    ) -> TransformResult:
        """Transform a batch; every record ends in exactly one of rows or rejections."""
        result = TransformResult()
        for record in records:
            out = self.transform(source, record, ctx)
            if isinstance(out, TargetRow):
                result.rows.append(out)
            else:
                result.rejections.append(out)
        return result


def compile_mapping(
    mapping: MappingFile, metadata: TargetMetadata | None, *, check: bool = True
) -> CompiledMapping:
    """Compile a mapping against the live metadata (read once per run).

    Args:
        mapping: The confirmed mapping.
        metadata: The target's tables; None compiles without per-column limits (dry runs
            before the environment exists: no MaxLength, range or required checks).
        check: Validate the mapping against ``metadata`` first.

    Raises:
        SchemaError: the mapping does not fit the target (every problem listed).
    """
    if metadata is not None and check:
        ensure_valid(mapping, metadata)
    second = second_pass_navs(mapping)
    return CompiledMapping(
        mapping,
        [
            CompiledObject(o, mapping, metadata, second.get(o.name, frozenset()))
            for o in mapping.objects
        ],
    )
