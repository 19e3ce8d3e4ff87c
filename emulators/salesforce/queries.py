"""Run SOQL for the REST ``query``/``queryAll`` resources and keep their cursors.

A query is evaluated once into the list of matching row ids (a snapshot of which records
match, like Salesforce's server-side cursor); each page then reads those rows. Pages hold
2,000 records; ``nextRecordsUrl`` is a path ``/services/data/vNN.0/query/01g…-2000``. The
newest 500 cursors are kept, finished or not (a page can be fetched again after a lost
response); an evicted or unknown one is ``INVALID_QUERY_LOCATOR``.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulators.salesforce.errors import SalesforceApiError
from emulators.salesforce.schema import OrgSchema
from emulators.salesforce.soql.compiler import CompiledQuery, compile_query
from emulators.salesforce.soql.parser import parse_soql
from emulators.salesforce.soql.records import fetch_rows, json_records
from emulators.salesforce.store import OrgStore

__all__ = ["QueryService", "new_locator"]

PAGE_SIZE = 2000
MAX_CURSORS = 500
_ALNUM = string.ascii_letters + string.digits


def new_locator(prefix: str) -> str:
    """A random 18-character id with the given key prefix (cursors ``01g``, jobs ``750``)."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(15))


@dataclass
class _Cursor:
    plan: CompiledQuery
    rowids: list[int]
    resource: str
    page_size: int


class QueryService:
    """Plans, runs and pages SOQL queries against one org store."""

    def __init__(
        self,
        store: OrgStore,
        *,
        page_size: int = PAGE_SIZE,
        relax_filter_rules: Callable[[str], bool] | None = None,
    ) -> None:
        self.store = store
        self.page_size = page_size
        self.relax = relax_filter_rules
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._lock = threading.Lock()

    def plan(
        self, soql: str, schema: OrgSchema, *, include_deleted: bool, bulk: bool = False
    ) -> CompiledQuery:
        """Parse and compile ``soql`` against ``schema``."""
        return compile_query(
            parse_soql(soql),
            schema,
            today=self.store.clock.now().date(),
            include_deleted=include_deleted,
            bulk=bulk,
            relax_filter_rules=self.relax,
        )

    def matching_rowids(self, plan: CompiledQuery) -> list[int]:
        """Row ids matching ``plan``, in result order."""
        sql, params = plan.rowids_sql()
        return [r[0] for r in self.store.execute(sql, params)]

    def run(
        self,
        soql: str,
        *,
        include_deleted: bool,
        base: str,
        schema: OrgSchema | None = None,
        resource: str = "query",
        batch_size: int | None = None,
    ) -> dict[str, Any]:
        """The first page of a REST query response.

        ``batch_size`` comes from ``Sforce-Query-Options: batchSize=N`` (200 to 2,000, a hint
        Salesforce may round; here it is honoured exactly within that range).
        """
        plan = self.plan(soql, schema or self.store.schema, include_deleted=include_deleted)
        if plan.aggregate is not None:
            return self._aggregate(plan)
        rowids = self.matching_rowids(plan)
        size = self.page_size if batch_size is None else max(200, min(batch_size, PAGE_SIZE))
        cursor = _Cursor(plan, rowids, resource, min(size, self.page_size))
        if len(rowids) <= cursor.page_size:
            return self._page(cursor, None, 0, base)
        locator = new_locator("01g")
        with self._lock:
            self._cursors[locator] = cursor
            while len(self._cursors) > MAX_CURSORS:
                self._cursors.popitem(last=False)
        return self._page(cursor, locator, 0, base)

    def more(self, locator: str, offset: int, base: str) -> dict[str, Any]:
        """A later page of a cursor (``nextRecordsUrl``)."""
        with self._lock:
            cursor = self._cursors.get(locator)
        if cursor is None or offset < 0 or offset > len(cursor.rowids):
            raise SalesforceApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor, locator, offset, base)

    def _page(self, cursor: _Cursor, locator: str | None, offset: int, base: str) -> dict[str, Any]:
        chunk = cursor.rowids[offset : offset + cursor.page_size]
        rows = fetch_rows(self.store, cursor.plan, chunk)
        end = offset + len(chunk)
        done = end >= len(cursor.rowids)
        out: dict[str, Any] = {"totalSize": len(cursor.rowids), "done": done}
        if not done and locator:
            out["nextRecordsUrl"] = f"{base}/{cursor.resource}/{locator}-{end}"
        # A finished cursor is kept (until evicted): a client retrying a page whose response
        # was lost must get the same page again, not INVALID_QUERY_LOCATOR.
        out["records"] = json_records(self.store, cursor.plan, rows, base)
        return out

    def _aggregate(self, plan: CompiledQuery) -> dict[str, Any]:
        sql, params = plan.count_sql()
        total = int(self.store.execute(sql, params)[0][0])
        total = max(0, total - (plan.offset or 0))
        if plan.limit is not None:
            total = min(total, plan.limit)
        if plan.count_only:
            return {"totalSize": total, "done": True, "records": []}
        alias = (plan.aggregate.alias if plan.aggregate else None) or "expr0"
        record = {"attributes": {"type": "AggregateResult"}, alias: total}
        return {"totalSize": 1, "done": True, "records": [record]}
