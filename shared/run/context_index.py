"""The run's resolution context in a local SQLite file, asked one batch at a time.

The context holds every id of the org. As Python sets that is about 280 bytes per record:
370 MiB at 100,000 contacts, 3.7 GiB at a million, in every process that loads. A load
activity needs far less: one staged batch refers to a few thousand ids. So each machine copies
the stored context (``shared.run.context_store``) once into an SQLite file on local disk, and
before a batch is transformed the index answers, in a handful of queries, exactly what that
batch asks (``shared.mapping.context.References``, collected by
``CompiledMapping.references``): which of its referenced ids exist and will be migrated, the
pre-pass flags of its records and the addresses its email parties name. The transform gets
those as an ordinary, small :class:`ResolutionContext`, so its hot path is unchanged and it
stays pure; the answers are the whole context's (``tests/shared/run/test_context_index.py``
compares every record of a generated org both ways).

Memory: SQLite's page cache per connection (a few MiB) and one batch's view; nothing grows
with the org. Disk: ~40 bytes per id. Users, the fallback owner and the cut links stay in
memory (hundreds of rows, not millions).

Files: ``<tempdir>/leadfwd-context/<run>-<digest>.sqlite``, named by the digest the stage keeps
beside the stored context, so every process of one machine (and every phase) shares one file
and a context stored anew gets a new file. It is built under a lock into a temporary name and
renamed when complete, so a crash never leaves a half-built index to be reused. A context
stored before digests existed gets a private file, removed when the process exits.
:func:`remove_local` deletes a run's files when the run ends.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import sqlite3
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

from shared.mapping.context import Flag, FlagKey, References, ResolutionContext
from shared.run import context_store
from shared.stage.base import Stage

# Ids per query: json_each hands SQLite one parameter, so this only bounds one statement's work.
QUERY_CHUNK = 20_000
# Ids whose answers are remembered across batches (~150 bytes each: ~10 MiB at the bound).
ANSWER_MEMO = 65_536
# Page cache per reading connection (one per thread): bounded, whatever the org's size.
CACHE_KIB = 8_192
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE present (id TEXT NOT NULL, obj INTEGER NOT NULL, PRIMARY KEY (id, obj))
    WITHOUT ROWID;
CREATE TABLE migrated (id TEXT NOT NULL, obj INTEGER NOT NULL, PRIMARY KEY (id, obj))
    WITHOUT ROWID;
CREATE TABLE flags (id TEXT NOT NULL, obj INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (id, obj)) WITHOUT ROWID;
CREATE TABLE addresses (email TEXT PRIMARY KEY, entity_set TEXT NOT NULL, tid TEXT NOT NULL)
    WITHOUT ROWID;
"""


def default_dir() -> Path:
    """Where indexes are kept: local disk of this machine."""
    return Path(tempfile.gettempdir()) / "leadfwd-context"


def _safe(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", run_id)


class _Objects:
    """Object names ↔ small integer codes (stored once in ``meta``)."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def code(self, name: str) -> int:
        found = self.codes.get(name)
        if found is None:
            found = self.codes[name] = len(self.codes)
        return found


def build(head: dict[str, Any], parts: Iterable[dict[str, Any]], path: Path) -> None:
    """Write an index of a stored context (``context_store.read_parts``) to ``path``.

    Streams: one stored line (at most ``context_store.CHUNK`` ids) in memory at a time.
    Written to a temporary name and renamed, so ``path`` exists only when complete.
    """
    if "format" not in head:  # stored as one document: re-read through the line format
        ctx = context_store.context_from_parts(head, parts)
        head, parts = context_store.read_parts(BytesIO(context_store.encode(ctx)))
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.unlink(missing_ok=True)
    objects = _Objects()
    present: list[str] = []
    migrated: dict[str, str] = {}  # object → "ids" or "same"
    flagged: set[str] = set()
    conn = sqlite3.connect(tmp)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(_SCHEMA)
        for part in parts:
            kind = part["part"]
            if kind == "present":
                obj = part["object"]
                if obj not in present:
                    present.append(obj)
                code = objects.code(obj)
                conn.executemany(
                    "INSERT OR IGNORE INTO present VALUES (?, ?)", ((i, code) for i in part["ids"])
                )
            elif kind == "migrated" and part.get("same_as_present"):
                migrated[part["object"]] = "same"
            elif kind == "migrated":
                obj = part["object"]
                migrated.setdefault(obj, "ids")
                code = objects.code(obj)
                conn.executemany(
                    "INSERT OR IGNORE INTO migrated VALUES (?, ?)", ((i, code) for i in part["ids"])
                )
            elif kind == "flags":
                items = part["items"]
                rows = [(sf_id, objects.code(obj), json.dumps(fl)) for obj, sf_id, fl in items]
                flagged.update(obj for obj, _id, _fl in part["items"])
                conn.executemany("INSERT OR REPLACE INTO flags VALUES (?, ?, ?)", rows)
            elif kind == "addresses":
                conn.executemany(
                    "INSERT OR REPLACE INTO addresses VALUES (?, ?, ?)",
                    ((email, ref[0], ref[1]) for email, ref in part["items"].items()),
                )
        meta = {
            "head": head,
            "objects": objects.codes,
            "present": present,
            "migrated": migrated,
            "flagged": sorted(flagged),
        }
        conn.execute("INSERT INTO meta VALUES ('index', ?)", (json.dumps(meta),))
        conn.commit()
    finally:
        conn.close()
    tmp.replace(path)


class ContextIndex:
    """A built index, opened read-only; :meth:`view` answers one batch's :class:`References`.

    Thread-safe: each thread opens its own connection (SQLite connections are per thread).
    """

    def __init__(self, path: Path, excluded: Mapping[str, frozenset[str]] | None = None) -> None:
        self.path = path
        self.excluded: Mapping[str, frozenset[str]] = excluded or {}
        self._local = threading.local()
        self._memo: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        meta = json.loads(self._conn().execute("SELECT value FROM meta").fetchone()[0])
        head = meta["head"]
        self._codes: dict[str, int] = meta["objects"]
        self._present: list[str] = meta["present"]
        self._migrated: dict[str, str] = meta["migrated"]
        self._flagged = frozenset(meta["flagged"])
        # Everything but the per-record parts, as the in-memory context holds it.
        self._base = context_store.context_from_parts(head, ())

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            self._local.conn = conn
        return conn

    @property
    def namespace(self) -> uuid.UUID:
        """The source org's namespace (``shared.ids.org_namespace``)."""
        return self._base.namespace

    def without(self, sobject: str, ids: frozenset[str]) -> ContextIndex:
        """The same index in which ``ids`` of ``sobject`` are no longer migrated."""
        excluded = dict(self.excluded)
        excluded[sobject] = excluded.get(sobject, frozenset()) | ids
        other = ContextIndex.__new__(ContextIndex)
        other.__dict__.update(self.__dict__)
        other.excluded = excluded
        return other

    def _found(self, table: str, ids: list[str]) -> dict[int, set[str]]:
        """The asked ids a table holds, by object code."""
        conn = self._conn()
        out: dict[int, set[str]] = {}
        for start in range(0, len(ids), QUERY_CHUNK):
            rows = conn.execute(
                f"SELECT obj, id FROM {table} WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(ids[start : start + QUERY_CHUNK]),),
            ).fetchall()
            for code, sf_id in rows:
                found = out.get(code)
                if found is None:
                    found = out[code] = set()
                found.add(sf_id)
        return out

    def _answers(self, ids: frozenset[str]) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
        """Per asked id, the object codes that hold it in ``present`` and in ``migrated``.

        Remembered across batches (batches of one object ask for the same parents again and
        again), up to ``ANSWER_MEMO`` ids, then forgotten all at once: bounded memory.
        """
        memo = self._memo
        out: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        missing: list[str] = []
        for sf_id in ids:
            known = memo.get(sf_id)  # (threads share the memo: never read it twice)
            if known is None:
                missing.append(sf_id)
            else:
                out[sf_id] = known
        if missing:
            missing.sort()  # key order: neighbouring pages of the index
            found = self._found("present", missing)
            explicit = self._found("migrated", missing) if "ids" in self._migrated.values() else {}
            if len(memo) + len(missing) > ANSWER_MEMO:
                memo.clear()
            for sf_id in missing:
                memo[sf_id] = out[sf_id] = (
                    tuple(code for code, held in found.items() if sf_id in held),
                    tuple(code for code, held in explicit.items() if sf_id in held),
                )
        return out

    def view(self, refs: References) -> ResolutionContext:
        """The context for one batch: the whole context's answers to ``refs``, nothing else."""
        by_code: dict[int, set[str]] = {}
        explicit: dict[int, set[str]] = {}
        for sf_id, (in_present, in_migrated) in self._answers(refs.ids).items():
            for code in in_present:
                by_code.setdefault(code, set()).add(sf_id)
            for code in in_migrated:
                explicit.setdefault(code, set()).add(sf_id)
        present = {name: frozenset(by_code.get(self._codes[name], ())) for name in self._present}
        migrated: dict[str, frozenset[str]] = {}
        for name, how in self._migrated.items():
            if how == "same":
                found = present.get(name, frozenset())
            else:
                found = frozenset(explicit.get(self._codes[name], ()))
            gone = self.excluded.get(name)
            migrated[name] = found - gone if gone else found
        return ResolutionContext(
            namespace=self._base.namespace,
            run_id=self._base.run_id,
            migrated=migrated,
            present=present,
            users=self._base.users,
            fallback_owner=self._base.fallback_owner,
            flags=self._flags(refs),
            cut_links=self._base.cut_links,
            addresses=self._addresses(refs.emails),
            owner_policy=self._base.owner_policy,
        )

    def _flags(self, refs: References) -> dict[FlagKey, tuple[Flag, ...]]:
        code = self._codes.get(refs.source)
        if refs.source not in self._flagged or code is None or not refs.record_ids:
            return {}
        out: dict[FlagKey, tuple[Flag, ...]] = {}
        conn = self._conn()
        ids = list(refs.record_ids)
        for start in range(0, len(ids), QUERY_CHUNK):
            rows = conn.execute(
                "SELECT id, data FROM flags WHERE obj = ? AND id IN "
                "(SELECT value FROM json_each(?))",
                (code, json.dumps(ids[start : start + QUERY_CHUNK])),
            )
            for sf_id, data in rows:
                stored = json.loads(data)
                out[(refs.source, sf_id)] = tuple(context_store.flag_from(f) for f in stored)
        return out

    def _addresses(self, emails: frozenset[str]) -> dict[str, tuple[str, str]]:
        if not emails:
            return {}
        conn = self._conn()
        found = conn.execute(
            "SELECT email, entity_set, tid FROM addresses WHERE email IN "
            "(SELECT value FROM json_each(?))",
            (json.dumps(sorted(emails)),),
        )
        return {email: (entity_set, tid) for email, entity_set, tid in found}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    if sys.platform == "win32":  # no flock: two processes may each build (own files, correct)
        yield
        return
    import fcntl

    with path.with_name(path.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_from_stage(stage: Stage, run_id: str, path: Path) -> None:
    with stage.open_read(context_store.context_key(run_id)) as stream:
        build(*context_store.read_parts(stream), path)


def open_local(stage: Stage, run_id: str, directory: Path | None = None) -> ContextIndex:
    """This machine's index of the run's stored context, built on first use.

    Raises:
        StageError: the run has no stored context (it never got past its pre-passes).
    """
    directory = directory or default_dir()
    directory.mkdir(parents=True, exist_ok=True)
    digest = context_store.stored_digest(stage, run_id)
    if digest is None:
        path = directory / f"{_safe(run_id)}-private-{uuid.uuid4().hex}.sqlite"
        _build_from_stage(stage, run_id, path)
        atexit.register(path.unlink, missing_ok=True)
        return ContextIndex(path)
    path = directory / f"{_safe(run_id)}-{digest[:32]}.sqlite"
    with _locked(path):
        if not path.exists():
            _build_from_stage(stage, run_id, path)
    return ContextIndex(path)


def remove_local(run_id: str, directory: Path | None = None) -> int:
    """Delete this machine's index files of a run; return how many were removed."""
    directory = directory or default_dir()
    removed = 0
    if not directory.is_dir():
        return 0
    mine = re.compile(re.escape(_safe(run_id)) + r"-(private-)?[0-9a-f]{32}\.sqlite(\.lock)?")
    for path in directory.iterdir():
        found = mine.fullmatch(path.name)
        if found:
            path.unlink(missing_ok=True)
            removed += 0 if found.group(2) else 1
    return removed


def index_of(ctx: ResolutionContext, path: Path) -> ContextIndex:
    """An index of an in-memory context (tests and benchmarks)."""
    build(*context_store.read_parts(BytesIO(context_store.encode(ctx))), path)
    return ContextIndex(path)
