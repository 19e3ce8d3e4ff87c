"""Compile a SOQL AST into SQLite over the org store, raising Salesforce's own errors.

Parent paths (``Account.Owner.Email``) become LEFT JOINs; a polymorphic relationship
(``Who``, ``What``, ``Owner`` on Lead and Task) joins every referenced object that exists and
exposes the fields of Salesforce's ``Name`` entity (``Who.Type`` comes from the id's key
prefix). Comparisons follow SOQL, not SQL: text compares case-insensitively, ``!=`` and
``NOT IN`` keep null rows, and ``= null`` means IS NULL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from emulators.salesforce.errors import SalesforceApiError, invalid_field, invalid_type
from emulators.salesforce.schema import ObjectSchema, OrgSchema
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
    Query,
)
from emulators.salesforce.soql.dates import date_literal_range
from emulators.salesforce.soql.parser import located
from emulators.salesforce.store import quote_ident
from emulators.salesforce.values import format_datetime, normalize_id, parse_datetime

__all__ = ["Column", "CompiledQuery", "Relation", "compile_query"]

TEXT_TYPES = {
    "string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox",
    "encryptedstring", "time",
}  # fmt: skip
_NUMBER_TYPES = {"int", "long", "double", "currency", "percent"}
_NAME_ENTITY_FIELDS = [
    "Id", "Name", "FirstName", "LastName", "Email", "Phone", "Title", "Alias", "IsActive",
    "Username", "Type",
]  # fmt: skip
KNOWN_PREFIXES = {
    "00G": "Group", "500": "Case", "701": "Campaign", "800": "Contract", "02i": "Asset",
    "01t": "Product2", "0Q0": "Quote", "00D": "Organization",
}  # fmt: skip
_TYPE_META: dict[str, Any] = {"name": "Type", "type": "string", "label": "Type", "length": 255}
MAX_OFFSET = 2000


@dataclass
class Relation:
    """One joined parent relationship: its output path and how to find its id and type."""

    path: tuple[str, ...]
    id_sql: str
    type_name: str | None
    type_sql: str | None = None


@dataclass
class Column:
    """One selected field: output path, SQL expression(s) and the field's describe entry."""

    path: tuple[str, ...]
    kind: str  # "field" | "compound" | "blob"
    meta: dict[str, Any]
    sql: list[str]
    parts: list[str] = field(default_factory=list)


@dataclass
class CompiledQuery:
    """A query ready to run: FROM/JOIN, WHERE, ORDER BY, and the columns to shape."""

    obj: ObjectSchema
    from_sql: str
    where_sql: str
    params: list[Any]
    order_sql: str
    limit: int | None
    offset: int | None
    columns: list[Column]
    relations: list[Relation]
    count_only: bool
    aggregate: Count | None
    aggregate_sql: str | None = None

    def select_sql(self) -> str:
        """The SELECT list: rowid, Id, each relation's id and type, then each column."""
        exprs = ["t0.rowid", 't0."Id"']
        for rel in self.relations:
            exprs.append(rel.id_sql)
            exprs.append(rel.type_sql or "NULL")
        for col in self.columns:
            exprs.extend(col.sql)
        return ", ".join(exprs)

    def rowids_sql(self) -> tuple[str, list[Any]]:
        """SQL returning the matching rowids in result order (LIMIT/OFFSET applied)."""
        sql = (
            f"SELECT t0.rowid FROM {self.from_sql} WHERE {self.where_sql} ORDER BY {self.order_sql}"
        )
        params = list(self.params)
        if self.limit is not None or self.offset:
            sql += " LIMIT ? OFFSET ?"
            params += [self.limit if self.limit is not None else -1, self.offset or 0]
        return sql, params

    def count_sql(self) -> tuple[str, list[Any]]:
        """SQL counting the matching rows (before LIMIT/OFFSET)."""
        expr = self.aggregate_sql or "*"
        return f"SELECT COUNT({expr}) FROM {self.from_sql} WHERE {self.where_sql}", list(
            self.params
        )

    def params_for_fetch(self) -> list[Any]:
        """Parameters the fetch SQL needs before the rowids (none: joins take no values)."""
        return []

    def fetch_sql(self, count: int) -> str:
        """SQL fetching full rows for ``count`` rowids (order restored by the caller)."""
        marks = ", ".join("?" for _ in range(count))
        return f"SELECT {self.select_sql()} FROM {self.from_sql} WHERE t0.rowid IN ({marks})"


@dataclass
class _Join:
    path: tuple[str, ...]
    targets: list[tuple[str, ObjectSchema]]
    ref_sql: str
    poly: bool


class _Compiler:
    def __init__(
        self,
        schema: OrgSchema,
        obj: ObjectSchema,
        *,
        today: dt.date,
        alias_prefix: str = "t",
        include_deleted: bool = False,
        source: str = "",
    ) -> None:
        self.source = source
        self.schema = schema
        self.obj = obj
        self.today = today
        self.prefix = alias_prefix
        self.include_deleted = include_deleted
        self.joins: dict[tuple[str, ...], _Join] = {}
        self.join_sql: list[str] = []
        self.params: list[Any] = []
        self.counter = 0
        self.base = f"{alias_prefix}0"

    def alias(self) -> str:
        self.counter += 1
        return f"{self.prefix}{self.counter}"

    # -- field resolution ------------------------------------------------------------------

    def join(
        self, key: tuple[str, ...], alias: str, fmeta: dict[str, Any], canon: tuple[str, ...]
    ) -> _Join:
        if key in self.joins:
            return self.joins[key]
        ref_sql = f"{alias}.{quote_ident(fmeta['name'])}"
        targets: list[tuple[str, ObjectSchema]] = []
        for name in fmeta["referenceTo"]:
            target = self.schema.get(name)
            if target is None:
                continue
            a = self.alias()
            self.join_sql.append(
                f'LEFT JOIN {quote_ident(target.name)} AS {a} ON {a}."Id" = {ref_sql}'
            )
            targets.append((a, target))
        poly = len(fmeta["referenceTo"]) > 1
        if not targets and not poly:
            raise _bad_relationship(canon[-1])
        self.joins[key] = _Join(canon, targets, ref_sql, poly)
        return self.joins[key]

    def resolve(
        self, ref: FieldRef
    ) -> tuple[str, dict[str, Any], tuple[str, ...], _Join | None, ObjectSchema]:
        """SQL expression, field meta, canonical path, last join, object owning the field."""
        try:
            return self._resolve(ref)
        except SalesforceApiError as exc:
            raise located(exc, self.source, ref.pos) from None

    def _resolve(
        self, ref: FieldRef
    ) -> tuple[str, dict[str, Any], tuple[str, ...], _Join | None, ObjectSchema]:
        obj, alias = self.obj, self.base
        canon: list[str] = []
        last: _Join | None = None
        parts = list(ref.parts)
        if len(parts) > 1 and parts[0].lower() == obj.name.lower():
            parts = parts[1:]
        for i, rel in enumerate(parts[:-1]):
            if last is not None and last.poly:
                raise invalid_field(rel, "Name")
            fmeta = obj.relationships.get(rel.lower())
            if fmeta is None:
                raise _bad_relationship(rel)
            canon.append(str(fmeta["relationshipName"]))
            key = tuple(p.lower() for p in parts[: i + 1])
            last = self.join(key, alias, fmeta, tuple(canon))
            if not last.poly:
                alias, obj = last.targets[0]
        name = parts[-1]
        if last is not None and last.poly:
            return self._poly_field(name, last, canon)
        meta = obj.visible.get(name.lower())
        if meta is None:
            raise invalid_field(name, obj.name)
        return f"{alias}.{quote_ident(meta['name'])}", meta, (*canon, meta["name"]), last, obj

    def _poly_field(
        self, name: str, join: _Join, canon: list[str]
    ) -> tuple[str, dict[str, Any], tuple[str, ...], _Join | None, ObjectSchema]:
        wanted = next((n for n in _NAME_ENTITY_FIELDS if n.lower() == name.lower()), None)
        if wanted is None:
            raise invalid_field(name, "Name")
        if wanted == "Type":
            return (
                _type_case(join.ref_sql, self.schema),
                _TYPE_META,
                (*canon, "Type"),
                join,
                self.obj,
            )
        exprs = []
        meta: dict[str, Any] | None = None
        for alias, target in join.targets:
            m = target.visible.get(wanted.lower())
            if m is not None:
                exprs.append(f"{alias}.{quote_ident(m['name'])}")
                meta = meta or m
        if meta is None:
            meta = {"name": wanted, "type": "string", "label": wanted, "length": 255}
        sql = (
            "NULL"
            if not exprs
            else exprs[0]
            if len(exprs) == 1
            else f"COALESCE({', '.join(exprs)})"
        )
        return sql, meta, (*canon, wanted), join, self.obj

    # -- select ------------------------------------------------------------------------------

    def columns(self, query: Query, *, bulk: bool) -> tuple[list[Column], list[Relation]]:
        cols: list[Column] = []
        seen: set[str] = set()
        rels: dict[tuple[str, ...], Relation] = {}
        for item in query.items:
            assert isinstance(item, FieldRef)
            sql, meta, path, join, owner = self.resolve(item)
            dotted = ".".join(path).lower()
            if dotted in seen:
                raise SalesforceApiError(
                    400, "INVALID_FIELD", f"duplicate field selected: {item.text}"
                )
            seen.add(dotted)
            if join is not None:
                self._relations_for(join, rels)
            if meta["type"] == "address" or meta["type"] == "location":
                if bulk:
                    raise SalesforceApiError(
                        400, "FUNCTIONALITY_NOT_ENABLED",
                        "Selecting compound data not supported in Bulk Query",
                    )  # fmt: skip
                alias = sql.rsplit(".", 1)[0]
                parts = owner.compound_parts(meta["name"])
                cols.append(Column(path, "compound", meta,
                                   [f"{alias}.{quote_ident(p['name'])}" for p in parts],
                                   [p["name"] for p in parts]))  # fmt: skip
            elif meta["type"] == "base64":
                if bulk:
                    raise SalesforceApiError(
                        400, "FUNCTIONALITY_NOT_ENABLED",
                        f"Selecting base64 field {meta['name']} is not supported in Bulk Query",
                    )  # fmt: skip
                alias = sql.rsplit(".", 1)[0]
                cols.append(Column(path, "blob", meta, [f'{alias}."Id"']))
            else:
                cols.append(Column(path, "field", meta, [sql]))
        return cols, list(rels.values())

    def _relations_for(self, join: _Join, rels: dict[tuple[str, ...], Relation]) -> None:
        for j in self.joins.values():
            if j.path == join.path[: len(j.path)] and j.path not in rels:
                if j.poly:
                    ids = [f'{a}."Id"' for a, _ in j.targets]
                    id_sql = (
                        ids[0]
                        if len(ids) == 1
                        else f"COALESCE({', '.join(ids)})"
                        if ids
                        else "NULL"
                    )
                    rels[j.path] = Relation(
                        j.path, id_sql, None, _type_case(j.ref_sql, self.schema)
                    )
                else:
                    alias, target = j.targets[0]
                    rels[j.path] = Relation(j.path, f'{alias}."Id"', target.name)

    # -- where -------------------------------------------------------------------------------

    def condition(self, cond: Condition) -> str:
        if isinstance(cond, And):
            return "(" + " AND ".join(self.condition(c) for c in cond.items) + ")"
        if isinstance(cond, Or):
            return "(" + " OR ".join(self.condition(c) for c in cond.items) + ")"
        if isinstance(cond, Not):
            return f"(NOT {self.condition(cond.item)})"
        try:
            if isinstance(cond, Compare):
                return self.compare(cond)
            if isinstance(cond, InList):
                return self.in_list(cond)
            return self.includes(cond)
        except SalesforceApiError as exc:
            raise located(exc, self.source, cond.field.pos) from None

    def filter_field(self, ref: FieldRef) -> tuple[str, dict[str, Any]]:
        sql, meta, _, _, _ = self.resolve(ref)
        if not meta.get("filterable", True) or meta["type"] in ("address", "location", "base64"):
            raise SalesforceApiError(
                400, "INVALID_FIELD",
                f"field '{meta['name']}' can not be filtered in a query call",
            )  # fmt: skip
        return sql, meta

    def compare(self, cond: Compare) -> str:
        sql, meta = self.filter_field(cond.field)
        ftype = meta["type"]
        lit = cond.value
        op = cond.op
        if lit.kind == "null":
            if op == "=":
                return f"({sql} IS NULL)"
            if op == "!=":
                return f"({sql} IS NOT NULL)"
            raise _type_error(meta)
        if op == "LIKE":
            if ftype not in TEXT_TYPES or lit.kind != "string":
                raise SalesforceApiError(
                    400, "INVALID_FIELD",
                    f"invalid operator on {ftype} field: {meta['name']}",
                )  # fmt: skip
            self.params.append(str(lit.value))
            return f"IFNULL({sql} LIKE ? ESCAPE '\\', 0)"
        if lit.kind == "dateliteral":
            return self.date_range(sql, meta, lit, op)
        value = self.value(meta, lit)
        self.params.append(value)
        collate = " COLLATE NOCASE" if ftype in TEXT_TYPES else ""
        if op == "!=":
            return f"({sql} IS NULL OR {sql} != ?{collate})"
        return f"IFNULL({sql} {op} ?{collate}, 0)"

    def date_range(self, sql: str, meta: dict[str, Any], lit: Literal, op: str) -> str:
        if meta["type"] not in ("date", "datetime"):
            raise _type_error(meta)
        assert isinstance(lit.value, tuple)
        name, n = lit.value
        start, end = date_literal_range(str(name), int(n), self.today)
        if meta["type"] == "datetime":
            lo: str = format_datetime(dt.datetime.combine(start, dt.time(), dt.UTC))
            hi: str = format_datetime(dt.datetime.combine(end, dt.time(), dt.UTC))
        else:
            lo, hi = start.isoformat(), end.isoformat()
        forms = {
            "=": (f"({sql} >= ? AND {sql} < ?)", [lo, hi]),
            "!=": (f"({sql} IS NULL OR {sql} < ? OR {sql} >= ?)", [lo, hi]),
            "<": (f"IFNULL({sql} < ?, 0)", [lo]),
            "<=": (f"IFNULL({sql} < ?, 0)", [hi]),
            ">": (f"IFNULL({sql} >= ?, 0)", [hi]),
            ">=": (f"IFNULL({sql} >= ?, 0)", [lo]),
        }
        text, params = forms[op]
        self.params.extend(params)
        return f"IFNULL({text}, 0)" if op in ("=",) else text

    def value(self, meta: dict[str, Any], lit: Literal) -> Any:
        ftype = meta["type"]
        if ftype in TEXT_TYPES:
            if lit.kind != "string":
                raise _type_error(meta)
            return str(lit.value).replace("\\%", "%").replace("\\_", "_")
        if ftype in ("id", "reference"):
            if lit.kind != "string":
                raise _type_error(meta)
            text = str(lit.value)
            if meta.get("durableId"):
                return text
            if len(text) not in (15, 18) or not text.isalnum():
                raise SalesforceApiError(
                    400, "INVALID_QUERY_FILTER_OPERATOR",
                    f"invalid ID field: {text}",
                )  # fmt: skip
            return normalize_id(text)
        if ftype == "boolean":
            if lit.kind != "boolean":
                raise _type_error(meta)
            return int(bool(lit.value))
        if ftype in _NUMBER_TYPES:
            if lit.kind != "number":
                raise _type_error(meta)
            return lit.value
        if ftype == "date":
            if lit.kind != "date":
                raise _type_error(meta)
            return lit.value
        if ftype == "datetime":
            if lit.kind != "datetime":
                raise _type_error(meta)
            return format_datetime(parse_datetime(str(lit.value)))
        raise _type_error(meta)

    def in_list(self, cond: InList) -> str:
        sql, meta = self.filter_field(cond.field)
        collate = " COLLATE NOCASE" if meta["type"] in TEXT_TYPES else ""
        if cond.subquery is not None:
            inner = self.subquery(cond.subquery)
            if cond.negate:
                return f"({sql} IS NULL OR {sql} NOT IN ({inner}))"
            return f"IFNULL({sql} IN ({inner}), 0)"
        values = [None if lit.kind == "null" else self.value(meta, lit) for lit in cond.values]
        has_null = any(v is None for v in values)
        concrete = [v for v in values if v is not None]
        self.params.extend(concrete)
        marks = ", ".join("?" for _ in concrete) or "NULL"
        if cond.negate:
            null_part = f"{sql} IS NOT NULL AND " if has_null else f"{sql} IS NULL OR "
            return f"({null_part}IFNULL({sql}{collate} NOT IN ({marks}), 1))"
        null_part = f" OR {sql} IS NULL" if has_null else ""
        return f"(IFNULL({sql}{collate} IN ({marks}), 0){null_part})"

    def subquery(self, query: Query) -> str:
        obj = self.schema.get(query.sobject)
        if obj is None:
            raise located(invalid_type(query.sobject), self.source, query.sobject_pos)
        if len(query.items) != 1 or not isinstance(query.items[0], FieldRef):
            raise SalesforceApiError(
                400, "MALFORMED_QUERY", "semi join sub-selects can only select one field"
            )
        sub = _Compiler(self.schema, obj, today=self.today, alias_prefix=self.prefix + "s",
                        include_deleted=self.include_deleted, source=self.source)  # fmt: skip
        sql, _, _, _, _ = sub.resolve(query.items[0])
        where = sub.where(query)
        self.params.extend(sub.params)
        return f"SELECT {sql} FROM {sub.from_sql()} WHERE {where}"

    def includes(self, cond: Includes) -> str:
        sql, meta = self.filter_field(cond.field)
        if meta["type"] != "multipicklist":
            raise SalesforceApiError(
                400, "INVALID_FIELD",
                f"includes or excludes operator only valid on multipicklist field: {meta['name']}",
            )  # fmt: skip
        ors = []
        for lit in cond.values:
            if lit.kind != "string":
                raise _type_error(meta)
            ands = []
            for part in str(lit.value).split(";"):
                self.params.append(f"%;{part.strip()};%")
                ands.append(f"(';' || REPLACE({sql}, '; ', ';') || ';') LIKE ?")
            ors.append("(" + " AND ".join(ands) + ")")
        text = "IFNULL(" + " OR ".join(ors) + ", 0)"
        return f"(NOT {text})" if cond.negate else text

    def where(self, query: Query) -> str:
        clauses = []
        if not self.include_deleted:
            if "isdeleted" in self.obj.fields:
                clauses.append(f'{self.base}."IsDeleted" = 0')
            if "isarchived" in self.obj.fields:
                clauses.append(f'IFNULL({self.base}."IsArchived", 0) = 0')
        if query.where is not None:
            clauses.append(self.condition(query.where))
        return " AND ".join(clauses) or "1"

    def from_sql(self) -> str:
        return " ".join([f"{quote_ident(self.obj.name)} AS {self.base}", *self.join_sql])

    def order(self, query: Query) -> str:
        parts = []
        for item in query.order_by:
            sql, meta, _, _, _ = self.resolve(item.field)
            if not meta.get("sortable", True):
                raise SalesforceApiError(
                    400, "INVALID_FIELD",
                    f"field '{meta['name']}' can not be sorted in a query call",
                )  # fmt: skip
            collate = " COLLATE NOCASE" if meta["type"] in TEXT_TYPES else ""
            direction = " DESC" if item.descending else " ASC"
            nulls = ""
            if item.nulls_last is not None:
                nulls = " NULLS LAST" if item.nulls_last else " NULLS FIRST"
            parts.append(f"{sql}{collate}{direction}{nulls}")
        parts.append(f"{self.base}.rowid")
        return ", ".join(parts)


def _type_case(ref_sql: str, schema: OrgSchema) -> str:
    prefixes = {**KNOWN_PREFIXES, **{p: o.name for p, o in schema.by_prefix.items()}}
    whens = " ".join(f"WHEN '{p}' THEN '{n}'" for p, n in sorted(prefixes.items()))
    return f"(CASE substr({ref_sql}, 1, 3) {whens} ELSE NULL END)"


def _type_error(meta: dict[str, Any]) -> SalesforceApiError:
    ftype = meta["type"]
    shown = {"datetime": "dateTime", "reference": "reference", "id": "id"}.get(ftype, ftype)
    quoted = ftype in TEXT_TYPES or ftype in ("id", "reference")
    hint = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    return SalesforceApiError(
        400,
        "INVALID_FIELD",
        f"value of filter criterion for field '{meta['name']}' must be of type {shown} and {hint}",
    )


def _bad_relationship(name: str) -> SalesforceApiError:
    return SalesforceApiError(
        400,
        "INVALID_FIELD",
        f"Didn't understand relationship '{name}' in field path. If you are attempting to use a "
        "custom relationship, be sure to append the '__r' after the custom relationship name. "
        "Please reference your WSDL or the describe call for the appropriate names.",
    )


def _has_required_filter(cond: Condition | None, names: Sequence[str]) -> bool:
    wanted = {n.lower() for n in names}
    if isinstance(cond, And):
        return any(_has_required_filter(c, names) for c in cond.items)
    if isinstance(cond, Compare):
        return (
            cond.op == "=" and cond.field.parts[-1].lower() in wanted and len(cond.field.parts) == 1
        )
    if isinstance(cond, InList):
        return (
            not cond.negate
            and cond.field.parts[-1].lower() in wanted
            and len(cond.field.parts) == 1
        )
    return False


def compile_query(
    query: Query,
    schema: OrgSchema,
    *,
    today: dt.date,
    include_deleted: bool = False,
    bulk: bool = False,
    relax_filter_rules: Callable[[str], bool] | None = None,
) -> CompiledQuery:
    """Resolve names and types against ``schema`` and build the SQL.

    Args:
        query: Parsed statement.
        schema: The org schema with field-level security applied.
        today: The emulator clock's date (for ``TODAY``, ``LAST_N_DAYS:n``...).
        include_deleted: ``queryAll``: deleted and archived rows are visible.
        bulk: Bulk API 2.0 rules (no compound or base64 fields, no aggregates, no OFFSET).
        relax_filter_rules: Returns True for objects whose mandatory-filter rule is lifted.

    Raises:
        SalesforceApiError: INVALID_TYPE, INVALID_FIELD, MALFORMED_QUERY... as Salesforce.
    """
    obj = schema.get(query.sobject)
    if obj is None:
        raise located(invalid_type(query.sobject), query.text, query.sobject_pos)
    required = obj.describe.get("filterRequired")
    if (
        required
        and not (relax_filter_rules and relax_filter_rules(obj.name))
        and not _has_required_filter(query.where, required)
    ):
        raise SalesforceApiError(
            400, "MALFORMED_QUERY",
            f"Implementation restriction: {obj.name} requires a filter by a single Id on "
            f"{' or '.join(required[1:])} using the equals operator or multiple Id's using "
            "the IN operator.",
        )  # fmt: skip
    counts = [i for i in query.items if isinstance(i, Count)]
    if counts and (len(query.items) > 1 or bulk):
        raise SalesforceApiError(
            400, "MALFORMED_QUERY",
            "Aggregate queries are not supported in Bulk Query" if bulk else
            "COUNT can only be selected alone (GROUP BY is not supported by the emulator)",
        )  # fmt: skip
    if bulk and query.offset is not None:
        raise SalesforceApiError(
            400, "FUNCTIONALITY_NOT_ENABLED", "OFFSET is not supported in Bulk Query"
        )
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise SalesforceApiError(
            400, "NUMBER_OUTSIDE_VALID_RANGE",
            f"Maximum SOQL offset allowed is {MAX_OFFSET}",
        )  # fmt: skip
    c = _Compiler(schema, obj, today=today, include_deleted=include_deleted, source=query.text)
    aggregate = counts[0] if counts else None
    columns: list[Column] = []
    relations: list[Relation] = []
    aggregate_sql = None
    if aggregate is None:
        columns, relations = c.columns(query, bulk=bulk)
    elif aggregate.field is not None:
        aggregate_sql, _, _, _, _ = c.resolve(aggregate.field)
    where = c.where(query)
    order = c.order(query)
    return CompiledQuery(
        obj=obj,
        from_sql=c.from_sql(),
        where_sql=where,
        params=c.params,
        order_sql=order,
        limit=query.limit,
        offset=query.offset,
        columns=columns,
        relations=relations,
        count_only=aggregate is not None and aggregate.field is None,
        aggregate=aggregate,
        aggregate_sql=aggregate_sql,
    )
