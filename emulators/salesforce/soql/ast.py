"""The SOQL syntax tree: plain frozen dataclasses, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal as Lit

__all__ = [
    "And",
    "Compare",
    "Condition",
    "Count",
    "FieldRef",
    "InList",
    "Includes",
    "Literal",
    "Not",
    "Or",
    "OrderItem",
    "Query",
    "SelectItem",
]

LiteralKind = Lit["string", "number", "boolean", "null", "date", "datetime", "dateliteral"]


@dataclass(frozen=True)
class FieldRef:
    """A field or a parent relationship path, as written (``Account.Owner.Email``)."""

    parts: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Count:
    """``COUNT()`` (``field`` None) or ``COUNT(field) [alias]``."""

    field: FieldRef | None
    alias: str | None = None


SelectItem = FieldRef | Count


@dataclass(frozen=True)
class Literal:
    """A value in a condition; ``dateliteral`` values are (name, n) like ("LAST_N_DAYS", 7)."""

    kind: LiteralKind
    value: object
    pos: int


@dataclass(frozen=True)
class Compare:
    field: FieldRef
    op: str
    value: Literal


@dataclass(frozen=True)
class InList:
    field: FieldRef
    negate: bool
    values: tuple[Literal, ...] = ()
    subquery: Query | None = None


@dataclass(frozen=True)
class Includes:
    field: FieldRef
    negate: bool
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Compare | InList | Includes | And | Or | Not


@dataclass(frozen=True)
class OrderItem:
    field: FieldRef
    descending: bool = False
    nulls_last: bool | None = None


@dataclass(frozen=True)
class Query:
    """One SELECT statement."""

    items: tuple[SelectItem, ...]
    sobject: str
    sobject_pos: int
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = field(default_factory=tuple)
    limit: int | None = None
    offset: int | None = None
    text: str = ""  # the whole statement as sent: every ``pos`` indexes into it
