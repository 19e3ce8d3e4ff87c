"""The write-ahead journal: what a write step is about to change, stored before it changes it.

Before each write step the loader reads which of its ids already exist and stores, on the
stage, one *intent* entry: the ids about to be created, and for ids that exist their current
values and ETag (pre-images). Only then does it write. After the write it stores a *done*
entry with what was written and what was quarantined. Rollback reads these entries to delete
exactly what the run created and restore what it changed (``If-Match`` on the ETag, so a row a
person edited since is kept and reported). Format: ``docs/loader.md``.

Keys (one object each, written atomically by the stage, so a crash leaves whole entries)::

    <run_id>/journal/<phase_index:02d>-<phase>/<Object>/<batch:05d>/<seq:04d>-<kind>.json
    <run_id>/journal/<phase_index:02d>-<phase>/<Object>/<batch:05d>/<seq:04d>-<kind>.done.json

``seq`` grows within a batch across retries, so entries are totally ordered per batch; phases
are ordered by ``phase_index`` and rollback walks them backwards (children before parents).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from shared.dataverse.client import DataverseClient
from shared.dataverse.metadata import TableInfo
from shared.dataverse.reads import read_by_ids
from shared.errors import StageError
from shared.stage.base import Stage
from shared.stage.keys import check_key

__all__ = [
    "FORMAT",
    "Journal",
    "JournalEntry",
    "Kind",
    "batch_created_ids",
    "created_ids",
    "pre_image",
    "read_run_journal",
]

FORMAT = 1
FILE_CHUNK = 10
Kind = Literal["rows", "files", "close", "link", "delete", "parties"]
# Rollback undoes kinds in this order within a batch: links first, then states, then rows.
# ``delete`` entries (a delta applying a source deletion) hold full pre-images to re-create;
# ``parties`` entries hold activities' party lists (a collection no row read returns).
UNDO_ORDER: dict[str, int] = {
    "parties": 0,
    "link": 1,
    "close": 2,
    "files": 3,
    "rows": 4,
    "delete": 5,
}
_KEEP_ANNOTATIONS = (
    "@Microsoft.Dynamics.CRM.lookuplogicalname",
    "@Microsoft.Dynamics.CRM.associatednavigationproperty",
)


@dataclass(frozen=True)
class JournalEntry:
    """One intent entry. ``created`` ids are deleted on rollback; ``pre_images`` restored.

    ``existing`` lists the ids found in the target at the time of the read (including rows
    this batch created in an earlier attempt); ``created`` the ids this run creates.
    """

    run_id: str
    phase_index: int
    phase: str
    object: str
    batch: int
    seq: int
    kind: Kind
    table: str
    entity_set: str
    primary_id: str
    columns: list[str]
    existing: list[str]
    created: list[str]
    pre_images: dict[str, dict[str, Any]]
    at: str
    format: int = FORMAT
    done: dict[str, Any] | None = field(default=None, compare=False)
    current: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> bytes:
        """The stored form (without ``done``, which lives in its own object, and ``current``,
        the rows as read, which is only for the write that follows)."""
        data = asdict(self)
        data.pop("done")
        data.pop("current")
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode()


def pre_image(row: Mapping[str, Any]) -> dict[str, Any]:
    """The journalled form of a row as read: values, lookup annotations, ETag; no note body."""
    values = {
        k: v
        for k, v in row.items()
        if not k.startswith("@") and ("@" not in k or k.endswith(_KEEP_ANNOTATIONS))
    }
    body = values.pop("documentbody", None)
    if body:
        # A note body can be 128 MB: keep its fingerprint, not the body itself.
        values["documentbody_sha256"] = hashlib.sha256(str(body).encode()).hexdigest()
        values["documentbody_length"] = len(str(body))
    return {"etag": row.get("@odata.etag"), "values": values}


class Journal:
    """Journal of one staged batch of one object in one phase of a run.

    Args:
        stage: Where entries are stored (the run's stage).
        run_id, phase_index, phase, sobject, batch: Identify the batch.
        clock: UTC clock, injected for reproducible tests.
    """

    def __init__(
        self,
        stage: Stage,
        *,
        run_id: str,
        phase_index: int,
        phase: str,
        sobject: str,
        batch: int,
        clock: Any = None,
    ) -> None:
        self.stage = stage
        self.run_id = run_id
        self.phase_index = phase_index
        self.phase = phase
        self.sobject = sobject
        self.batch = batch
        self.prefix = _batch_prefix(run_id, phase_index, phase, sobject, batch)
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def entries(self) -> list[JournalEntry]:
        """Every intent entry of this batch, in order, with its done record if any."""
        return _read_entries(self.stage, self.prefix + "/")

    def _next_seq(self) -> int:
        keys = self.stage.list_keys(self.prefix + "/")
        seqs = [int(k.rsplit("/", 1)[1].split("-", 1)[0]) for k in keys]
        return max(seqs, default=0) + 1

    async def begin(
        self,
        client: DataverseClient,
        table: TableInfo,
        kind: Kind,
        ids: Iterable[str],
        columns: Iterable[str],
    ) -> JournalEntry:
        """Read what exists, store the intent durably, and return it. Call before writing.

        An id this batch created in an earlier attempt (a retry after a crash) stays
        "created" and gets no pre-image: its "previous value" is our own write, and rollback
        must delete it, not restore it.
        """
        wanted = sorted({i.lower() for i in ids})
        if wanted and (kind == "files" or table.logical == "annotation"):
            # Notes come back with their bodies: ask which exist (ids only, many at a time),
            # then read just those in full, a few at a time. A first load reads no body.
            there = await read_by_ids(client, table, wanted, select=[table.primary_id])
            found = sorted(there)
            existing = await read_by_ids(client, table, found, chunk=FILE_CHUNK) if found else {}
        else:
            existing = await read_by_ids(client, table, wanted) if wanted else {}
        earlier_created = {i for e in self.entries() for i in e.created}
        created = [i for i in wanted if i not in existing or i in earlier_created]
        pre = {i: pre_image(row) for i, row in existing.items() if i not in earlier_created}
        return self._store(
            table,
            kind,
            columns=sorted(set(columns)),
            existing=sorted(existing),
            created=created if kind in ("rows", "files") else [],
            pre_images=pre,
            current=existing,
        )

    def record(
        self, table: TableInfo, kind: Kind, pre_images: dict[str, dict[str, Any]]
    ) -> JournalEntry:
        """Store an intent entry whose pre-images the caller read itself (party lists)."""
        return self._store(
            table, kind, columns=[], existing=sorted(pre_images), created=[], pre_images=pre_images
        )

    def _store(
        self,
        table: TableInfo,
        kind: Kind,
        *,
        columns: list[str],
        existing: list[str],
        created: list[str],
        pre_images: dict[str, dict[str, Any]],
        current: dict[str, dict[str, Any]] | None = None,
    ) -> JournalEntry:
        """Build the next intent entry of this batch and store it durably."""
        entry = JournalEntry(
            run_id=self.run_id,
            phase_index=self.phase_index,
            phase=self.phase,
            object=self.sobject,
            batch=self.batch,
            seq=self._next_seq(),
            kind=kind,
            table=table.logical,
            entity_set=table.entity_set,
            primary_id=table.primary_id,
            columns=columns,
            existing=existing,
            created=created,
            pre_images=pre_images,
            at=self._clock().isoformat(),
            current=current or {},
        )
        self.stage.put_bytes(self._key(entry), entry.to_json())
        return entry

    def finish(
        self, entry: JournalEntry, *, written: Iterable[str], rejected: Iterable[str]
    ) -> None:
        """Record the outcome of the write the entry announced."""
        done = {
            "written": sorted(written),
            "rejected": sorted(rejected),
            "at": self._clock().isoformat(),
        }
        self.stage.put_bytes(
            self._key(entry).removesuffix(".json") + ".done.json",
            json.dumps(done, sort_keys=True).encode(),
        )

    def _key(self, entry: JournalEntry) -> str:
        return f"{self.prefix}/{entry.seq:04d}-{entry.kind}.json"


def _read_entries(stage: Stage, prefix: str) -> list[JournalEntry]:
    keys = stage.list_keys(prefix)
    done = {k.removesuffix(".done.json"): k for k in keys if k.endswith(".done.json")}
    out = []
    for key in keys:
        if key.endswith(".done.json"):
            continue
        try:
            data = json.loads(stage.get_bytes(key))
            base = key.removesuffix(".json")
            if base in done:
                data["done"] = json.loads(stage.get_bytes(done[base]))
            out.append(JournalEntry(**data))
        except (ValueError, TypeError) as exc:
            raise StageError(
                f"journal entry {key} is unreadable ({exc}); rollback cannot trust this run's "
                "journal until it is restored from the stage backup"
            ) from None
    return out


def _batch_prefix(run_id: str, phase_index: int, phase: str, unit: str, batch: int) -> str:
    """``<run>/journal/<phase_index:02d>-<phase>/<unit>/<batch:05d>``: one batch's entries."""
    return check_key(f"{run_id}/journal/{phase_index:02d}-{phase}/{unit}/{batch:05d}")


def _created_in(stage: Stage, keys: Iterable[str]) -> set[str]:
    """Ids the intent entries among ``keys`` created (``.done.json`` records are skipped)."""
    out: set[str] = set()
    for key in keys:
        if key.endswith(".done.json"):
            continue
        try:
            created = json.loads(stage.get_bytes(key)).get("created", [])
        except ValueError as exc:
            raise StageError(f"journal entry {key} is unreadable ({exc})") from None
        out |= {str(i).lower() for i in created}
    return out


def created_ids(stage: Stage, run_id: str, units: Iterable[str]) -> set[str]:
    """Ids the run created for the given load units, reading only those units' entries.

    Keys name their unit (``<run>/journal/<phase>/<unit>/...``), so the rest of the journal
    (and its pre-images) is never read. The set grows with the units' size: a caller that
    walks a large object uses :func:`batch_created_ids` one batch at a time instead.
    """
    wanted = set(units)
    root = check_key(f"{run_id}/journal") + "/"
    keys = []
    for key in stage.list_keys(root):
        parts = key[len(root) :].split("/")
        if len(parts) >= 4 and parts[1] in wanted:
            keys.append(key)
    return _created_in(stage, keys)


def batch_created_ids(
    stage: Stage, run_id: str, unit: str, batch: int, *, phase_index: int, phase: str
) -> set[str]:
    """Ids the run created in one batch of one load unit, reading only that batch's entries.

    A load writes the rows of ``<run>/loaded/<unit>/<batch>`` under the journal of the same
    unit and batch number, in the phase its loaded manifest names (``BatchRef.journal``), so
    memory is bounded by the batch, not by the object.
    """
    return _created_in(
        stage, stage.list_keys(_batch_prefix(run_id, phase_index, phase, unit, batch) + "/")
    )


def read_run_journal(stage: Stage, run_id: str) -> list[JournalEntry]:
    """Every entry of a run, in the order rollback undoes them.

    Later phases first; within a phase links, then state changes, then files, then rows;
    within those, later batches and later entries first.
    """
    entries = _read_entries(stage, check_key(f"{run_id}/journal") + "/")
    return sorted(
        entries,
        key=lambda e: (-e.phase_index, UNDO_ORDER[e.kind], -e.batch, -e.seq, e.object),
    )
