"""Check a mapping against the live target metadata before any record moves.

Problems found here are about the mapping or the environment, not one record: a missing
column, a transform that cannot fill the column's type, a choice value the environment does
not know, a navigation that does not exist. They are all collected and raised together as one
:class:`~shared.errors.SchemaError` so a person fixes them in one round trip. Per-value checks
(length, range, dates, choices, required values) happen in the compiled converters
(``shared.mapping.types``) for each record.
"""

from __future__ import annotations

from shared.errors import SchemaError
from shared.mapping.activities import parent_nav
from shared.mapping.models import FieldMap, Mapping, ObjectMap
from shared.mapping.target_metadata import Table, TargetMetadata

COMPATIBLE: dict[str, frozenset[str]] = {
    "text": frozenset({"String", "Memo"}),
    "memo": frozenset({"Memo", "String"}),
    "email": frozenset({"String"}),
    "phone": frozenset({"String"}),
    "url": frozenset({"String"}),
    "template": frozenset({"String", "Memo"}),
    "choice": frozenset({"Picklist", "State", "Status"}),
    "multichoice": frozenset({"MultiSelectPicklist"}),
    "boolean": frozenset({"Boolean"}),
    "integer": frozenset({"Integer", "BigInt"}),
    "duration_minutes": frozenset({"Integer"}),
    "bigint": frozenset({"BigInt"}),
    "decimal": frozenset({"Decimal", "Money", "Double"}),
    "money": frozenset({"Money", "Decimal"}),
    "float": frozenset({"Double", "Decimal"}),
    "date": frozenset({"DateTime"}),
    "datetime": frozenset({"DateTime"}),
}
"""Transform → the column types it can fill (``copy`` and ``constant`` fit any type)."""


def _field_problems(obj: ObjectMap, fm: FieldMap, table: Table) -> list[str]:
    where = f"object '{obj.name}' field {fm.source or fm.target} → {table.logical_name}"
    col = table.column(fm.target)
    if col is None:
        hint = " (run deploy-schema first)" if fm.column else ""
        return [f"{where}.{fm.target}: column does not exist in the target{hint}"]
    out: list[str] = []
    if not col.valid_for_create:
        out.append(f"{where}.{fm.target}: column cannot be set on create")
    allowed = COMPATIBLE.get(fm.transform)
    if allowed is not None and col.type not in allowed:
        out.append(
            f"{where}.{fm.target}: transform '{fm.transform}' cannot fill a {col.type} column"
        )
    if fm.column and fm.column.type != col.type:
        out.append(
            f"{where}.{fm.target}: the mapping declares {fm.column.type} but the target column "
            f"is {col.type}"
        )
    if fm.transform in ("choice", "multichoice") and col.options is not None and fm.values:
        unknown = sorted({int(v) for v in fm.values.values()} - col.options)
        if unknown:
            out.append(
                f"{where}.{fm.target}: option value(s) {', '.join(map(str, unknown))} do not "
                "exist in the target choice"
            )
    return out


def check_mapping(mapping: Mapping, metadata: TargetMetadata) -> list[str]:
    """Every problem between the mapping and the target, one sentence each (empty: fine)."""
    problems: list[str] = []
    for obj in mapping.objects:
        table = metadata.tables.get(obj.target)
        if table is None:
            problems.append(f"object '{obj.name}': table '{obj.target}' does not exist")
            continue
        if table.entity_set != obj.entity_set:
            problems.append(
                f"object '{obj.name}': entity_set '{obj.entity_set}' should be '{table.entity_set}'"
            )
        for fm in obj.fields:
            problems.extend(_field_problems(obj, fm, table))
        for lk in obj.lookups:
            resolved = table.lookup_target(lk.nav)
            want = mapping.by_name(lk.object).target
            if resolved is None:
                problems.append(
                    f"object '{obj.name}': navigation '{lk.nav}' does not exist on {obj.target}"
                )
            elif resolved[1] != want:
                problems.append(
                    f"object '{obj.name}': navigation '{lk.nav}' points at {resolved[1]}, "
                    f"but {lk.source} is mapped to {want}"
                )
        binding = obj.parent.binding if obj.parent else "object"
        for cand in obj.parent.candidates if obj.parent else []:
            names: list[str] = [cand.object] if cand.object else list((cand.types or {}).values())
            for name in names:
                parent_table = mapping.by_name(name).target
                nav = parent_nav(binding, parent_table, obj.target)
                if table.lookup_target(nav) is None:
                    problems.append(
                        f"object '{obj.name}': {cand.source} → {name} needs navigation '{nav}', "
                        f"which does not exist on {obj.target}"
                    )
        if obj.owner and table.column("ownerid") is None:
            problems.append(f"object '{obj.name}': {obj.target} has no owner (ownerid)")
        if obj.file and table.column("documentbody") is None:
            problems.append(f"object '{obj.name}': {obj.target} cannot hold a file body")
    return problems


def ensure_valid(mapping: Mapping, metadata: TargetMetadata) -> None:
    """Raise every problem of :func:`check_mapping` at once.

    Raises:
        SchemaError: one line per problem.
    """
    problems = check_mapping(mapping, metadata)
    if problems:
        raise SchemaError(
            f"the mapping '{mapping.name}' does not fit the target environment:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
