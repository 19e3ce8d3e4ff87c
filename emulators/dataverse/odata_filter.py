"""Translate an OData ``$filter`` into a parameterised SQLite condition over JSON rows.

Supports what Dataverse supports and loaders use: ``eq ne gt ge lt le``, ``and or not``,
parentheses, ``null``, ``contains``/``startswith``/``endswith``, and the Dataverse query
functions ``Microsoft.Dynamics.CRM.In``/``NotIn``/``Between``/``NotBetween``. Parameter
aliases (``@p``) are resolved from the query string. String comparisons are
case-insensitive, as with Dataverse's default collation. The parser is a small LALR grammar
(``lark``); the general OData parsers on the package index do not know Dataverse's
namespaced query functions.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from emulators.dataverse.errors import odata_error
from emulators.dataverse.metadata import Table
from emulators.dataverse.represent import column_of_property
from emulators.dataverse.store import json_path
from emulators.dataverse.values import format_datetime, parse_datetime

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> not_
         | comparison
?comparison: operand OP operand -> compare
           | "(" or_expr ")"
           | call
call: FUNC "(" [arg ("," arg)*] ")"
?arg: named | operand | list
named: NAME "=" (operand | list)
list: "[" [operand ("," operand)*] "]"
?operand: PATH -> prop
        | NAME -> prop
        | STRING -> string
        | GUID -> guid
        | DATETIME -> datetime
        | NUMBER -> number
        | TRUE -> true
        | FALSE -> false
        | NULL -> null
        | ALIAS -> alias
_OR.2: /or\b/i
_AND.2: /and\b/i
_NOT.2: /not\b/i
OP.2: /(eq|ne|gt|ge|lt|le)\b/i
TRUE.2: /true\b/
FALSE.2: /false\b/
NULL.2: /null\b/
FUNC.3: /(Microsoft\.Dynamics\.CRM\.[A-Za-z]+|contains|startswith|endswith)(?=\s*\()/
GUID.4: /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/
DATETIME.3: /\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?/
NUMBER.1: /-?\d+(\.\d+)?(e-?\d+)?[mMdDlL]?/
STRING: /'([^']|'')*'/
ALIAS: /@[A-Za-z_][A-Za-z0-9_]*/
PATH.1: /[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)+/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
%ignore /\s+/
"""

# ``eq``/``ne`` against a value use SQL semantics (a null column matches neither), as
# Dataverse's SQL back end does; ``eq null``/``ne null`` become IS NULL / IS NOT NULL.
SQL_OPS = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_TEXT = frozenset({"String", "Memo", "EntityName", "MultiSelectPicklist"})


@cache
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=False, start=["start", "operand"])


def parse(text: str, start: str = "start") -> Tree[Token]:
    """Parse a ``$filter`` expression or raise the OData syntax error."""
    try:
        return _parser().parse(text, start=start)
    except LarkError as exc:
        raise odata_error(f"Syntax error in $filter '{text}': {str(exc).splitlines()[0]}") from None


class _Translator:
    def __init__(self, table: Table, aliases: dict[str, str]) -> None:
        self.table = table
        self.aliases = aliases
        self.params: list[Any] = []

    def column_sql(self, prop: str) -> tuple[str, str]:
        logical = column_of_property(self.table, prop)
        kind = self.table.columns[logical].type
        if logical == self.table.primary_id:
            return "id", kind
        return f"json_extract(data, {json_path(logical)})", kind

    def literal(self, node: Tree[Token] | Token, kind: str | None) -> Any:
        data = node.data if isinstance(node, Tree) else "prop"
        token = str(node.children[0]) if isinstance(node, Tree) else str(node)
        if data == "alias":
            if token not in self.aliases:
                raise odata_error(f"The parameter alias '{token}' is not defined.")
            return self.literal(parse(self.aliases[token], "operand"), kind)
        if data == "string":
            value: Any = token[1:-1].replace("''", "'")
            if kind == "DateTime":
                value = format_datetime(parse_datetime(value))
            return value
        if data == "guid":
            return token.lower()
        if data == "datetime":
            return format_datetime(parse_datetime(token)) if "T" in token else token
        if data == "number":
            text = token.rstrip("mMdDlL")
            return float(text) if any(c in text for c in ".eE") else int(text)
        if data in ("true", "false"):
            return 1 if data == "true" else 0
        if data == "null":
            return None
        raise odata_error(f"Expected a literal in $filter, found '{token}'.")

    def expr(self, node: Tree[Token]) -> str:
        kind = node.data
        if kind == "or_expr":
            return (
                "(" + " OR ".join(self.expr(c) for c in node.children if isinstance(c, Tree)) + ")"
            )
        if kind == "and_expr":
            return (
                "(" + " AND ".join(self.expr(c) for c in node.children if isinstance(c, Tree)) + ")"
            )
        if kind == "not_":
            return f"(NOT {self.expr(node.children[0])})"  # type: ignore[arg-type]
        if kind == "compare":
            return self.compare(node)
        if kind == "call":
            return self.call(node)
        raise odata_error("The $filter expression must be a boolean condition.")

    def compare(self, node: Tree[Token]) -> str:
        left, op_token, right = node.children
        assert isinstance(left, Tree) and isinstance(right, Tree)
        if left.data != "prop" and right.data == "prop":
            left, right = right, left
            op_token = Token(
                "OP",
                {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge"}.get(
                    str(op_token).lower(), str(op_token)
                ),
            )
        if left.data != "prop":
            raise odata_error("A comparison in $filter needs a property on one side.")
        sql, kind = self.column_sql(str(left.children[0]))
        value = self.literal(right, kind)
        op = SQL_OPS[str(op_token).lower()]
        if value is None:
            return {"=": f"({sql} IS NULL)", "<>": f"({sql} IS NOT NULL)"}.get(op, "0")
        self.params.append(value)
        collate = " COLLATE NOCASE" if kind in _TEXT else ""
        return f"({sql}{collate} {op} ?)"

    def call(self, node: Tree[Token]) -> str:
        name = str(node.children[0])
        args = [c for c in node.children[1:] if c is not None]
        short = name.rsplit(".", 1)[-1].lower()
        if short in ("contains", "startswith", "endswith"):
            prop, lit = args
            assert isinstance(prop, Tree) and isinstance(lit, Tree)
            sql, kind = self.column_sql(str(prop.children[0]))
            text = str(self.literal(lit, kind))
            text = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = {"contains": f"%{text}%", "startswith": f"{text}%", "endswith": f"%{text}"}[
                short
            ]
            self.params.append(pattern)
            return f"({sql} LIKE ? ESCAPE '\\')"
        named = {
            str(a.children[0]): a.children[1]
            for a in args
            if isinstance(a, Tree) and a.data == "named"
        }
        if "PropertyName" not in named:
            raise odata_error(f"The function '{name}' is not supported by the emulator.", 501)
        prop_node = named["PropertyName"]
        assert isinstance(prop_node, Tree)
        sql, kind = self.column_sql(str(self.literal(prop_node, None)))
        values_node = named.get("PropertyValues")
        values = (
            [self.literal(v, kind) for v in values_node.children]
            if isinstance(values_node, Tree)
            else []
        )
        collate = " COLLATE NOCASE" if kind in _TEXT else ""
        if short in ("in", "notin"):
            if not values:
                return "0" if short == "in" else "1"
            self.params.extend(values)
            marks = ",".join("?" * len(values))
            neg = "NOT " if short == "notin" else ""
            return f"({sql}{collate} {neg}IN ({marks}))"
        if short in ("between", "notbetween") and len(values) == 2:
            self.params.extend(values)
            neg = "NOT " if short == "notbetween" else ""
            return f"({sql} {neg}BETWEEN ? AND ?)"
        raise odata_error(f"The function '{name}' is not supported by the emulator.", 501)


def to_sql(
    table: Table, text: str | None, aliases: dict[str, str] | None = None
) -> tuple[str, list[Any]]:
    """``(where_sql, params)`` for a ``$filter`` (``("1", [])`` when there is none)."""
    if not text:
        return "1", []
    translator = _Translator(table, aliases or {})
    tree = parse(text)
    if not isinstance(tree, Tree):
        raise odata_error("The $filter expression must be a boolean condition.")
    return translator.expr(tree), translator.params
