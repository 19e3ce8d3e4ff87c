"""Build the run's stored resolution context on local disk, in memory independent of org size.

:func:`shared.mapping.prepare.build_context` holds every live id of the org as Python sets
(about 280 bytes per record: 3.7 GiB at a million contacts). :func:`prepare_on_disk` produces
the very same stored lines (``context_store.encode_lines(build_context(...))``, byte for byte)
through a temporary SQLite file: one streaming pass per object writes its live ids and the
slim fields the pre-passes read, SQLite sorts and groups them, and the pure pre-passes of
``shared.mapping.dedup`` run on one small group or chunk at a time, their flags written to the
file as they are made. Each stays exact on parts (checked against dedup.py):

- ``duplicate_emails`` only compares records of one normalised email, so it runs on each
  email's records (read by email, then position). A record's flags follow the first-seen
  order of its groups: each group is keyed by its first position.
- ``missing_external_ids``, ``converted_leads`` and ``superseded`` decide record by record, in
  record order; they run on chunks in position order (``superseded`` on the records whose id
  is referenced, looked up in SQLite, with exactly those references).
- ``lead_contact_overlap`` pairs each lead with the contacts of its email, so it runs once per
  (email, lead) with all that email's contacts; flags are keyed by the lead's position, the
  order the whole-object call meets leads in.
- ``parent_cycles`` follows chains across the whole object: it runs in memory over the parent
  links of the companies that have a parent (companies are about a tenth of contacts).

Flags carry (part, unit, index) so reading them by key gives ``dedup.merge``'s order.

Memory: SQLite's page cache and sorter (each bounded by ``CACHE_KIB``), batches of ``BATCH``
rows and one stored line (``context_store.CHUNK`` ids or addresses, or
``context_store.FLAG_CHUNK`` flags: about 2 MB of JSON). Beyond those, only
what grows with something small, not with the org's record count: the records of the largest
email group, the parent links of companies that have a parent, users, cut links, object names.
Disk: about 145 bytes per record in ``workdir`` (196 MB at 100,000 contacts, 2.0 GB at a
million); SQLite's sorter spills to its own temporary directory (``SQLITE_TMPDIR``/``TMPDIR``)
while it builds indexes. Measured (``bench/scale.py --modes disk``): peak RSS 148 MiB at both
100,000 and 1,000,000 contacts, build time linear in the records.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from shared.ids import target_id, to_18
from shared.mapping import dedup
from shared.mapping.activities import matches
from shared.mapping.context import DynamicsUser, ResolutionContext, users_by_email
from shared.mapping.models import Mapping as MappingFile
from shared.mapping.models import ObjectMap, RouteMap
from shared.mapping.prepare import fields_read
from shared.run import context_store

Record = Mapping[str, Any]
T = TypeVar("T")

CACHE_KIB = 16 * 1024
"""SQLite page cache of the build; its sorter uses as much again. Larger buys no speed (the
operating system caches the file); at 100,000 contacts 8, 16 and 64 MiB built equally fast."""
BATCH = 5_000
"""Rows per insert and records per pre-pass chunk."""

_SCHEMA = """
CREATE TABLE present (obj INTEGER NOT NULL, id TEXT NOT NULL);
CREATE TABLE slim (seq INTEGER PRIMARY KEY, obj INTEGER NOT NULL, raw TEXT NOT NULL,
    id18 TEXT NOT NULL, email TEXT, data TEXT NOT NULL);
CREATE TABLE refs (ref INTEGER NOT NULL, value TEXT NOT NULL);
CREATE TABLE flags (obj TEXT NOT NULL, id TEXT NOT NULL, part INTEGER NOT NULL,
    unit INTEGER NOT NULL, sub INTEGER NOT NULL, skip INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE skipped (obj TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (obj, id))
    WITHOUT ROWID;
CREATE TABLE addresses (email TEXT PRIMARY KEY, entity_set TEXT NOT NULL, tid TEXT NOT NULL)
    WITHOUT ROWID;
"""
# Built once the streaming pass is done: SQLite sorts each in one go.
_INDEXES = (
    "CREATE INDEX present_ix ON present (obj, id)",
    "CREATE INDEX slim_email ON slim (obj, email) WHERE email IS NOT NULL",
    "CREATE INDEX refs_ix ON refs (ref, value)",
)
_GROUPS = (
    "SELECT email, seq, data FROM slim WHERE obj = ? AND email IS NOT NULL ORDER BY email, seq"
)
_PRESENT = "SELECT DISTINCT id FROM present WHERE obj = ? ORDER BY id"
_MIGRATED = (
    "SELECT DISTINCT id FROM present p WHERE obj = ? AND NOT EXISTS "
    "(SELECT 1 FROM skipped s WHERE s.obj = ? AND s.id = p.id) ORDER BY id"
)
_TRIMMED = (
    "SELECT EXISTS (SELECT 1 FROM skipped s WHERE s.obj = ? AND EXISTS "
    "(SELECT 1 FROM present p WHERE p.obj = ? AND p.id = s.id))"
)


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _line(data: dict[str, Any]) -> bytes:
    """One stored line, encoded as ``context_store`` encodes it."""
    return json.dumps(data, ensure_ascii=False, default=str).encode("utf-8") + b"\n"


def _email(rec: Record, email_field: str) -> str | None:
    """The key ``dedup`` groups people by (None for no address)."""
    value = rec.get(email_field)
    return (value.strip().lower() or None) if isinstance(value, str) else None


def _taken_by(route: RouteMap | None) -> Callable[[Record], bool]:
    return lambda rec: route is None or matches(route, rec)


@dataclass(frozen=True)
class _Parts:
    """The index of each pre-pass result in ``build_context``'s ``dedup.merge(*parts)``."""

    duplicates: list[tuple[str, int]]
    missing: list[tuple[str, int]]
    converted: int
    overlap: int
    superseded: list[tuple[ObjectMap, int]]
    cycles: list[tuple[str, str, int]]


def _parts(mapping: MappingFile) -> _Parts:
    dd = mapping.dedup
    n = itertools.count()
    duplicates: list[tuple[str, int]] = []
    missing: list[tuple[str, int]] = []
    for person in dd.people:
        duplicates.append((person, next(n)))
        if dd.external_id_field and dd.created_by_sync_field:
            missing.append((person, next(n)))
    converted, overlap = next(n), next(n)
    superseded = [(o, next(n)) for o in mapping.objects if o.superseded_by is not None]
    cycles = [
        (o.source, lk.source, next(n))
        for o in mapping.objects
        for lk in o.lookups
        if lk.object == o.name
    ]
    return _Parts(duplicates, missing, converted, overlap, superseded, cycles)


@dataclass
class _Build:
    """One build's connection and the small facts gathered along the way."""

    conn: sqlite3.Connection
    mapping: MappingFile
    parts: _Parts
    codes: dict[str, int] = field(default_factory=dict)
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # slim rows per object
    refs: dict[tuple[str, str], int] = field(default_factory=dict)
    cuts: set[tuple[str, str, str]] = field(default_factory=set)
    seq: int = 0
    pending: list[tuple[Any, ...]] = field(default_factory=list)

    # ---- flags --------------------------------------------------------------------------

    def flag(self, part: int, unit: int, flags: dedup.Flags) -> None:
        """Keep one pre-pass call's flags; ``unit`` orders calls within a part."""
        for (obj, sf_id), fl in flags.items():
            for sub, f in enumerate(fl):
                skip = f.outcome == "skipped_by_policy"
                data = json.dumps(f.__dict__, default=str)  # as context_store writes it
                self.pending.append((obj, sf_id, part, unit, sub, skip, data))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        self.conn.executemany("INSERT INTO flags VALUES (?, ?, ?, ?, ?, ?, ?)", self.pending)
        self.pending = []

    # ---- the streaming pass -------------------------------------------------------------

    def stream(self, sobject: str, records: Iterable[Record], keep: frozenset[str] | None) -> None:
        """Write one object's live ids (and slim records); iterates ``records`` once."""
        code = self.codes[sobject] = len(self.codes)
        deleted = self.mapping.policies.deleted_field
        first = self.seq
        ids: list[str] = []
        slim: list[tuple[int, str, Record]] = []
        for rec in records:
            if rec.get(deleted):
                continue
            sf_id = to_18(str(rec["Id"]))
            ids.append(sf_id)
            if keep is not None:
                slim.append((self.seq, sf_id, {k: rec[k] for k in keep if k in rec}))
                self.seq += 1
            if len(ids) >= BATCH:
                self._present(code, ids)
                ids = []
            if len(slim) >= BATCH:
                self._slim(sobject, code, slim)
                slim = []
        self._present(code, ids)
        if keep is not None:
            if slim:
                self._slim(sobject, code, slim)
            self.spans[sobject] = (first, self.seq)

    def _present(self, code: int, ids: list[str]) -> None:
        # One statement per batch: SQLite unpacks the array (much cheaper than a row per call).
        self.conn.execute(
            "INSERT INTO present SELECT ?, value FROM json_each(?)", (code, json.dumps(ids))
        )

    def _slim(self, sobject: str, code: int, chunk: list[tuple[int, str, Record]]) -> None:
        email_field = self.mapping.dedup.email_field
        self.conn.executemany(
            "INSERT INTO slim VALUES (?, ?, ?, ?, ?, ?)",
            (
                (seq, code, str(rec["Id"]), sf_id, _email(rec, email_field), json.dumps(rec))
                for seq, sf_id, rec in chunk
            ),
        )
        for (by_object, by_field), ref in self.refs.items():
            if by_object == sobject:
                self.conn.executemany(
                    "INSERT INTO refs VALUES (?, ?)",
                    ((ref, str(rec[by_field])) for _s, _i, rec in chunk if rec.get(by_field)),
                )
        # Record-by-record pre-passes run on the chunk as it passes.
        records = [rec for _s, _i, rec in chunk]
        unit = chunk[0][0]
        dd, policies = self.mapping.dedup, self.mapping.policies
        for person, part in self.parts.missing:
            if person == sobject and dd.external_id_field and dd.created_by_sync_field:
                found = dedup.missing_external_ids(
                    sobject, records, dd.external_id_field, dd.created_by_sync_field
                )
                self.flag(part, unit, found)
        if sobject == "Lead":
            self.flag(self.parts.converted, unit, dedup.converted_leads(records, policies))

    # ---- pre-passes over the whole file -------------------------------------------------

    def _groups(self, sobject: str) -> Iterator[tuple[str, list[tuple[str, int, str]]]]:
        """Slim records of ``sobject`` with an email, one email at a time, in email order."""
        code = self.codes.get(sobject)
        if code is None:
            return
        rows = self.conn.execute(_GROUPS, (code,))
        for email, group in itertools.groupby(rows, key=itemgetter(0)):
            yield email, list(group)

    def duplicates(self) -> None:
        email_field = self.mapping.dedup.email_field
        for person, part in self.parts.duplicates:
            for _email_key, group in self._groups(person):
                if len(group) > 1:
                    recs = [json.loads(data) for _e, _s, data in group]
                    self.flag(part, group[0][1], dedup.duplicate_emails(person, recs, email_field))

    def overlap(self) -> None:
        """Lead/contact pairs: a merge join of both objects' email groups."""
        dd, policies = self.mapping.dedup, self.mapping.policies
        contacts, leads = self._groups("Contact"), self._groups("Lead")
        c, lead = next(contacts, None), next(leads, None)
        while c is not None and lead is not None:
            if c[0] < lead[0]:
                c = next(contacts, None)
            elif c[0] > lead[0]:
                lead = next(leads, None)
            else:
                people = [json.loads(data) for _e, _s, data in c[1]]
                for _e, seq, data in lead[1]:
                    rec = json.loads(data)
                    if rec.get(policies.converted_field) is True:
                        continue
                    found = dedup.lead_contact_overlap(
                        people, [rec], dd.email_field, policies.lead_contact_same_person
                    )
                    self.flag(self.parts.overlap, seq, found)
                c, lead = next(contacts, None), next(leads, None)

    def superseded(self) -> None:
        for obj, part in self.parts.superseded:
            sup = obj.superseded_by
            span = self.spans.get(obj.source)
            if sup is None or span is None:
                continue
            rows = self.conn.execute(
                "SELECT seq, data FROM slim s WHERE seq >= ? AND seq < ? AND EXISTS "
                "(SELECT 1 FROM refs r WHERE r.ref = ? AND r.value = s.raw) ORDER BY seq",
                (*span, self.refs[(sup.object, sup.field)]),
            )
            taken = _taken_by(obj.route)
            for chunk in _batched(rows, BATCH):
                recs = [json.loads(data) for _s, data in chunk]
                # Exactly the references these records are named by.
                by = [{sup.field: str(rec["Id"])} for rec in recs]
                found = dedup.superseded(obj.source, recs, sup.object, by, sup.field, taken)
                self.flag(part, chunk[0][0], found)

    def cycles(self) -> None:
        for source, parent_field, part in self.parts.cycles:
            span = self.spans.get(source)
            rows: Iterable[tuple[str]] = (
                self.conn.execute(
                    "SELECT data FROM slim WHERE seq >= ? AND seq < ? ORDER BY seq", span
                )
                if span is not None
                else ()
            )
            recs = (json.loads(data) for (data,) in rows)
            found, cut = dedup.parent_cycles(source, recs, parent_field)
            self.flag(part, 0, found)
            self.cuts |= cut

    def addresses(self, namespace: uuid.UUID) -> None:
        """First migrated person per email, in entry order then record order."""
        self.conn.execute(
            "INSERT OR IGNORE INTO skipped SELECT obj, id FROM flags WHERE skip ORDER BY obj, id"
        )
        for obj in self.mapping.objects:
            code = self.codes.get(obj.source)
            if obj.target not in ("contact", "lead") or obj.route is not None or code is None:
                continue
            rows = self.conn.execute(
                "SELECT email, id18 FROM slim s WHERE obj = ? AND email IS NOT NULL AND NOT "
                "EXISTS (SELECT 1 FROM skipped k WHERE k.obj = ? AND k.id = s.id18) "
                "ORDER BY email, seq",
                (code, obj.source),
            )
            firsts = (
                (email, next(group)[1]) for email, group in itertools.groupby(rows, itemgetter(0))
            )
            for chunk in _batched(firsts, BATCH):
                self.conn.executemany(
                    "INSERT OR IGNORE INTO addresses VALUES (?, ?, ?)",
                    [(e, obj.entity_set, target_id(namespace, obj.source, i)) for e, i in chunk],
                )


class PreparedContext:
    """A resolution context built on disk; a context manager that deletes its file.

    Attributes:
        path: The SQLite file (in the ``workdir`` given to :func:`prepare_on_disk`).
        flags: Number of pre-pass flags (summed over records), for the step's summary.
        users: Number of Dynamics users by email.
    """

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        header: bytes,
        objects: dict[str, int],
        trimmed: dict[str, bool],
        users: int,
    ) -> None:
        self.path = path
        self._conn = conn
        self._header = header
        self._objects = objects
        self._trimmed = trimmed  # per source object: is some present id skipped?
        self.flags: int = conn.execute("SELECT COUNT(*) FROM flags").fetchone()[0]
        self.users = users

    def lines(self) -> Iterator[bytes]:
        """The stored form, line by line: ``context_store.encode_lines`` of the same context."""
        yield self._header
        for name, code in sorted(self._objects.items()):
            yield _line({"part": "present", "object": name, "ids": []})
            for part in _batched(self._ids(_PRESENT, (code,)), context_store.CHUNK):
                yield _line({"part": "present", "object": name, "ids": part})
        for name, trimmed in sorted(self._trimmed.items()):
            if not trimmed:
                yield _line({"part": "migrated", "object": name, "same_as_present": True})
                continue
            yield _line({"part": "migrated", "object": name, "ids": []})
            rows = self._ids(_MIGRATED, (self._objects[name], name))
            for part in _batched(rows, context_store.CHUNK):
                yield _line({"part": "migrated", "object": name, "ids": part})
        yield from self._flag_lines()
        rows = self._conn.execute("SELECT email, entity_set, tid FROM addresses ORDER BY email")
        for chunk in _batched(rows, context_store.CHUNK):
            yield _line({"part": "addresses", "items": {e: [s, t] for e, s, t in chunk}})

    def _ids(self, sql: str, args: tuple[Any, ...]) -> Iterator[str]:
        return (sf_id for (sf_id,) in self._conn.execute(sql, args))

    def _flag_lines(self) -> Iterator[bytes]:
        rows = self._conn.execute(
            "SELECT obj, id, data FROM flags ORDER BY obj, id, part, unit, sub"
        )
        keyed = itertools.groupby(rows, key=itemgetter(0, 1))
        items = ([obj, sf_id, [json.loads(r[2]) for r in fl]] for (obj, sf_id), fl in keyed)
        for chunk in _batched(items, context_store.FLAG_CHUNK):
            yield _line({"part": "flags", "items": chunk})

    def close(self) -> None:
        """Close and delete the file."""
        self._conn.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> PreparedContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA temp_store = FILE")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.executescript(_SCHEMA)
    return conn


def prepare_on_disk(
    records: Mapping[str, Iterable[Record]],
    mapping: MappingFile,
    *,
    namespace: uuid.UUID,
    users: Iterable[Mapping[str, Any]] = (),
    fallback_owner_email: str | None = None,
    run_id: str = "run",
    workdir: Path,
) -> PreparedContext:
    """Run the pre-passes of :func:`~shared.mapping.prepare.build_context` through SQLite.

    Args:
        records: Staged records per Salesforce object (JSON values, as staged); each is
            iterated once, so it may be a generator reading the stage.
        mapping: The confirmed mapping (policies, dedup fields, self-lookups).
        namespace: ``shared.ids.org_namespace`` of the source org.
        users: ``systemuser`` rows read from the target.
        fallback_owner_email: ``dataverse.fallback_owner_email``.
        run_id: The run, for stage keys of file bodies.
        workdir: Local directory for the temporary SQLite file (deleted by ``close``).

    Returns:
        The built context; ``lines()`` gives its stored form.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="context-", suffix=".sqlite", dir=workdir)
    os.close(fd)
    path = Path(name)
    conn: sqlite3.Connection | None = None
    try:
        conn = _connect(path)
        build = _Build(conn, mapping, _parts(mapping))
        for obj in mapping.objects:
            if obj.superseded_by is not None:
                key = (obj.superseded_by.object, obj.superseded_by.field)
                build.refs.setdefault(key, len(build.refs))
        wanted = fields_read(mapping)
        conn.execute("BEGIN")
        for sobject, recs in records.items():
            build.stream(sobject, recs, wanted.get(sobject))
        for index in _INDEXES:  # (not executescript: it would end the transaction)
            conn.execute(index)
        build.duplicates()
        build.overlap()
        build.superseded()
        build.cycles()
        build.flush()
        conn.execute("CREATE INDEX flags_ix ON flags (obj, id, part, unit, sub)")
        build.addresses(namespace)
        sources = {o.source for o in mapping.objects}
        trimmed = {
            name: bool(conn.execute(_TRIMMED, (name, code)).fetchone()[0])
            for name, code in build.codes.items()
            if name in sources
        }
        conn.execute("COMMIT")
        by_email = users_by_email(list(users))
        fallback: DynamicsUser | None = (
            by_email.get(fallback_owner_email.strip().lower()) if fallback_owner_email else None
        )
        head = ResolutionContext(
            namespace=namespace,
            run_id=run_id,
            users=by_email,
            fallback_owner=fallback,
            cut_links=frozenset(build.cuts),
        )
        # The header of a context without ids is the header of this one.
        header = next(context_store.encode_lines(head))
        return PreparedContext(path, conn, header, build.codes, trimmed, len(by_email))
    except BaseException:
        if conn is not None:
            conn.close()
        path.unlink(missing_ok=True)
        raise
