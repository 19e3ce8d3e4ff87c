"""Check one object of a phase against the target: counts, presence, field-level read-back.

- **Counts** come from the stage: what extraction staged (raw manifests) and what each load
  step accounted for (loaded manifests), so a batch that was never loaded shows up.
- **Presence**: every written target id is queried by primary key.
- **Read-back**: every written record (a deterministic sample above ``readback_sample``) is
  read with the columns we wrote and compared field by field after normalisation.
- **Memory** is bounded by one batch plus the sample, never by the object: at 1M contacts an
  object can hold millions of rows, so ids are streamed, and what explains a difference (link
  rejections, the run's creations) is kept for the sampled ids only, read batch by batch.
- **Explanations**: a difference is explained when a known, reported cause accounts for it
  (the link step's server rejection, a text truncation the mapping asked for, a person who
  edited the row after the load); everything else is unexplained and counts against the gate.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.dataverse.context import LoadContext
from shared.dataverse.journal import batch_created_ids
from shared.dataverse.load import loaded_key, quarantine_key
from shared.dataverse.metadata import TableInfo
from shared.dataverse.reads import read_by_ids
from shared.errors import StageError
from shared.reconcile.model import Mismatch, ObjectReconciliation
from shared.reconcile.normalise import actual_column, compare_value
from shared.stage.base import Stage
from shared.stage.keys import check_key, raw_prefix

__all__ = ["SKIPPED_COLUMNS", "expected_fields", "reconcile_object", "sample_ids"]

# Not compared field by field: bodies (checked by size elsewhere), parties (a collection).
SKIPPED_COLUMNS = frozenset({"documentbody"})
# Dataverse fills these when an activity is closed if we left them empty (actualend defaults
# to the completion time): a value we did not send there is the server's, not a defect.
SET_ON_CLOSE = frozenset({"actualend"})


@dataclass(frozen=True, slots=True)
class _Ranked:
    """A heap item ordered in reverse, so ``heapq`` keeps the largest rank on top."""

    digest: bytes
    id: str

    def __lt__(self, other: _Ranked) -> bool:
        return (self.digest, self.id) > (other.digest, other.id)


class _Sample:
    """The ``size`` distinct ids with the smallest sha256 digests, chosen in one streaming pass.

    Memory is O(size) whatever the number of ids: a bounded heap of the best so far, largest on
    top. Raw digests order like their hex digests (fixed length, ``0-9`` before ``a-f``), and
    ties fall back to the id, as the stable sort of a sorted pool did.
    """

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"a read-back sample cannot hold {size} ids")
        self.size = size
        self.overflowed = False  # some distinct id was left out: the result is a sample
        self._heap: list[_Ranked] = []
        self._kept: set[str] = set()

    def add(self, rid: str) -> None:
        """Offer one id; an id offered again counts once."""
        if rid in self._kept:
            return
        if self.size == 0:
            self.overflowed = True
            return
        digest = hashlib.sha256(rid.encode()).digest()
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, _Ranked(digest, rid))
            self._kept.add(rid)
            return
        self.overflowed = True
        top = self._heap[0]
        if (digest, rid) < (top.digest, top.id):  # ranks before the largest kept: replaces it
            self._kept.discard(heapq.heapreplace(self._heap, _Ranked(digest, rid)).id)
            self._kept.add(rid)

    def chosen(self) -> set[str]:
        """The ids kept: all of them while no more than ``size`` distinct ids were offered."""
        return set(self._kept)


def sample_ids(ids: Iterable[str], size: int) -> set[str]:
    """All ids up to ``size``; above it a deterministic sample (same ids on every rerun).

    The sample is the ``size`` distinct ids with the smallest sha256 hex digests, chosen in
    one pass with memory bounded by ``size``, so ``ids`` may be a stream of any length.

    Raises:
        ValueError: ``size`` is negative.
    """
    sample = _Sample(size)
    for rid in ids:
        sample.add(rid)
    return sample.chosen()


def expected_fields(record: dict[str, Any]) -> dict[str, Any]:
    """What the target row should hold: payload, second-pass links, and the closing state."""
    out: dict[str, Any] = {}
    for key, value in {**record["payload"], **(record.get("second_pass") or {})}.items():
        if key in SKIPPED_COLUMNS or key.endswith("_activity_parties") or key.startswith("@"):
            continue
        out[key] = value
    out.update(record.get("close") or {})
    return out


def _json_list(stage: Stage, key: str) -> list[dict[str, Any]]:
    if not stage.exists(key):
        return []
    data = json.loads(stage.get_bytes(key))
    return list(data) if isinstance(data, list) else []


@dataclass(frozen=True)
class _Loaded:
    """One loaded batch, and the phase it was loaded in (which names its journal)."""

    unit: str
    batch: int
    phase_index: int
    phase: str


def _counts(
    stage: Stage, run_id: str, sobject: str, units: Sequence[str], result: ObjectReconciliation
) -> list[_Loaded]:
    raw = stage.list_batches(raw_prefix(run_id, sobject))
    result.batches_staged = len(raw)
    for key in raw:
        manifest = stage.batch_manifest(key) or {}
        result.staged += int(manifest.get("count", 0))
    loaded: list[_Loaded] = []
    per_unit: list[set[int]] = []
    for unit in units:
        done: set[int] = set()
        for key in stage.list_batches(check_key(f"{run_id}/loaded/{unit}") + "/"):
            manifest = stage.batch_manifest(key) or {}
            counts = manifest.get("counts") or {}
            result.extracted += int(counts.get("extracted", 0))
            for name in ("written", "written_with_fallback", "quarantined", "skipped_by_policy"):
                setattr(result, name, getattr(result, name) + int(counts.get(name, 0)))
            batch = int(key.rsplit("/", 1)[1])
            done.add(batch)
            if "phase_index" not in manifest or "phase" not in manifest:
                raise StageError(
                    f"{sobject}: loaded batch {key} does not name the phase it was loaded in, "
                    "so its journal cannot be found; load the batch again",
                    object_name=sobject,
                )
            loaded.append(
                _Loaded(unit, batch, int(manifest["phase_index"]), str(manifest["phase"]))
            )
        per_unit.append(done)
    # A staged batch counts as loaded once every entry sharing the source has loaded it.
    result.batches_loaded = len(set.intersection(*per_unit)) if per_unit else 0
    return loaded


def _causes(
    stage: Stage, run_id: str, batches: Sequence[_Loaded], chosen: set[str]
) -> tuple[set[str], set[str]]:
    """Ids whose link the server refused, and ids this run created, among the sampled ids.

    Only sampled records are compared, so nothing else is kept; but a sampled id is looked up
    in every batch's quarantine and journal, not only its own, as a whole-object set was.
    """
    link_rejected: set[str] = set()
    created: set[str] = set()
    for b in batches:
        for rej in _json_list(stage, quarantine_key(run_id, b.unit, b.batch, "link")):
            value = rej.get("value") or {}
            if isinstance(value, dict) and value.get("target_id"):
                rid = str(value["target_id"]).lower()
                if rid in chosen:
                    link_rejected.add(rid)
        ids = batch_created_ids(
            stage, run_id, b.unit, b.batch, phase_index=b.phase_index, phase=b.phase
        )
        created |= chosen.intersection(ids)
    return link_rejected, created


async def reconcile_object(
    stage: Stage,
    context: LoadContext,
    run_id: str,
    sobject: str,
    *,
    readback_sample: int,
    loader_user: str | None = None,
    units: Sequence[str] | None = None,
) -> tuple[ObjectReconciliation, list[dict[str, Any]]]:
    """Reconcile one source object; return the verdict and the rows read back (for spot checks).

    Args:
        units: The mapping entries that loaded this source object under their own names
            (``BatchRef.entry``); by default the load was kept under the object's name.
        loader_user: ``systemuserid`` the loader wrote as; a row last modified by someone
            else was changed by a person after the load, which explains its differences.
    """
    result = ObjectReconciliation(object=sobject)
    batches = _counts(stage, run_id, sobject, list(units or [sobject]), result)
    # Two passes over the loaded batches, one batch in memory at a time: the ids (streamed
    # into the read-back sample), then presence and read-back batch by batch.
    sample = _Sample(readback_sample)
    for b in batches:
        for rec in stage.read_batch(loaded_key(run_id, b.unit, b.batch)):
            sample.add(rec["id"].lower())
            result.target_rows += 1
    chosen = sample.chosen()
    result.sampled = sample.overflowed
    link_rejected, created = _causes(stage, run_id, batches, chosen)
    check = _ReadBack(context, chosen, link_rejected, created, loader_user, result)
    for b in batches:
        await check.batch(stage.read_batch(loaded_key(run_id, b.unit, b.batch)))
    return result, check.finish()


@dataclass
class _ReadBack:
    """Presence and read-back, one batch at a time; what it finds is kept, the batch is not.

    Findings are tagged with their table's first-seen order and reported in the order of a
    whole-object pass: by table, then record order.
    """

    context: LoadContext
    chosen: set[str]
    link_rejected: set[str]
    created: set[str]
    loader_user: str | None
    result: ObjectReconciliation
    tables: dict[str, int] = field(default_factory=dict)
    missing: list[tuple[int, str]] = field(default_factory=list)
    readback: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    found: list[tuple[int, list[Mismatch]]] = field(default_factory=list)

    async def batch(self, records: Iterable[dict[str, Any]]) -> None:
        """Check one loaded batch (its rows are released when this returns)."""
        by_table: dict[str, list[dict[str, Any]]] = {}
        for rec in records:
            by_table.setdefault(rec["table"], []).append(rec)
        for table_name, recs in by_table.items():
            await self._table(table_name, recs)

    async def _table(self, table_name: str, recs: list[dict[str, Any]]) -> None:
        order = self.tables.setdefault(table_name, len(self.tables))
        table = await self.context.table(table_name)
        client, chosen, result = self.context.client, self.chosen, self.result
        rest = [r["id"] for r in recs if r["id"].lower() not in chosen]
        present = set(await read_by_ids(client, table, rest, select=[table.primary_id]))
        full = await read_by_ids(
            client, table, [r["id"] for r in recs if r["id"].lower() in chosen]
        )
        present |= set(full)
        for rec in recs:
            rid = rec["id"].lower()
            if rid not in present:
                self.missing.append((order, rec["id"]))
                continue
            result.present += 1
            if rid not in full:
                continue
            row = full[rid]
            result.readback_records += 1
            self.readback.append((order, {"record": rec, "row": row}))
            differences = _compare(
                rec,
                row,
                self.link_rejected,
                self.loader_user,
                result,
                self.created,
                _create_only(table),
            )
            if differences:
                self.found.append((order, differences))

    def finish(self) -> list[dict[str, Any]]:
        """Write the ordered findings into the result; return the rows read back."""
        for _order, mismatches in sorted(self.found, key=lambda f: f[0]):
            self.result.mismatches += mismatches
        self.result.missing_ids += [rid for _order, rid in sorted(self.missing, key=lambda m: m[0])]
        return [item for _order, item in sorted(self.readback, key=lambda r: r[0])]


def _create_only(table: TableInfo) -> set[str]:
    """Columns Dataverse sets on create and ignores on update (``IsValidForUpdate`` false)."""
    return {name for name, attr in table.attributes.items() if not attr.valid_update}


def _compare(
    rec: dict[str, Any],
    row: dict[str, Any],
    link_rejected: set[str],
    loader_user: str | None,
    result: ObjectReconciliation,
    created: set[str] | None = None,
    create_only: set[str] | None = None,
) -> list[Mismatch]:
    out = []
    truncated = {
        str(e.get("field"))
        for e in rec.get("entries") or []
        if e.get("reason_code") == "TEXT_TRUNCATED"
    }
    edited = (
        loader_user is not None
        and row.get("_modifiedby_value") is not None
        and str(row["_modifiedby_value"]).lower() != loader_user.lower()
    )
    for key, expected in expected_fields(rec).items():
        column = "createdon" if key == "overriddencreatedon" else actual_column(row, key)
        actual = row.get(column) if column else None
        result.readback_fields += 1
        verdict = compare_value(key, expected, actual)
        if verdict.matches:
            continue
        explanation = None
        if edited:
            explanation = "CHANGED_AFTER_LOAD"
        elif verdict.kind.startswith("lookup") and rec["id"].lower() in link_rejected:
            explanation = "LINK_REJECTED"
        elif verdict.kind == "truncated" and key in truncated:
            explanation = "TEXT_TRUNCATED"
        elif verdict.kind == "unexpected_value" and key in SET_ON_CLOSE and rec.get("close"):
            explanation = "SET_BY_SERVER_ON_CLOSE"
        elif (
            created is not None
            and rec["id"].lower() not in created
            and key in (create_only or set())
        ):
            # The row existed before this run; Dataverse ignores create-only columns
            # (overriddencreatedon...) on update, so the old value stays, as designed.
            explanation = "CREATE_ONLY_ON_EXISTING_ROW"
        out.append(
            Mismatch(
                source_object=rec["source_object"],
                source_id=rec["source_id"],
                table=rec["table"],
                id=rec["id"],
                column=key,
                kind=verdict.kind,
                expected=verdict.expected,
                actual=verdict.actual,
                explanation=explanation,
            )
        )
    return out
