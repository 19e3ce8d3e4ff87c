"""The custom columns a mapping needs; ``deploy-schema`` creates exactly these.

Custom columns must exist before any record that uses them is written. Every field map with a
``column:`` block declares one; choices take their options from the field's ``values:`` map
(labels are the Salesforce picklist values, numbers from the publisher's option value prefix).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.mapping.models import Mapping


@dataclass(frozen=True)
class ColumnSpec:
    """One custom column to create on a table.

    Attributes:
        type: String, Memo, Integer, BigInt, Decimal, Double, Money, Boolean, DateTime,
            Picklist or MultiSelectPicklist.
        options: ``(value, label)`` pairs of a choice, in value order.
        alternate_key: Put an alternate key on this column (Salesforce id columns).
    """

    table: str
    logical_name: str
    schema_name: str
    type: str
    label: str
    max_length: int | None = None
    format: str | None = None
    precision: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    date_format: str | None = None
    options: tuple[tuple[int, str], ...] = ()
    alternate_key: bool = False


def _label(logical: str) -> str:
    return logical.split("_", 1)[-1].replace("_", " ").capitalize()


def required_columns(mapping: Mapping) -> list[ColumnSpec]:
    """Every custom column of the mapping, once per (table, column), in file order.

    Defaults follow docs/type-mapping.md: String 100 characters, Memo 2,000, Decimal and
    Money precision 2, DateTime ``DateAndTime`` (``DateOnly`` for ``date`` transforms).
    """
    out: dict[tuple[str, str], ColumnSpec] = {}
    for obj in mapping.objects:
        for fm in obj.fields:
            col = fm.column
            if col is None or (obj.target, fm.target) in out:
                continue
            options: tuple[tuple[int, str], ...] = ()
            if col.type in ("Picklist", "MultiSelectPicklist") and fm.values:
                seen: dict[int, str] = {}
                for label, value in fm.values.items():
                    seen.setdefault(int(value), label)
                options = tuple(sorted(seen.items()))
            max_length = col.max_length
            if max_length is None and col.type in ("String", "Memo"):
                max_length = 100 if col.type == "String" else 2000
            precision = col.precision
            if precision is None and col.type in ("Decimal", "Money", "Double"):
                precision = 2
            date_format = col.date_format
            if date_format is None and col.type == "DateTime":
                date_format = "DateOnly" if fm.transform == "date" else "DateAndTime"
            prefix, _, rest = fm.target.partition("_")
            out[(obj.target, fm.target)] = ColumnSpec(
                table=obj.target,
                logical_name=fm.target,
                schema_name=f"{prefix}_{rest}",
                type=col.type,
                label=col.label or _label(fm.target),
                max_length=max_length,
                format=col.format,
                precision=precision,
                min_value=col.min_value,
                max_value=col.max_value,
                date_format=date_format,
                options=options,
                alternate_key=col.alternate_key,
            )
    return list(out.values())
