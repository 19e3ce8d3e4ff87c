"""SQLite persistence: one table per entity (primary key + JSON row), under ``--data DIR``.

Rows are JSON objects keyed by column logical name; a lookup keeps its id under the column
name and its target table under ``"@t.<column>"``. Alternate keys get expression indexes, so
addressing by key and upserting by key stay fast. Writes of one request run in one
transaction (``transaction()`` nests: only the outermost level commits or rolls back), which
is what makes ``*Multiple`` requests and ``$batch`` change sets atomic.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

DB_FILE = "dataverse.sqlite"
Row = dict[str, Any]


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe identifier {name!r}")
    return f'"{name}"'


def row_table(logical: str) -> str:
    """The SQLite table holding rows of one Dataverse table."""
    return _ident(f"row_{logical}")


def json_path(column: str) -> str:
    """A JSON path literal for ``json_extract`` (column names are identifiers, never input)."""
    if not column.replace("_", "").replace("@", "").replace(".", "").isalnum():
        raise ValueError(f"unsafe column {column!r}")
    return f"'$.\"{column}\"'"


class Store:
    """The emulator's database. One connection, guarded by a lock; WAL mode."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_FILE
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self.lock = threading.RLock()
        self._depth = 0
        self._tables: set[str] = set()
        self._conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS custom_column (
                entity TEXT NOT NULL, logical TEXT NOT NULL, spec TEXT NOT NULL,
                PRIMARY KEY (entity, logical));
            CREATE TABLE IF NOT EXISTS entity_key (
                entity TEXT NOT NULL, schema_name TEXT NOT NULL, spec TEXT NOT NULL,
                PRIMARY KEY (entity, schema_name));
            CREATE TABLE IF NOT EXISTS token (token TEXT PRIMARY KEY, systemuserid TEXT NOT NULL);
            """
        )

    def close(self) -> None:
        """Close the connection (the data stays on disk)."""
        with self.lock:
            self._conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all; nested calls join the outer one."""
        with self.lock:
            if self._depth == 0:
                self._conn.execute("BEGIN")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._conn.execute("COMMIT")

    # -- schema -----------------------------------------------------------------------------
    def ensure_table(self, logical: str) -> None:
        """Create the row table of ``logical`` if needed."""
        if logical in self._tables:
            return
        with self.lock:
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {row_table(logical)} "
                "(id TEXT PRIMARY KEY, data TEXT NOT NULL)"
            )
            self._tables.add(logical)

    def ensure_index(self, logical: str, name: str, columns: Iterable[str]) -> None:
        """An expression index over JSON columns (used by alternate keys)."""
        exprs = ", ".join(f"json_extract(data, {json_path(c)})" for c in columns)
        with self.lock:
            self.ensure_table(logical)
            self._conn.execute(
                f"CREATE INDEX IF NOT EXISTS {_ident(f'ix_{logical}_{name}')} "
                f"ON {row_table(logical)} ({exprs})"
            )

    def drop_all_rows(self) -> None:
        """Empty every row table (admin reset); metadata customisations are dropped too."""
        with self.lock:
            names = [
                r[0]
                for r in self._conn.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'row_%'"
                )
            ]
            for name in names:
                self._conn.execute(f"DROP TABLE {_ident(name)}")
            for table in ("kv", "custom_column", "entity_key", "token"):
                self._conn.execute(f"DELETE FROM {table}")
            self._tables.clear()

    # -- rows -------------------------------------------------------------------------------
    def get(self, logical: str, row_id: str) -> Row | None:
        """One row by primary key, or None."""
        self.ensure_table(logical)
        with self.lock:
            cur = self._conn.execute(
                f"SELECT data FROM {row_table(logical)} WHERE id = ?", (row_id,)
            )
            found = cur.fetchone()
        return json.loads(found[0]) if found else None

    def get_many(self, logical: str, ids: list[str]) -> dict[str, Row]:
        """Rows by primary key (missing ids are absent from the result)."""
        self.ensure_table(logical)
        out: dict[str, Row] = {}
        with self.lock:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for rid, data in self._conn.execute(
                    f"SELECT id, data FROM {row_table(logical)} WHERE id IN ({marks})", chunk
                ):
                    out[rid] = json.loads(data)
        return out

    def put_many(self, logical: str, rows: list[tuple[str, Row]]) -> None:
        """Insert or replace rows (the caller has merged and validated them)."""
        self.ensure_table(logical)
        with self.lock, self.transaction():
            self._conn.executemany(
                f"INSERT OR REPLACE INTO {row_table(logical)} (id, data) VALUES (?, ?)",
                [(rid, json.dumps(row, separators=(",", ":"))) for rid, row in rows],
            )

    def delete(self, logical: str, row_id: str) -> bool:
        """Delete one row; False if it did not exist."""
        self.ensure_table(logical)
        with self.lock, self.transaction():
            cur = self._conn.execute(f"DELETE FROM {row_table(logical)} WHERE id = ?", (row_id,))
        return cur.rowcount > 0

    def find_by(self, logical: str, values: dict[str, Any]) -> list[str]:
        """Ids of rows whose JSON columns equal ``values`` (alternate-key lookups)."""
        self.ensure_table(logical)
        where = " AND ".join(f"json_extract(data, {json_path(c)}) = ?" for c in values)
        with self.lock:
            cur = self._conn.execute(
                f"SELECT id FROM {row_table(logical)} WHERE {where}", list(values.values())
            )
            return [r[0] for r in cur]

    def has_duplicates(self, logical: str, columns: list[str]) -> bool:
        """True if two rows share the (non-null) values of ``columns``."""
        self.ensure_table(logical)
        exprs = [f"json_extract(data, {json_path(c)})" for c in columns]
        where = " AND ".join(f"{e} IS NOT NULL" for e in exprs)
        sql = (
            f"SELECT 1 FROM {row_table(logical)} WHERE {where} "
            f"GROUP BY {', '.join(exprs)} HAVING count(*) > 1 LIMIT 1"
        )
        with self.lock:
            return self._conn.execute(sql).fetchone() is not None

    def select(
        self,
        logical: str,
        where: str,
        params: list[Any],
        order: str,
        limit: int | None,
        offset: int = 0,
    ) -> list[Row]:
        """Rows matching a SQL condition built by :mod:`odata_filter` (never from raw input)."""
        self.ensure_table(logical)
        sql = f"SELECT data FROM {row_table(logical)} WHERE {where} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        with self.lock:
            return [json.loads(r[0]) for r in self._conn.execute(sql, params)]

    def count(self, logical: str, where: str = "1", params: list[Any] | None = None) -> int:
        """Number of rows matching a condition."""
        self.ensure_table(logical)
        with self.lock:
            cur = self._conn.execute(
                f"SELECT count(*) FROM {row_table(logical)} WHERE {where}", params or []
            )
            return int(cur.fetchone()[0])

    def all_rows(self, logical: str) -> list[tuple[str, Row]]:
        """Every row of a table, sorted by primary key (for the canonical dump)."""
        self.ensure_table(logical)
        with self.lock:
            cur = self._conn.execute(f"SELECT id, data FROM {row_table(logical)} ORDER BY id")
            return [(r[0], json.loads(r[1])) for r in cur]

    def max_version(self, logicals: Iterable[str]) -> int:
        """Highest versionnumber stored (so versions keep growing across restarts)."""
        best = 0
        for logical in logicals:
            self.ensure_table(logical)
            with self.lock:
                cur = self._conn.execute(
                    f"SELECT max(json_extract(data, '$.versionnumber')) FROM {row_table(logical)}"
                )
                value = cur.fetchone()[0]
            best = max(best, int(value or 0))
        return best

    # -- small key/value state ----------------------------------------------------------------
    def kv_get(self, key: str) -> Any:
        """A JSON value stored under ``key`` (None if absent)."""
        with self.lock:
            found = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        return json.loads(found[0]) if found else None

    def kv_set(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``."""
        with self.lock, self.transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", (key, json.dumps(value))
            )

    def specs(self, table: str) -> list[tuple[str, str, dict[str, Any]]]:
        """Rows of ``custom_column`` or ``entity_key``: (entity, name, spec)."""
        if table not in ("custom_column", "entity_key"):
            raise ValueError(table)
        name_col = "logical" if table == "custom_column" else "schema_name"
        with self.lock:
            cur = self._conn.execute(f"SELECT entity, {name_col}, spec FROM {table}")
            return [(e, n, json.loads(s)) for e, n, s in cur]

    def put_spec(self, table: str, entity: str, name: str, spec: dict[str, Any]) -> None:
        """Insert or replace one custom column or key definition."""
        if table not in ("custom_column", "entity_key"):
            raise ValueError(table)
        with self.lock, self.transaction():
            self._conn.execute(
                f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)", (entity, name, json.dumps(spec))
            )

    def tokens(self) -> dict[str, str]:
        """Every bearer token and the systemuser it stands for."""
        with self.lock:
            return dict(self._conn.execute("SELECT token, systemuserid FROM token").fetchall())

    def put_token(self, token: str, systemuserid: str) -> None:
        """Remember a bearer token for a user."""
        with self.lock, self.transaction():
            self._conn.execute("INSERT OR REPLACE INTO token VALUES (?, ?)", (token, systemuserid))
