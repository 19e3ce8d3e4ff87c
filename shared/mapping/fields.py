"""One mapped field compiled into a reader, a converter and its ``on_error`` policy.

Compiling happens once per run. The plans then feed the entry's generated field function
(``shared.mapping.codegen``), which copies what needs no conversion, calls ``convert`` for the
rest and falls back to :meth:`FieldPlan.apply` (no pydantic, no lookups in the mapping) only
when a value needs ``on_error`` or a report entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.mapping.models import FieldMap
from shared.mapping.target_metadata import Column
from shared.mapping.types import (
    Converter,
    Note,
    ValueProblemError,
    choice_table,
    make_boolean,
    make_choice,
    make_datetime,
    make_decimal,
    make_duration,
    make_integer,
    make_template,
    make_text,
)

Reader = Callable[[Mapping[str, Any]], Any]


def _reader(fm: FieldMap) -> Reader:
    if fm.transform == "constant":
        value = fm.value
        return lambda record: value
    if fm.transform == "template":
        return make_template(fm.template or "")
    if fm.sources:
        names = list(fm.sources)

        def first(record: Mapping[str, Any]) -> Any:
            for name in names:
                value = record.get(name)
                if value is not None and value != "":
                    return value
            return None

        return first
    name = fm.source or ""
    return lambda record: record.get(name)


_BY_TYPE = {
    "String": "text",
    "Memo": "memo",
    "Integer": "integer",
    "BigInt": "bigint",
    "Decimal": "decimal",
    "Money": "money",
    "Double": "float",
    "Boolean": "boolean",
    "DateTime": "datetime",
}


def _kind(fm: FieldMap, col: Column | None) -> str:
    """The conversion a field gets: its ``transform``, or for ``copy`` the column's type."""
    if fm.transform == "copy":
        return _BY_TYPE.get(col.type, "copy") if col else "copy"
    return fm.transform


def _converter(fm: FieldMap, col: Column | None) -> Converter | None:
    kind = _kind(fm, col)
    if kind in ("text", "memo", "phone", "url", "template"):
        return make_text(col)
    if kind == "email":
        return make_text(col, email=True)
    if kind in ("choice", "multichoice"):
        return make_choice(fm.values or {}, multi=kind == "multichoice")
    if kind == "boolean":
        return make_boolean(fm.values)
    if kind in ("integer", "bigint"):
        return make_integer(col, big=kind == "bigint")
    if kind in ("decimal", "money", "float"):
        return make_decimal(col)
    if kind in ("date", "datetime"):
        return make_datetime(col, date_only=kind == "date")
    if kind == "duration_minutes":
        return make_duration(col, fm.round)
    return None


@dataclass(frozen=True)
class FieldOutcome:
    """What went wrong with one field: a rejection (``reject``) or a report entry."""

    reason_code: str
    field: str
    value: Any
    message: str
    hint: str | None
    reject: bool


@dataclass(frozen=True)
class FieldPlan:
    """A compiled field map."""

    target: str
    label: str
    read: Reader
    convert: Converter | None
    on_error: str
    default: Any
    required: bool
    plain_text_limit: int = -1
    """For plain text fields: strings of printable characters up to this length need no
    conversion (half the MaxLength, so even UTF-16 surrogate pairs fit); -1 otherwise."""
    ascii_text_limit: int = -1
    """For plain text fields: ASCII strings of printable characters up to this length (the
    MaxLength: one UTF-16 unit per character) need no conversion either; -1 otherwise."""
    source: str | None = None
    """The single source field when the fast path applies (no template, constant, coalesce or
    required check); None sends the field through :meth:`apply` every time."""
    booleans_pass: bool = False
    """A boolean without a ``values:`` map: ``True``/``False`` are written as they are."""
    choices: Mapping[str, int] | None = None
    """A single-select picklist: label → option value; a label found here needs no converter."""

    def apply(self, record: Mapping[str, Any], out: dict[str, Any]) -> list[FieldOutcome]:
        """Write the target value into ``out``; return what a person must hear about it."""
        value = self.read(record)
        if value is None or value == "":
            if self.required:
                return [
                    FieldOutcome(
                        "REQUIRED_MISSING",
                        self.label,
                        None,
                        f"{self.label} is empty but {self.target} is required by the target",
                        "fill the field in Salesforce or map another field to it",
                        True,
                    )
                ]
            out[self.target] = None
            return []
        if self.convert is None:
            out[self.target] = value
            return []
        notes: list[Note] = []
        try:
            out[self.target] = self.convert(value, notes)
        except ValueProblemError as problem:
            return [self._on_error(problem, value, out)]
        if not notes:
            return []
        return [
            FieldOutcome(code, self.label, _shown(value), f"{self.label}: {msg}", None, False)
            for code, msg in notes
        ]

    def _on_error(
        self, problem: ValueProblemError, value: Any, out: dict[str, Any]
    ) -> FieldOutcome:
        text = f"{self.label} → {self.target}: {problem.message}"
        if self.on_error == "truncate" and problem.fallback is not None:
            out[self.target] = problem.fallback
            return FieldOutcome(
                "TEXT_TRUNCATED",
                self.label,
                value,
                text + "; truncated to the column's MaxLength (the full text is in this entry)",
                None,
                False,
            )
        if self.on_error == "null":
            out[self.target] = None
            return FieldOutcome(
                problem.code,
                self.label,
                _shown(value),
                text + "; written empty",
                problem.hint,
                False,
            )
        if self.on_error == "default":
            out[self.target] = self.default
            return FieldOutcome(
                problem.code,
                self.label,
                _shown(value),
                text + f"; written as {self.default!r}",
                problem.hint,
                False,
            )
        return FieldOutcome(problem.code, self.label, _shown(value), text, problem.hint, True)


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 300:
        return value[:300] + f"… ({len(value)} characters)"
    return value


def compile_field(fm: FieldMap, col: Column | None) -> FieldPlan:
    """Compile one field map against its live column (None: column unknown, pass through)."""
    label = fm.source or ("+".join(fm.sources) if fm.sources else fm.transform)
    kind = _kind(fm, col)
    plain = ascii_plain = -1
    if kind in ("text", "memo", "phone", "url"):
        plain = col.max_length // 2 if col and col.max_length else 1 << 62
        ascii_plain = col.max_length if col and col.max_length else 1 << 62
    return FieldPlan(
        target=fm.target,
        label=label,
        read=_reader(fm),
        convert=_converter(fm, col),
        on_error=fm.on_error,
        default=fm.default,
        required=bool(col and col.required),
        plain_text_limit=plain,
        ascii_text_limit=ascii_plain,
        source=(
            fm.source
            if fm.source
            and not fm.sources
            and fm.transform not in ("template", "constant")
            and not (col and col.required)
            else None
        ),
        booleans_pass=kind == "boolean" and not fm.values,
        choices=choice_table(fm.values or {}) if kind == "choice" else None,
    )
