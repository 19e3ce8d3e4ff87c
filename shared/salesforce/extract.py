"""Extraction: every planned object, parents first, into stage batches; resumable.

Per object: check every field against describe first (missing or FLS-hidden fields stop the
run before anything is written), take ``COUNT()``, stream records into batches of
``extract.batch_size``, take ``COUNT()`` again and reconcile. Batches are written atomically
with their position in the manifest (``last_id`` for REST keyset pagination, ``job_id`` +
``next_locator`` for Bulk API 2.0, ``chunk`` for parent-filtered objects), so an interrupted
object continues from its last complete batch. A finished object's result is kept in
``<run>/raw/<Object>/_state.json``; a rerun skips it unless its field list changed.

REST ``query``/``queryAll`` is used up to ``salesforce.bulk_threshold`` records, Bulk API 2.0
above. File bodies (ContentVersion ``VersionData``, Attachment ``Body``) are streamed to
``<run>/files/<Object>/<Id>`` before the batch naming them is committed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from shared.crashpoints import reach
from shared.errors import MigrationError, SourceError, TransientServiceError
from shared.mapping.plan import ObjectExtraction
from shared.quoting import soql_in, soql_quote
from shared.salesforce.client import SalesforceClient
from shared.salesforce.describe import (
    DescribeCache,
    ResolvedFields,
    explain_missing,
    field_definitions,
    resolve_fields,
)
from shared.salesforce.reconcile import ObjectResult, reconcile
from shared.salesforce.records import csv_records, normalise_rest_numbers, shape_rest_record
from shared.settings import Settings
from shared.stage.base import Stage
from shared.stage.keys import check_key, file_key, raw_batch_key, raw_prefix

_BODY_FIELD = {"ContentVersion": "VersionData", "Attachment": "Body"}
Progress = Callable[[str, int, int], None]


@dataclass
class _Job:
    """Everything one object's extraction needs, resolved once."""

    item: ObjectExtraction
    resolved: ResolvedFields
    run_id: str

    @property
    def sobject(self) -> str:
        return self.item.object


def state_key(run_id: str, sobject: str) -> str:
    """Where a finished object's result is kept (``_state.json`` beside its batches)."""
    return check_key(f"{run_id}/raw/{sobject}/_state.json")


def prepare(
    client: SalesforceClient, plan: Iterable[ObjectExtraction], describes: DescribeCache
) -> list[tuple[ObjectExtraction, ResolvedFields]]:
    """Resolve every object's fields up front; one SourceError lists every problem."""
    out = []
    problems: list[str] = []
    for item in plan:
        try:
            resolved = resolve_fields(item.object, _with_required(item), describes)
        except SourceError as exc:
            if exc.status == 404:
                problems.append(
                    f"{item.object} does not exist or the integration user cannot see it: "
                    "check the object name in the mapping and the user's object permissions"
                )
            else:
                problems.append(exc.message)
            continue
        if resolved.missing:
            try:
                defs: dict[str, str] | None = field_definitions(
                    lambda q: client.tooling_query(q, what="FieldDefinition"), item.object
                )
            except MigrationError:
                defs = None
            problems.append(explain_missing(item.object, resolved.missing, defs).message)
            continue
        out.append((item, resolved))
    if problems:
        raise SourceError("cannot extract: " + " | ".join(problems))
    return out


def _with_required(item: ObjectExtraction) -> list[str]:
    fields = ["Id", *[f for f in item.fields if f != "Id"]]
    if item.include_deleted and "IsDeleted" not in fields:
        fields.append("IsDeleted")
    return fields


def extract_all(
    client: SalesforceClient,
    stage: Stage,
    settings: Settings,
    run_id: str,
    plan: Iterable[ObjectExtraction],
    *,
    progress: Progress | None = None,
) -> list[ObjectResult]:
    """Extract the plan in order (parents first); return one result per object."""
    wanted = settings.extract.objects
    items = [p for p in plan if not wanted or p.object in wanted]
    describes = DescribeCache(client.describe)
    prepared = prepare(client, items, describes)
    results = []
    for item, resolved in prepared:
        job = _Job(item, resolved, run_id)
        results.append(_extract_object(client, stage, settings, job, progress))
    return results


def _extract_object(
    client: SalesforceClient,
    stage: Stage,
    settings: Settings,
    job: _Job,
    progress: Progress | None,
) -> ObjectResult:
    item, fields = job.item, job.resolved.fields
    key = state_key(job.run_id, item.object)
    if stage.exists(key):
        state = json.loads(stage.get_bytes(key))
        same_plan = state.get("fields") == fields and state.get("where") == item.where
        if same_plan and state.get("status") != "pending":
            return ObjectResult.from_dict(state)
    prefix = raw_prefix(job.run_id, item.object)
    done = stage.list_batches(prefix)
    last = stage.batch_manifest(done[-1]) if done else None
    if last is not None and last.get("fields_sha") != _fields_sha(fields, item.where):
        for old in stage.list_keys(prefix):  # the mapping changed: start this object afresh
            stage.delete(old)
        done, last = [], None

    result = ObjectResult(item.object, "rest", fields, item.where, item.include_deleted)
    if item.parent_filter:
        result.method = "rest-by-parent"
    elif last is None:
        result.source_count = client.count(
            item.object, item.where, include_deleted=item.include_deleted
        )
        big = result.source_count > settings.salesforce.bulk_threshold
        result.method = "bulk" if big else "rest"
    if last is not None:
        result.method = last.get("method", result.method)
        result.source_count = int(last.get("source_count", result.source_count))
        result.resumed_at_batch = len(done)
        result.extracted = int(last.get("cumulative", 0))
        result.files = int(last.get("files", 0))
        result.file_bytes = int(last.get("file_bytes", 0))
        for key_done in done:
            result.file_errors.extend((stage.batch_manifest(key_done) or {}).get("file_errors", []))

    writer = _BatchWriter(client, stage, settings, job, result, len(done), progress)
    if result.method == "rest-by-parent":
        _by_parent(client, stage, settings, job, writer, last)
        result.source_count_end = result.source_count
    else:
        if result.method == "bulk":
            try:
                _bulk(client, settings, job, writer, last)
            except SourceError as exc:
                if exc.status != 404 or last is None:
                    raise
                # Salesforce deletes finished Bulk jobs after 7 days: start the object again.
                for old in stage.list_keys(prefix):
                    stage.delete(old)
                return _extract_object(client, stage, settings, job, progress)
        else:
            _rest(client, settings, job, writer, last)
        result.source_count_end = client.count(
            item.object, item.where, include_deleted=item.include_deleted
        )
    result.batches = writer.batch
    reconcile(result)
    stage.put_bytes(key, json.dumps({**result.to_dict()}, indent=1).encode())
    return result


def _fields_sha(fields: list[str], where: str | None) -> str:
    return hashlib.sha256(json.dumps([fields, where]).encode()).hexdigest()[:16]


class _BatchWriter:
    """Writes one batch at a time, streaming file bodies first, carrying resume metadata."""

    def __init__(
        self,
        client: SalesforceClient,
        stage: Stage,
        settings: Settings,
        job: _Job,
        result: ObjectResult,
        batch: int,
        progress: Progress | None,
    ) -> None:
        self.client, self.stage, self.settings, self.job = client, stage, settings, job
        self.result, self.batch, self.progress = result, batch, progress
        self.last_id: str | None = None
        self.pending = 0

    def _with_files(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        body = self.job.item.file_body
        for record in records:
            self.last_id = record.get("Id") or self.last_id
            if body:
                self._fetch_body(body["object"], record.get(body["id_field"]))
            self.pending += 1
            yield record

    def _fetch_body(self, sobject: str, record_id: Any) -> None:
        if not record_id:
            return
        key = file_key(self.job.run_id, sobject, str(record_id))
        if self.stage.exists(key):  # fetched before an interruption: complete (atomic write)
            self.result.files += 1
            return
        attempt = 0
        while True:
            try:
                size = self.stage.put_stream(
                    key, self.client.stream_body(sobject, str(record_id), _BODY_FIELD[sobject])
                )
                break
            except TransientServiceError:
                # Dropped after the first byte: the atomic write kept nothing; fetch again.
                attempt += 1
                if attempt > self.settings.salesforce.max_retries:
                    raise
            except SourceError as exc:
                self.result.file_errors.append(
                    {"object": sobject, "id": str(record_id), "error": exc.message}
                )
                return
        self.result.files += 1
        self.result.file_bytes += size

    def write(self, records: Iterable[dict[str, Any]], **meta: Any) -> int:
        """Stage one batch; return its record count.

        The manifest carries the resume position and running totals, computed after the
        batch's last record was consumed (so a resumed run restores them exactly).
        """
        key = raw_batch_key(self.job.run_id, self.job.sobject, self.batch)
        self.pending = 0
        errors_before = len(self.result.file_errors)

        def late_meta() -> dict[str, Any]:
            return {
                "object": self.job.sobject,
                "batch": self.batch,
                "method": self.result.method,
                "fields_sha": _fields_sha(self.job.resolved.fields, self.job.item.where),
                "last_id": self.last_id,
                "source_count": self.result.source_count,
                "cumulative": self.result.extracted + self.pending,
                "files": self.result.files,
                "file_bytes": self.result.file_bytes,
                "file_errors": self.result.file_errors[errors_before:],
                **meta,
            }

        manifest = self.stage.write_batch(key, self._with_files(records), late_meta)
        reach("extract.batch_staged")
        count = int(manifest["count"])
        self.result.extracted += count
        self.batch += 1
        if self.progress:
            self.progress(self.job.sobject, self.result.extracted, self.result.source_count)
        return count


def _select(job: _Job) -> str:
    return f"SELECT {', '.join(job.resolved.fields)} FROM {job.sobject}"


def _shaped(pages: Iterable[dict[str, Any]], job: _Job) -> Iterator[dict[str, Any]]:
    for page in pages:
        for raw in page.get("records", []):
            yield normalise_rest_numbers(
                shape_rest_record(raw, job.resolved.fields), job.resolved.types
            )


def _rest(
    client: SalesforceClient,
    settings: Settings,
    job: _Job,
    writer: _BatchWriter,
    last: dict[str, Any] | None,
) -> None:
    """Keyset pagination: ``WHERE Id > :last_id ORDER BY Id LIMIT batch_size`` per batch."""
    size = settings.extract.batch_size
    last_id = last.get("last_id") if last else None
    if last is not None and int(last["count"]) < size:
        return  # the last complete batch was the final one
    while True:
        conds = [f"({job.item.where})"] if job.item.where else []
        if last_id:
            conds.append(f"Id > {soql_quote(last_id)}")
        soql = _select(job) + (f" WHERE {' AND '.join(conds)}" if conds else "")
        soql += f" ORDER BY Id LIMIT {size}"
        pages = client.query_pages(
            soql, include_deleted=job.item.include_deleted, sobject=job.sobject
        )
        records = _peeked(_shaped(pages, job))
        if records is None and writer.batch > 0:
            return  # the previous batch was full and nothing follows: no empty batch
        count = writer.write(records or [])
        last_id = writer.last_id
        if count < size:  # a short (possibly empty) batch is the last one
            return


def _peeked(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]] | None:
    """None when ``records`` is empty, else an iterator over all of them (first included)."""
    first = next(records, None)
    if first is None:
        return None

    def chained() -> Iterator[dict[str, Any]]:
        yield first
        yield from records

    return chained()


def _bulk(
    client: SalesforceClient,
    settings: Settings,
    job: _Job,
    writer: _BatchWriter,
    last: dict[str, Any] | None,
) -> None:
    """One Bulk 2.0 job; each result page (``maxRecords`` = batch size) becomes a batch."""
    job_id = last.get("job_id") if last else None
    locator = str(last.get("next_locator") or "") if last else ""
    if last is not None and not locator:
        return
    soql = _select(job) + (f" WHERE {job.item.where}" if job.item.where else "")
    pages = client.bulk_pages(
        job.sobject,
        soql,
        include_deleted=job.item.include_deleted,
        max_records=settings.extract.batch_size,
        job_id=job_id,
        locator=locator,
    )
    for page in pages:
        records = csv_records(page.csv, job.resolved.fields, job.resolved.types, job.sobject)
        writer.write(records, job_id=page.job_id, next_locator=page.next_locator)


def _by_parent(
    client: SalesforceClient,
    stage: Stage,
    settings: Settings,
    job: _Job,
    writer: _BatchWriter,
    last: dict[str, Any] | None,
) -> None:
    """``LinkedEntityId IN (...)`` over the staged ids of each parent object, chunk by chunk."""
    pf = job.item.parent_filter or {}
    parents = list(pf.get("parents", []))
    if pf.get("ids_key"):  # a delta names its parents' ids (all migrated ones) explicitly
        parent_ids = sorted(set(json.loads(stage.get_bytes(str(pf["ids_key"])))))
    elif not any(stage.list_batches(raw_prefix(job.run_id, p)) for p in parents):
        raise SourceError(
            f"{job.sobject} is queried by the ids of its parents ({', '.join(parents)}), but "
            f"none of them is staged in run {job.run_id}: extract them first (same run id)",
            object_name=job.sobject,
        )
    else:
        parent_ids = sorted(
            {
                str(r["Id"])
                for parent in pf.get("parents", [])
                for key in stage.list_batches(raw_prefix(job.run_id, parent))
                for r in stage.read_batch(key)
                if r.get("Id")
            }
        )
    step = settings.extract.parent_chunk
    chunks = [parent_ids[i : i + step] for i in range(0, len(parent_ids), step)]
    start = int(last["chunk"]) + 1 if last else 0
    total = int(last.get("source_count", 0)) if last else 0
    if not chunks and last is None:
        writer.write([], chunk=-1)
    for index in range(start, len(chunks)):
        conds = [f"{pf['field']} IN {soql_in(chunks[index])}"]
        if job.item.where:
            conds.append(f"({job.item.where})")
        soql = _select(job) + " WHERE " + " AND ".join(conds)
        pages = client.query_pages(
            soql, include_deleted=job.item.include_deleted, sobject=job.sobject
        )
        first = next(pages)
        total += int(first.get("totalSize", 0))
        writer.result.source_count = total

        def chained(
            first: dict[str, Any] = first, rest: Iterator[dict[str, Any]] = pages
        ) -> Iterator[dict[str, Any]]:
            yield first
            yield from rest

        writer.write(_shaped(chained(), job), chunk=index)
    writer.result.source_count = total
