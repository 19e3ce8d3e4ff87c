"""Check one object of a phase against the target: counts, presence, field-level read-back.

- **Counts** come from the stage: what extraction staged (raw manifests) and what each load
  step accounted for (loaded manifests), so a batch that was never loaded shows up.
- **Presence**: every written target id is queried by primary key.
- **Read-back**: every written record (a deterministic sample above ``readback_sample``) is
  read with the columns we wrote and compared field by field after normalisation.
- **Explanations**: a difference is explained when a known, reported cause accounts for it
  (the link step's server rejection, a text truncation the mapping asked for, a person who
  edited the row after the load); everything else is unexplained and counts against the gate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from shared.dataverse.context import LoadContext
from shared.dataverse.journal import created_ids
from shared.dataverse.load import loaded_key, quarantine_key
from shared.dataverse.metadata import TableInfo
from shared.dataverse.reads import read_by_ids
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


def sample_ids(ids: Iterable[str], size: int) -> set[str]:
    """All ids up to ``size``; above it a deterministic sample (same ids on every rerun)."""
    pool = sorted(set(ids))
    if len(pool) <= size:
        return set(pool)
    ranked = sorted(pool, key=lambda i: hashlib.sha256(i.encode()).hexdigest())
    return set(ranked[:size])


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


def _counts(
    stage: Stage, run_id: str, sobject: str, units: Sequence[str], result: ObjectReconciliation
) -> list[tuple[str, int]]:
    raw = stage.list_batches(raw_prefix(run_id, sobject))
    result.batches_staged = len(raw)
    for key in raw:
        manifest = stage.batch_manifest(key) or {}
        result.staged += int(manifest.get("count", 0))
    loaded: list[tuple[str, int]] = []
    per_unit: list[set[int]] = []
    for unit in units:
        done: set[int] = set()
        for key in stage.list_batches(check_key(f"{run_id}/loaded/{unit}") + "/"):
            counts = (stage.batch_manifest(key) or {}).get("counts") or {}
            result.extracted += int(counts.get("extracted", 0))
            for name in ("written", "written_with_fallback", "quarantined", "skipped_by_policy"):
                setattr(result, name, getattr(result, name) + int(counts.get(name, 0)))
            batch = int(key.rsplit("/", 1)[1])
            done.add(batch)
            loaded.append((unit, batch))
        per_unit.append(done)
    # A staged batch counts as loaded once every entry sharing the source has loaded it.
    result.batches_loaded = len(set.intersection(*per_unit)) if per_unit else 0
    return loaded


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
    # Two passes over the loaded batches, one batch in memory at a time: the ids (to choose
    # the read-back sample), then presence and read-back batch by batch.
    link_rejected: set[str] = set()
    ids: set[str] = set()
    for unit, batch in batches:
        for rec in stage.read_batch(loaded_key(run_id, unit, batch)):
            ids.add(rec["id"].lower())
            result.target_rows += 1
        for rej in _json_list(stage, quarantine_key(run_id, unit, batch, "link")):
            value = rej.get("value") or {}
            if isinstance(value, dict) and value.get("target_id"):
                link_rejected.add(str(value["target_id"]).lower())
    created = _created_by_run(stage, run_id, [u for u, _ in batches])
    chosen = sample_ids(ids, readback_sample)
    result.sampled = len(chosen) < len(ids)
    del ids
    # Reported in the order of a whole-object pass: by table (first seen), then record order.
    tables: dict[str, int] = {}
    missing: list[tuple[int, str]] = []
    readback: list[tuple[int, dict[str, Any]]] = []
    found: list[tuple[int, list[Mismatch]]] = []
    for unit, batch in batches:
        by_table: dict[str, list[dict[str, Any]]] = {}
        for rec in stage.read_batch(loaded_key(run_id, unit, batch)):
            by_table.setdefault(rec["table"], []).append(rec)
        for table_name, recs in by_table.items():
            order = tables.setdefault(table_name, len(tables))
            table = await context.table(table_name)
            rest = [r["id"] for r in recs if r["id"].lower() not in chosen]
            present = set(await read_by_ids(context.client, table, rest, select=[table.primary_id]))
            full = await read_by_ids(
                context.client, table, [r["id"] for r in recs if r["id"].lower() in chosen]
            )
            present |= set(full)
            for rec in recs:
                rid = rec["id"].lower()
                if rid not in present:
                    missing.append((order, rec["id"]))
                    continue
                result.present += 1
                if rid not in full:
                    continue
                row = full[rid]
                result.readback_records += 1
                readback.append((order, {"record": rec, "row": row}))
                differences = _compare(
                    rec, row, link_rejected, loader_user, result, created, _create_only(table)
                )
                found.append((order, differences))
    for _order, mismatches in sorted(found, key=lambda f: f[0]):
        result.mismatches += mismatches
    result.missing_ids += [rid for _order, rid in sorted(missing, key=lambda m: m[0])]
    return result, [item for _order, item in sorted(readback, key=lambda r: r[0])]


def _created_by_run(stage: Stage, run_id: str, units: Sequence[str]) -> set[str]:
    """Ids this run created (journalled ``created``) for the given load units."""
    return created_ids(stage, run_id, units)


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
