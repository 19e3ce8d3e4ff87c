"""Decide, for every field of one source object, which column of one target table it fills.

Each decision is ``map`` (an existing column), ``new_column`` (propose a custom column of the
right type) or ``skip`` (a system field Salesforce maintains itself), with a confidence (0–1)
and the evidence behind it, so a person can check the reasoning rather than redo the work.

How a candidate column is scored (all pure, no I/O):

1. a curated correspondence (``dictionary``) wins outright when its column exists and the
   types are compatible;
2. otherwise ``similarity = 0.6·max(name, label) + 0.4·min(name, label)``, scaled by type
   compatibility (a column the type can never go into is not a candidate), plus or minus what
   sampled values say (``profiles``);
3. columns are assigned one-to-one, best score first, so ``emailaddress1`` is not proposed for
   two fields; a field whose best remaining score is below :data:`MAP_THRESHOLD` gets a new
   custom column instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from shared.mapping_review import dictionary
from shared.mapping_review.choices import ChoiceEntry, map_choices, new_choices
from shared.mapping_review.metadata import SourceField, SourceObject, TargetColumn, TargetTable
from shared.mapping_review.profiles import ValueProfile, fit, profile
from shared.mapping_review.similarity import (
    label_similarity,
    name_similarity,
    source_tokens,
    subject_conflict,
    type_compatibility,
    unit_conflict,
)

Action = Literal["map", "new_column", "skip"]

#: Below this score no existing column is proposed; a new custom column is.
MAP_THRESHOLD = 0.62
#: Decisions below this confidence are listed first in review and offered to the assistant.
LOW_CONFIDENCE = 0.7
#: Two candidates closer than this make the decision ambiguous (confidence is lowered).
AMBIGUITY_MARGIN = 0.04


@dataclass(frozen=True)
class Evidence:
    """One reason for (or against) a decision. ``weight`` is its signed effect on the score."""

    kind: str  # dictionary | name | label | type | profile | rule | ambiguity | assistant
    detail: str
    weight: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form for the proposal file."""
        return {"kind": self.kind, "detail": self.detail, "weight": round(self.weight, 3)}


@dataclass(frozen=True)
class NewColumn:
    """A custom column the proposal asks to create, typed from the source field."""

    logical_name: str
    attribute_type: str
    label: str
    format_name: str | None = None
    max_length: int | None = None
    targets: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form for the proposal file."""
        return {
            "logical_name": self.logical_name,
            "attribute_type": self.attribute_type,
            "label": self.label,
            "format_name": self.format_name,
            "max_length": self.max_length,
            "targets": list(self.targets),
        }


@dataclass(frozen=True)
class FieldDecision:
    """What happens to one source field on one object pair, and why."""

    source_object: str
    source_field: str
    source_label: str
    source_type: str
    target_table: str
    action: Action
    target_column: str | None
    confidence: float
    evidence: tuple[Evidence, ...]
    new_column: NewColumn | None = None
    alternatives: tuple[tuple[str, float], ...] = ()
    choices: tuple[ChoiceEntry, ...] = field(default_factory=tuple)

    @property
    def unmatched_choices(self) -> list[ChoiceEntry]:
        """Source picklist values with no destination option (must be resolved by a person)."""
        return [c for c in self.choices if c.how == "unmatched"]

    def to_dict(self) -> dict[str, object]:
        """One entry of ``<out>.proposal.json``."""
        return {
            "source_object": self.source_object,
            "source_field": self.source_field,
            "source_label": self.source_label,
            "source_type": self.source_type,
            "target_table": self.target_table,
            "target_column": self.target_column,
            "action": self.action,
            "confidence": round(self.confidence, 3),
            "evidence": [e.to_dict() for e in self.evidence],
            "new_column": self.new_column.to_dict() if self.new_column else None,
            "alternatives": [{"column": c, "score": round(s, 3)} for c, s in self.alternatives],
            "choices": [c.to_dict() for c in self.choices],
        }


@dataclass(frozen=True)
class MatchOptions:
    """Knobs the proposal passes down (from the Dataverse settings section)."""

    publisher_prefix: str = "lfwd"
    option_value_prefix: int = 72_700
    #: Salesforce object → Dataverse tables it is migrated to (for lookup targets).
    object_tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    use_dictionary: bool = True


@dataclass(frozen=True)
class _Candidate:
    column: TargetColumn
    score: float
    evidence: tuple[Evidence, ...]


def _reference_fit(f: SourceField, col: TargetColumn, opts: MatchOptions) -> float:
    if f.type != "reference" or not col.targets:
        return 1.0
    wanted = {t for r in f.reference_to for t in opts.object_tables.get(r, ())}
    if "User" in f.reference_to or "Group" in f.reference_to:
        wanted |= {"systemuser", "team"}
    return 1.0 if wanted & set(col.targets) else 0.5


def score_candidate(
    f: SourceField, col: TargetColumn, prof: ValueProfile, opts: MatchOptions
) -> _Candidate | None:
    """Score one column for one field; None when the types can never meet."""
    compat = type_compatibility(f, col)
    if compat <= 0.0:
        return None
    compat *= _reference_fit(f, col, opts)
    name, label = name_similarity(f, col), label_similarity(f, col)
    similarity = 0.6 * max(name, label) + 0.4 * min(name, label)
    score = similarity * (0.7 + 0.3 * compat)
    ev = [
        Evidence("name", f"name '{f.name}' ~ '{col.logical_name}' {name:.2f}", name),
        Evidence("label", f"label '{f.label}' ~ '{col.label}' {label:.2f}", label),
        Evidence("type", f"{f.type} → {_col_type(col)} compatibility {compat:.2f}", compat),
    ]
    subjects = subject_conflict(f, col)
    if subjects is not None:
        score *= 0.8
        ev.append(Evidence("name", f"different subjects: {subjects[0]} vs {subjects[1]}", -0.2))
    units = unit_conflict(f, col)
    if units is not None:
        score *= 0.75
        ev.append(Evidence("type", f"units differ: {units[0]} vs {units[1]}", -0.25))
    verdict = fit(prof, col.attribute_type, col.format_name)
    if verdict is not None:
        delta = 0.08 if verdict > 0 else 0.25 * verdict
        score += delta
        word = "fit" if verdict > 0 else "contradict"
        ev.append(Evidence("profile", f"{prof.describe()}: {word} {_col_type(col)}", delta))
    return _Candidate(col, max(0.0, min(score, 1.0)), tuple(ev))


def _col_type(col: TargetColumn) -> str:
    return f"{col.attribute_type}/{col.format_name}" if col.format_name else col.attribute_type


_SLUG = re.compile(r"[^a-z0-9]")


def new_column_for(f: SourceField, opts: MatchOptions) -> NewColumn:
    """The custom column a field needs when nothing existing fits, typed from the source."""
    slug = _SLUG.sub("", "".join(source_tokens(f.name)))
    if f.type == "id":
        slug = f"sf{f.object_name.lower()}id"
    name = f"{opts.publisher_prefix}_{slug}"
    kind: dict[str, tuple[str, str | None]] = {
        "string": ("String", "Text"),
        "id": ("String", "Text"),
        "encryptedstring": ("String", "Text"),
        "email": ("String", "Email"),
        "phone": ("String", "Phone"),
        "url": ("String", "Url"),
        "textarea": ("Memo", "TextArea"),
        "picklist": ("Picklist", None),
        "combobox": ("Picklist", None),
        "multipicklist": ("Virtual", "MultiSelectPicklist"),
        "boolean": ("Boolean", None),
        "int": ("Integer", None),
        "double": ("Decimal", None),
        "percent": ("Decimal", None),
        "currency": ("Money", None),
        "date": ("DateTime", "DateOnly"),
        "datetime": ("DateTime", "DateAndTime"),
        "reference": ("Lookup", None),
    }
    attr, fmt = kind.get(f.type, ("Memo", "TextArea"))
    if attr in {"Picklist", "Virtual"} and not f.picklist:
        attr, fmt = "String", "Text"  # no values described: keep whatever arrives as text
    if f.type == "double" and f.scale == 0 and 0 < f.precision <= 9:
        attr = "Integer"  # number(3,0) and the like: whole numbers
    length: int | None = None
    if attr == "String":
        length = max(f.length, 18 if f.type == "id" else 100) if f.length else 100
    elif attr == "Memo":
        length = max(f.length or 2000, 2000)
    targets = tuple(t for r in f.reference_to for t in opts.object_tables.get(r, ()))
    return NewColumn(name, attr, f.label, fmt, length, targets)


def _rule_decision(f: SourceField, table: TargetTable, opts: MatchOptions) -> FieldDecision | None:
    """Fields decided by rule before any scoring: ids, system fields, read-only fields."""

    def skip(why: str) -> FieldDecision:
        return _decision(f, table, "skip", None, 0.99, (Evidence("rule", why, 1.0),))

    if f.type == "id":
        col = new_column_for(f, opts)
        return _decision(
            f,
            table,
            "new_column",
            col.logical_name,
            0.99,
            (Evidence("rule", "Salesforce Id kept in a custom column for cross-reference", 1.0),),
            new=col,
        )
    if f.name in dictionary.SYSTEM_FIELDS:
        why = dictionary.SKIP_REASONS.get(f.name, "system field maintained by Salesforce")
        return skip(why)
    if f.type in {"address", "location"}:
        return skip(f"compound {f.type} field: its parts are mapped one by one")
    if (
        f.type == "reference"
        and f.reference_to
        and not any(r in opts.object_tables or r in {"User", "Group"} for r in f.reference_to)
    ):
        refs = ", ".join(f.reference_to)
        return skip(f"lookup to {refs}, which is not migrated")
    if f.calculated:
        return skip("formula field: its value is computed in Salesforce; rebuild the formula")
    if not f.createable and not f.custom:
        return skip("read-only in Salesforce (derived or compound); nothing to carry over")
    return None


def _decision(
    f: SourceField,
    table: TargetTable,
    action: Action,
    column: str | None,
    confidence: float,
    evidence: tuple[Evidence, ...],
    *,
    new: NewColumn | None = None,
    alternatives: tuple[tuple[str, float], ...] = (),
) -> FieldDecision:
    return FieldDecision(
        source_object=f.object_name,
        source_field=f.name,
        source_label=f.label,
        source_type=f.type,
        target_table=table.logical_name,
        action=action,
        target_column=column,
        confidence=confidence,
        evidence=evidence,
        new_column=new,
        alternatives=alternatives,
    )


def _with_choices(
    d: FieldDecision, f: SourceField, table: TargetTable, opts: MatchOptions
) -> FieldDecision:
    if not f.picklist:
        return d
    if d.action == "new_column" and d.new_column and d.new_column.attribute_type != "String":
        return replace(d, choices=tuple(new_choices(f.picklist, opts.option_value_prefix)))
    col = table.column(d.target_column) if d.target_column else None
    if d.action == "map" and col is not None and col.options:
        entries = map_choices(f.picklist, col.options)
        missing = [e.source_value for e in entries if e.how == "unmatched"]
        ev = d.evidence
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
            ev = (*ev, Evidence("choices", f"{len(missing)} value(s) with no option: {shown}", 0))
        return replace(d, choices=tuple(entries), evidence=ev)
    return d


def _known(f: SourceField, table: TargetTable, opts: MatchOptions) -> FieldDecision | None:
    """A curated correspondence whose column exists and can hold the type."""
    if not opts.use_dictionary:
        return None
    known = dictionary.lookup(f.object_name, f.name, table.logical_name)
    col = table.column(known.target_column) if known else None
    if known is None or col is None or type_compatibility(f, col) <= 0:
        return None
    ev = Evidence("dictionary", f"known correspondence: {known.why} ({known.sources[1]})", 1.0)
    return _decision(f, table, "map", col.logical_name, 0.97, (ev,))


def _assigned(
    f: SourceField, cand: _Candidate, ranked: list[_Candidate], table: TargetTable
) -> FieldDecision:
    """A ``map`` decision for the winning candidate, marked ambiguous if a rival is close."""
    others = [c for c in ranked if c is not cand][:3]
    confidence, evidence = cand.score, list(cand.evidence)
    if others and cand.score - others[0].score < AMBIGUITY_MARGIN:
        confidence *= 0.85
        rival = others[0]
        evidence.append(
            Evidence(
                "ambiguity",
                f"'{rival.column.logical_name}' scores almost as high ({rival.score:.2f})",
                -0.15,
            )
        )
    return _decision(
        f,
        table,
        "map",
        cand.column.logical_name,
        confidence,
        tuple(evidence),
        alternatives=tuple((c.column.logical_name, c.score) for c in others),
    )


def _unplaced(
    f: SourceField,
    ranked: list[_Candidate],
    taken: set[str],
    table: TargetTable,
    opts: MatchOptions,
    prof: ValueProfile,
) -> FieldDecision:
    """A ``new_column`` decision: confident when nothing existing came close.

    When sampled values clearly are emails, URLs or phone numbers, the nearest free column of
    that kind is named in the evidence and the decision is marked low confidence: a vague name
    ("Contact Info") should not hide that the data fits an existing column.
    """
    best = ranked[0] if ranked else None
    new = new_column_for(f, opts)
    if best is None:
        confidence = 0.95
        why = f"no column of {table.logical_name} can hold a {f.type}"
    else:
        confidence = 1.0 - 0.5 * max(0.0, best.score - 0.3) / (MAP_THRESHOLD - 0.3)
        why = f"best existing column '{best.column.logical_name}' scores only {best.score:.2f}"
        if best.column.logical_name in taken and best.score >= MAP_THRESHOLD:
            why = f"best existing column '{best.column.logical_name}' is taken by a better match"
    evidence = [Evidence("rule", f"{why}: propose new {new.attribute_type} column", 0.0)]
    if prof.kind in {"email", "url", "phone"}:
        fitting = [c for c in ranked if fit(prof, c.column.attribute_type, c.column.format_name)]
        free = [c for c in fitting if c.column.logical_name not in taken] or fitting
        if free:
            near = free[0].column.logical_name
            evidence.append(
                Evidence("profile", f"{prof.describe()}: the nearest free such column is {near}", 0)
            )
            confidence = min(confidence, LOW_CONFIDENCE - 0.1)
    return _decision(
        f,
        table,
        "new_column",
        new.logical_name,
        max(0.3, min(confidence, 0.95)),
        tuple(evidence),
        new=new,
        alternatives=tuple((c.column.logical_name, c.score) for c in ranked[:3]),
    )


def match_object(
    source: SourceObject, table: TargetTable, opts: MatchOptions | None = None
) -> list[FieldDecision]:
    """Propose a decision for every field of ``source`` against the columns of ``table``.

    Returns decisions in the source's field order, one per source field.
    """
    opts = opts or MatchOptions()
    columns = [c for c in table.columns if c.writable]
    decided: dict[str, FieldDecision] = {}
    pending: dict[str, SourceField] = {}
    for f in source.fields:
        early = _known(f, table, opts) or _rule_decision(f, table, opts)
        if early is not None:
            decided[f.name] = early
        else:
            pending[f.name] = f

    ranked: dict[str, list[_Candidate]] = {}
    profiles = {name: profile(source.values_of(name)) for name in pending}
    for f in pending.values():
        prof = profiles[f.name]
        cands = [c for col in columns if (c := score_candidate(f, col, prof, opts)) is not None]
        ranked[f.name] = sorted(cands, key=lambda c: c.score, reverse=True)

    # One-to-one, best score first: a column goes to the field that fits it best.
    taken = {d.target_column or "" for d in decided.values() if d.action == "map"}
    offers = sorted(
        ((c, name) for name, cs in ranked.items() for c in cs if c.score >= MAP_THRESHOLD),
        key=lambda t: t[0].score,
        reverse=True,
    )
    for cand, name in offers:
        if name in decided or cand.column.logical_name in taken:
            continue
        taken.add(cand.column.logical_name)
        decided[name] = _assigned(pending[name], cand, ranked[name], table)

    for name, f in pending.items():
        if name not in decided:
            decided[name] = _unplaced(f, ranked[name], taken, table, opts, profiles[name])
    return [_with_choices(decided[f.name], f, table, opts) for f in source.fields]
