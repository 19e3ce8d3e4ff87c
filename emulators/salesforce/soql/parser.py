"""A hand-written SOQL parser for the subset extraction uses, with Salesforce's error text.

Syntax errors are ``MALFORMED_QUERY`` with the real layout: the query line, a caret under the
offending token, ``ERROR at Row:1:Column:N`` and ``unexpected token: 'X'``. Keywords and
names are case-insensitive, as in Salesforce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulators.salesforce.errors import SalesforceApiError
from emulators.salesforce.soql.ast import (
    And,
    Compare,
    Condition,
    Count,
    FieldRef,
    Includes,
    InList,
    Literal,
    Not,
    Or,
    OrderItem,
    Query,
    SelectItem,
)

__all__ = ["DATE_LITERALS", "locate", "located", "parse_soql"]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>[+-]?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),.:])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_RESERVED = {
    "select", "from", "where", "and", "or", "not", "in", "like", "includes", "excludes",
    "order", "by", "limit", "offset", "asc", "desc", "nulls", "first", "last", "null",
    "true", "false", "group", "having", "with", "for", "using", "typeof",
}  # fmt: skip
DATE_LITERALS = {
    "YESTERDAY", "TODAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK", "LAST_MONTH",
    "THIS_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS", "THIS_YEAR", "LAST_YEAR",
    "NEXT_YEAR",
}  # fmt: skip
_N_LITERALS = {
    "LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_WEEKS", "NEXT_N_WEEKS",
    "LAST_N_MONTHS", "NEXT_N_MONTHS", "LAST_N_YEARS", "NEXT_N_YEARS",
}  # fmt: skip


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def _tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise _malformed(text, pos, text[pos])
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(_Tok(kind, m.group(), pos))
        pos = m.end()
    out.append(_Tok("eof", "<EOF>", len(text)))
    return out


def locate(text: str, pos: int, message: str) -> str:
    """Prefix ``message`` with Salesforce's pointer: the query line, a caret, row and column."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    row = text.count("\n", 0, pos) + 1
    col = pos - line_start + 1
    return f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{message}"


def located(exc: SalesforceApiError, text: str, pos: int) -> SalesforceApiError:
    """``exc`` with the pointer to ``pos`` in ``text`` (unchanged if it already has one)."""
    if exc.message.startswith("\n"):
        return exc
    return SalesforceApiError(
        exc.status or 400, exc.error_code, locate(text, pos, exc.message), fields=exc.fields
    )


def _malformed(text: str, pos: int, token: str) -> SalesforceApiError:
    shown = token if token.startswith("<") else f"'{token}'"
    return SalesforceApiError(
        400, "MALFORMED_QUERY", locate(text, pos, f"unexpected token: {shown}")
    )


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def fail(self, tok: _Tok | None = None) -> SalesforceApiError:
        t = tok or self.tok
        return _malformed(self.text, t.pos, t.text)

    def next(self) -> _Tok:
        t = self.tok
        self.i += 1
        return t

    def at_kw(self, *words: str) -> bool:
        return self.tok.kind == "ident" and self.tok.upper in words

    def expect_kw(self, word: str) -> _Tok:
        if not self.at_kw(word):
            raise self.fail()
        return self.next()

    def expect(self, text: str) -> _Tok:
        if self.tok.text != text:
            raise self.fail()
        return self.next()

    def name(self) -> _Tok:
        if self.tok.kind != "ident" or self.tok.text.lower() in _RESERVED:
            raise self.fail()
        return self.next()

    # query := SELECT items FROM name [WHERE cond] [ORDER BY ...] [LIMIT n] [OFFSET n]
    def query(self, *, sub: bool = False) -> Query:
        self.expect_kw("SELECT")
        items = self.select_items()
        self.expect_kw("FROM")
        obj = self.name()
        where = None
        if self.at_kw("WHERE"):
            self.next()
            where = self.condition()
        order: list[OrderItem] = []
        if self.at_kw("ORDER"):
            self.next()
            self.expect_kw("BY")
            order.append(self.order_item())
            while self.tok.text == ",":
                self.next()
                order.append(self.order_item())
        limit = offset = None
        if self.at_kw("LIMIT"):
            self.next()
            limit = self.integer()
        if self.at_kw("OFFSET"):
            self.next()
            offset = self.integer()
        if self.at_kw("GROUP", "HAVING", "WITH", "FOR", "USING"):
            raise _unsupported(f"{self.tok.upper} clauses are")
        if not sub and self.tok.kind != "eof":
            raise self.fail()
        return Query(
            tuple(items), obj.text, obj.pos, where, tuple(order), limit, offset,
            self.text,
        )  # fmt: skip

    def integer(self) -> int:
        if self.tok.kind != "number" or not self.tok.text.isdigit():
            raise self.fail()
        return int(self.next().text)

    def select_items(self) -> list[SelectItem]:
        items = [self.select_item()]
        while self.tok.text == ",":
            self.next()
            items.append(self.select_item())
        return items

    def select_item(self) -> SelectItem:
        if self.tok.text == "(":
            raise SalesforceApiError(
                400,
                "MALFORMED_QUERY",
                "parent-to-child subqueries are not supported by the emulator; "
                "query the child object with a WHERE on its parent id instead",
            )
        if self.at_kw("COUNT") and self.toks[self.i + 1].text == "(":
            self.next()
            self.next()
            if self.tok.text == ")":
                self.next()
                return Count(None)
            ref = self.field_ref()
            self.expect(")")
            alias = None
            if self.tok.kind == "ident" and self.tok.text.lower() not in _RESERVED:
                alias = self.next().text
            return Count(ref, alias)
        if self.at_kw("TYPEOF", "FIELDS"):
            raise _unsupported(f"{self.tok.upper} is")
        if self.tok.kind == "ident" and self.toks[self.i + 1].text == "(":
            raise _unsupported(f"the function {self.tok.text}() is")
        return self.field_ref()

    def field_ref(self) -> FieldRef:
        first = self.name()
        parts = [first.text]
        while self.tok.text == ".":
            self.next()
            if self.tok.kind != "ident":
                raise self.fail()
            parts.append(self.next().text)
        return FieldRef(tuple(parts), first.pos)

    def order_item(self) -> OrderItem:
        ref = self.field_ref()
        desc = False
        nulls_last: bool | None = None
        if self.at_kw("ASC", "DESC"):
            desc = self.next().upper == "DESC"
        if self.at_kw("NULLS"):
            self.next()
            if not self.at_kw("FIRST", "LAST"):
                raise self.fail()
            nulls_last = self.next().upper == "LAST"
        return OrderItem(ref, desc, nulls_last)

    # condition := term (OR term)* | term (AND term)*  (mixing needs parentheses, as in SOQL)
    def condition(self) -> Condition:
        first = self.unary()
        if self.at_kw("AND", "OR"):
            word = self.tok.upper
            items = [first]
            while self.at_kw("AND", "OR"):
                if self.tok.upper != word:
                    raise self.fail()
                self.next()
                items.append(self.unary())
            return And(tuple(items)) if word == "AND" else Or(tuple(items))
        return first

    def unary(self) -> Condition:
        if self.at_kw("NOT"):
            self.next()
            return Not(self.unary())
        if self.tok.text == "(":
            self.next()
            inner = self.condition()
            self.expect(")")
            return inner
        return self.simple()

    def simple(self) -> Condition:
        ref = self.field_ref()
        if self.at_kw("NOT"):
            self.next()
            self.expect_kw("IN")
            return self.in_list(ref, negate=True)
        if self.at_kw("IN"):
            self.next()
            return self.in_list(ref, negate=False)
        if self.at_kw("INCLUDES", "EXCLUDES"):
            negate = self.next().upper == "EXCLUDES"
            self.expect("(")
            values = [self.literal()]
            while self.tok.text == ",":
                self.next()
                values.append(self.literal())
            self.expect(")")
            return Includes(ref, negate, tuple(values))
        if self.at_kw("LIKE"):
            self.next()
            return Compare(ref, "LIKE", self.literal())
        if self.tok.kind != "op":
            raise self.fail()
        op = self.next().text
        return Compare(ref, "!=" if op == "<>" else op, self.literal())

    def in_list(self, ref: FieldRef, *, negate: bool) -> InList:
        self.expect("(")
        if self.at_kw("SELECT"):
            sub = self.query(sub=True)
            self.expect(")")
            return InList(ref, negate, (), sub)
        values = [self.literal()]
        while self.tok.text == ",":
            self.next()
            values.append(self.literal())
        self.expect(")")
        return InList(ref, negate, tuple(values))

    def literal(self) -> Literal:
        t = self.tok
        if t.kind == "string":
            self.next()
            return Literal("string", _unescape(t.text[1:-1]), t.pos)
        if t.kind == "number":
            self.next()
            value = float(t.text) if "." in t.text else int(t.text)
            return Literal("number", value, t.pos)
        if t.kind == "date":
            self.next()
            return Literal("date", t.text, t.pos)
        if t.kind == "datetime":
            self.next()
            return Literal("datetime", t.text, t.pos)
        if t.kind == "ident":
            word = t.upper
            if word in ("TRUE", "FALSE"):
                self.next()
                return Literal("boolean", word == "TRUE", t.pos)
            if word == "NULL":
                self.next()
                return Literal("null", None, t.pos)
            if word in DATE_LITERALS:
                self.next()
                return Literal("dateliteral", (word, 1), t.pos)
            if word in _N_LITERALS:
                self.next()
                self.expect(":")
                return Literal("dateliteral", (word, self.integer()), t.pos)
        raise self.fail()


def _unsupported(what: str) -> SalesforceApiError:
    return SalesforceApiError(
        400,
        "MALFORMED_QUERY",
        f"{what} not supported by the Salesforce emulator (see "
        "docs/emulators/salesforce.md); select plain fields and COUNT() only",
    )


def _unescape(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in ("%", "_"):
                out.append("\\" + nxt)  # kept for LIKE; stripped for other comparisons
            else:
                out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_soql(text: str) -> Query:
    """Parse one SOQL statement.

    Raises:
        SalesforceApiError: ``MALFORMED_QUERY`` with Salesforce's message layout.
    """
    if not text or not text.strip():
        raise SalesforceApiError(400, "MALFORMED_QUERY", "SOQL statement cannot be empty")
    return _Parser(text).query()
