"""One load step: a staged batch in, rows in Dataverse, counts out.

This is the unit the orchestrator's activity calls (``load_batch``), and the unit a rerun
repeats. It reads the staged records, transforms them (pure, injected), quarantines the
rejections, and for each target table: checks every column exists, journals, writes, then
attaches file bodies and closes activities. It stores what it wrote on the stage
(``<run>/loaded/<Object>/<batch>``) for the second pass and for reconciliation, and returns
counts only, so the orchestration history stays small.

Counts always add up per source record::

    extracted = written + written_with_fallback + quarantined + skipped_by_policy

A source record whose rows were all written counts as ``written`` (``written_with_fallback``
when a report entry was raised for it); if any of its rows was refused it is ``quarantined``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.crashpoints import reach
from shared.dataverse.bulk import BulkWriter, Item, WriteOutcome, rejection_for
from shared.dataverse.context import LoadContext
from shared.dataverse.files import inline_items, plan_files, upload_chunked
from shared.dataverse.journal import Journal
from shared.dataverse.metadata import TableInfo, missing_columns
from shared.dataverse.reads import ids_per_read, read_by_ids
from shared.errors import RecordError, SchemaError, TransformError
from shared.rows import Rejection, TargetRow
from shared.stage.base import Stage
from shared.stage.keys import check_key, raw_batch_key

__all__ = [
    "BatchRef",
    "BatchTransform",
    "Transform",
    "link_batch",
    "load_batch",
    "loaded_key",
    "quarantine_key",
]

Transform = Callable[[dict[str, Any]], TargetRow | Rejection | Sequence[TargetRow | Rejection]]
"""One staged source record → its target row(s) or rejection(s) (the mapping's transform),
e.g. ``lambda record: compiled.transform("Account", record, context)``."""

BatchTransform = Callable[[list[dict[str, Any]]], Transform]
"""A batch's records → the transform for them (looks up once what the batch refers to)."""


@dataclass(frozen=True)
class BatchRef:
    """Which batch: run, phase (index and name, for ordering), source object, batch number.

    ``entry`` names the mapping entry when several entries share one source object (Task →
    task, task_call, task_email by route): each entry's load then has its own loaded,
    quarantine and journal keys. Without it the source object names them.
    """

    run_id: str
    phase_index: int
    phase: str
    sobject: str
    batch: int
    entry: str | None = None

    @property
    def unit(self) -> str:
        """The name this load is kept under on the stage: the entry, else the source object."""
        return self.entry or self.sobject

    def journal(self, stage: Stage) -> Journal:
        """The journal of this batch."""
        return Journal(
            stage,
            run_id=self.run_id,
            phase_index=self.phase_index,
            phase=self.phase,
            sobject=self.unit,
            batch=self.batch,
        )


def loaded_key(run_id: str, unit: str, batch: int) -> str:
    """``<run>/loaded/<unit>/<batch:05d>``: the rows written from one staged batch.

    ``unit`` is the source object, or the mapping entry (see :class:`BatchRef`).
    """
    return check_key(f"{run_id}/loaded/{unit}/{batch:05d}")


def quarantine_key(run_id: str, unit: str, batch: int, step: str) -> str:
    """``<run>/quarantine/<unit>/<batch:05d>-<step>.json``: rejections of one step."""
    return check_key(f"{run_id}/quarantine/{unit}/{batch:05d}-{step}.json")


def _transform_all(
    records: list[dict[str, Any]], sobject: str, transform: Transform
) -> tuple[dict[str, list[TargetRow]], list[Rejection]]:
    rows: dict[str, list[TargetRow]] = {}
    rejected: list[Rejection] = []
    for record in records:
        sid = str(record.get("Id", ""))
        try:
            out = transform(record)
            results = [out] if isinstance(out, TargetRow | Rejection) else list(out)
        except TransformError as exc:
            rejected.append(
                Rejection(
                    source_object=sobject,
                    source_id=sid,
                    reason_code=exc.reason_code,
                    field=exc.field,
                    value=exc.value,
                    message=exc.message,
                    hint=exc.hint or "",
                )
            )
            continue
        mine = [r for r in results if isinstance(r, TargetRow)]
        refused = [r for r in results if isinstance(r, Rejection)]
        if not results:
            refused = [
                Rejection(
                    source_object=sobject,
                    source_id=sid,
                    reason_code="NO_TARGET_ROWS",
                    field=None,
                    value=None,
                    message=f"{sobject} {sid}: the mapping produced no target row and no reason",
                    hint="check the mapping entry for this object; this is a mapping defect",
                )
            ]
        if refused:
            rejected += refused
            continue  # a record lands whole or not at all
        rows[sid] = mine
    return rows, rejected


def _payload_for_record(row: TargetRow) -> dict[str, Any]:
    return {
        "table": row.table,
        "entity_set": row.entity_set,
        "id": row.id,
        "source_object": row.source_object,
        "source_id": row.source_id,
        "payload": row.payload,
        "second_pass": row.second_pass,
        "close": row.close,
        "file": None if row.file is None else {"size": row.file.size, "name": row.file.filename},
        "entries": [e.to_dict() for e in row.entries],
    }


async def _write_table(
    ref: BatchRef,
    stage: Stage,
    context: LoadContext,
    table_name: str,
    rows: list[TargetRow],
) -> WriteOutcome:
    table = await context.table(table_name)
    columns = sorted({k for r in rows for k in r.payload})
    missing = missing_columns(table, columns)
    if missing:
        raise SchemaError(
            f"{ref.sobject} batch {ref.batch}: table {table_name} has no column(s) "
            f"{', '.join(missing)}; run ./migrate deploy-schema first. Nothing was written.",
            object_name=table_name,
        )
    writer = BulkWriter(
        context.client, table, await context.support(table_name), batch_size=context.batch_size
    )
    journal = ref.journal(stage)
    plain = [r for r in rows if r.file is None]
    files = [r for r in rows if r.file is not None]
    outcome = WriteOutcome()
    if plain:
        stateful = [r for r in plain if r.close or table.is_activity]
        cols = [*columns, "statecode", "statuscode"] if stateful else columns
        entry = await journal.begin(context.client, table, "rows", [r.id for r in plain], cols)
        outcome.merge(await _reopen(writer, entry.current, stateful))
        reach("load.journaled")
        step = await writer.write(
            [Item(r, r.payload) for r in plain], mode="upsert", existing=set(entry.existing)
        )
        reach("load.written")
        journal.finish(entry, written=step.written, rejected=_ids(step.rejected, plain))
        outcome.merge(step)
    if files:
        cols = [*columns, "documentbody", "filename", "mimetype"]
        entry = await journal.begin(context.client, table, "files", [r.id for r in files], cols)
        step = WriteOutcome()
        plan = plan_files(files, await context.max_upload())
        for group in plan.inline_groups:
            step.merge(
                await writer.write(
                    inline_items(stage, group), mode="upsert", existing=set(entry.existing)
                )
            )
        for row in plan.chunked:
            refused = await upload_chunked(context.client, context, stage, row)
            if refused is None:
                step.written.append(row.id)
            else:
                step.rejected.append(refused)
        journal.finish(entry, written=step.written, rejected=_ids(step.rejected, files))
        outcome.merge(step)
    written = set(outcome.written)
    closing = [r for r in rows if r.close and r.id in written]
    if closing:
        entry = await journal.begin(
            context.client, table, "close", [r.id for r in closing], ["statecode", "statuscode"]
        )
        by_message = [r for r in closing if _close_message(r)]
        by_patch = [r for r in closing if not _close_message(r)]
        step = await writer.write([Item(r, dict(r.close or {})) for r in by_patch], mode="update")
        step.merge(await _close_by_message(context, by_message))
        step = await _closed_already(context, table, closing, step)
        journal.finish(entry, written=step.written, rejected=_ids(step.rejected, closing))
        # A row written but not closed is still a row that is not as it should be.
        outcome.written = [i for i in outcome.written if i not in _ids(step.rejected, closing)]
        outcome.rejected += step.rejected
        outcome.requests += step.requests
    return outcome


# Opportunities are closed only by these messages, never by PATCHing their state (Dataverse
# refuses it): WinOpportunity for state 1, LoseOpportunity for state 2.
_CLOSE_MESSAGES = {("opportunity", 1): "WinOpportunity", ("opportunity", 2): "LoseOpportunity"}


def _close_message(row: TargetRow) -> str | None:
    state = (row.close or {}).get("statecode")
    return _CLOSE_MESSAGES.get((row.table, int(state))) if state is not None else None


async def _close_by_message(context: LoadContext, rows: list[TargetRow]) -> WriteOutcome:
    """Close rows whose table has a dedicated close message, one request each.

    The ``opportunityclose`` activity Dataverse creates carries the source's close date and
    amount, so the closed deal keeps its history.
    """
    outcome = WriteOutcome()
    for row in rows:
        message = _close_message(row)
        assert message is not None and row.close is not None
        close: dict[str, Any] = {
            "subject": f"Closed in Salesforce ({'won' if message == 'WinOpportunity' else 'lost'})",
            "opportunityid@odata.bind": f"/{row.entity_set}({row.id})",
        }
        closed_on = row.payload.get("actualclosedate") or row.payload.get("estimatedclosedate")
        if closed_on:
            close["actualend"] = closed_on
        if row.payload.get("estimatedvalue") is not None and message == "WinOpportunity":
            close["actualrevenue"] = row.payload["estimatedvalue"]
        try:
            await context.client.request(
                "POST",
                message,
                json={"Status": row.close.get("statuscode", -1), "OpportunityClose": close},
                action=message,
                object_name=row.table,
                record_id=row.id,
            )
        except RecordError as exc:
            outcome.rejected.append(rejection_for(row, exc, step="close"))
        else:
            outcome.written.append(row.id)
        outcome.requests += 1
    return outcome


async def _reopen(
    writer: BulkWriter, current: dict[str, dict[str, Any]], rows: list[TargetRow]
) -> WriteOutcome:
    """Reopen rows found closed (a previous attempt, or a previous run, closed them).

    Closed activities are read-only, so they are reopened, written, and closed again by the
    close step when the source says they are closed; otherwise they stay open, as in the
    source. Rows the server refuses to reopen are quarantined here.
    """
    closed = [r for r in rows if int((current.get(r.id.lower()) or {}).get("statecode") or 0) != 0]
    if not closed:
        return WriteOutcome()
    step = await writer.write([Item(r, {"statecode": 0}) for r in closed], mode="update")
    step.written = []  # reopening is not writing; the rows are counted by the write itself
    return step


async def _closed_already(
    context: LoadContext, table: TableInfo, rows: list[TargetRow], step: WriteOutcome
) -> WriteOutcome:
    """Count as closed the refused rows that already are in the state they were closing to.

    A close whose reply was lost (a timeout, a dropped connection) may have been applied all
    the same; its retry is then refused because the row is closed. Such rows are read back:
    the ones in their wanted state are closed, not rejected.
    """
    refused = _ids(step.rejected, rows)
    if not refused:
        return step
    current = await read_by_ids(context.client, table, refused, select=["statecode", "statuscode"])
    wanted = {r.id.lower(): r.close or {} for r in rows}

    def in_state(rid: str) -> bool:
        row, want = current.get(rid.lower()) or {}, wanted.get(rid.lower())
        return bool(want) and all(row.get(k) == v for k, v in (want or {}).items() if v != -1)

    closed = {i for i in refused if in_state(i)}
    reads = -(-len(refused) // ids_per_read(table))
    outcome = WriteOutcome(step.written + sorted(closed), [], step.requests + reads)
    outcome.rejected = [r for r in step.rejected if not set(_ids([r], rows)) & closed]
    return outcome


def _ids(rejected: list[Rejection], rows: list[TargetRow]) -> list[str]:
    by_source = {(r.source_object, r.source_id): r.id for r in rows}
    out = []
    for rej in rejected:
        value = rej.value if isinstance(rej.value, dict) else {}
        target = value.get("target_id") or by_source.get((rej.source_object, rej.source_id))
        if target:
            out.append(str(target))
    return out


async def load_batch(
    ref: BatchRef,
    *,
    stage: Stage,
    context: LoadContext,
    transform: Transform | None = None,
    accept: Callable[[dict[str, Any]], bool] | None = None,
    transform_for: BatchTransform | None = None,
) -> dict[str, int]:
    """Load one staged batch; return counts only (see the module docstring).

    Args:
        transform: The transform of every record; or
        transform_for: called with the batch's records (those ``accept`` takes) before any
            is transformed, returns their transform (the run's resolution context answers
            what the whole batch refers to at once: ``shared.run.context_index``).
        accept: When several mapping entries share the source object, which records belong
            to this entry (``ref.entry``); the others are left to their own entry and counted
            as ``routed_elsewhere``, so the entries' ``extracted`` add up to what was staged.

    Raises:
        SchemaError: a payload column does not exist in the target (nothing is written).
        FatalError: the environment is unreachable or refuses the token; the journal is
            consistent and a rerun of the batch resumes safely.
    """
    staged = list(stage.read_batch(raw_batch_key(ref.run_id, ref.sobject, ref.batch)))
    records = staged if accept is None else [r for r in staged if accept(r)]
    if transform_for is not None:
        transform = transform_for(records)
    if transform is None:
        raise TypeError("load_batch needs transform or transform_for")
    rows_by_source, rejected = _transform_all(records, ref.sobject, transform)
    by_table: dict[str, list[TargetRow]] = {}
    for rows in rows_by_source.values():
        for row in rows:
            by_table.setdefault(row.table, []).append(row)
    outcome = WriteOutcome()
    for table_name, rows in by_table.items():
        outcome.merge(await _write_table(ref, stage, context, table_name, rows))
    refused_sources = {(r.source_object, r.source_id) for r in outcome.rejected}
    rejected += outcome.rejected
    written_ids = set(outcome.written)
    counts = {"written": 0, "written_with_fallback": 0, "quarantined": 0, "skipped_by_policy": 0}
    loaded: list[dict[str, Any]] = []
    for sid, rows in rows_by_source.items():
        if any((r.source_object, r.source_id) in refused_sources for r in rows):
            continue  # counted with the rejections below
        unconfirmed = [r.id for r in rows if r.id not in written_ids]
        if unconfirmed:  # never expected; but a record is never dropped without a trace
            rejected.append(
                Rejection(
                    source_object=ref.sobject,
                    source_id=sid,
                    reason_code="TARGET_REJECTED",
                    field=None,
                    value={"target_ids": unconfirmed},
                    message=f"{ref.sobject} {sid}: the write of {', '.join(unconfirmed)} was "
                    "not confirmed by Dataverse",
                    hint="rerun this batch; the write is an upsert and cannot duplicate",
                )
            )
            continue
        counts["written_with_fallback" if any(r.entries for r in rows) else "written"] += 1
        loaded += [_payload_for_record(r) for r in rows]
    # One outcome per source record, even when several of its rows were refused.
    seen: set[tuple[str, str]] = set()
    for rej in rejected:
        key = (rej.source_object, rej.source_id)
        if key in seen:
            continue
        seen.add(key)
        counts["skipped_by_policy" if rej.outcome == "skipped_by_policy" else "quarantined"] += 1
    counts["extracted"] = len(records)
    counts["routed_elsewhere"] = len(staged) - len(records)
    counts["requests"] = outcome.requests
    stage.put_bytes(
        quarantine_key(ref.run_id, ref.unit, ref.batch, "load"),
        json.dumps([r.to_dict() for r in rejected], ensure_ascii=False, default=str).encode(),
    )
    stage.write_batch(
        loaded_key(ref.run_id, ref.unit, ref.batch),
        loaded,
        {"counts": counts, "phase": ref.phase, "phase_index": ref.phase_index},
    )
    return counts


async def link_batch(ref: BatchRef, *, stage: Stage, context: LoadContext) -> dict[str, int]:
    """Second pass: write the self-references of one loaded batch once its phase exists.

    Rows whose link the server refuses stay written without the link; they are listed in
    ``<run>/quarantine/<Object>/<batch>-link.json`` and counted as ``links_rejected``.
    """
    loaded = list(stage.read_batch(loaded_key(ref.run_id, ref.unit, ref.batch)))
    by_table: dict[str, list[TargetRow]] = {}
    for rec in loaded:
        if rec.get("second_pass"):
            row = TargetRow(
                table=rec["table"],
                entity_set=rec["entity_set"],
                id=rec["id"],
                source_object=rec["source_object"],
                source_id=rec["source_id"],
                payload=rec["second_pass"],
            )
            by_table.setdefault(row.table, []).append(row)
    outcome = WriteOutcome()
    for table_name, rows in by_table.items():
        table = await context.table(table_name)
        writer = BulkWriter(
            context.client, table, await context.support(table_name), batch_size=context.batch_size
        )
        journal = ref.journal(stage)
        cols = sorted({k for r in rows for k in r.payload})
        entry = await journal.begin(context.client, table, "link", [r.id for r in rows], cols)
        present = set(entry.existing)
        step = await writer.write(
            [Item(r, r.payload) for r in rows if r.id.lower() in present], mode="update"
        )
        reach("link.written")
        journal.finish(entry, written=step.written, rejected=_ids(step.rejected, rows))
        outcome.merge(step)
    stage.put_bytes(
        quarantine_key(ref.run_id, ref.unit, ref.batch, "link"),
        json.dumps(
            [r.to_dict() for r in outcome.rejected], ensure_ascii=False, default=str
        ).encode(),
    )
    return {
        "links": sum(len(v) for v in by_table.values()),
        "links_written": len(outcome.written),
        "links_rejected": len(outcome.rejected),
        "requests": outcome.requests,
    }
