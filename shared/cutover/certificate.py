"""Make the cutover certificate of a run: read the source and the target now, compare, report.

``certify`` is the activity's work (the delta orchestrator calls it in cutover mode; it also
works right after a plain migration). For run R:

1. Read the source again: a full extraction of the objects of R's mapping into the pseudo-run
   ``<R>.certify`` on the stage (wiped first: the certificate is of *now*). File bodies are
   not downloaded again; a note's file is compared by its size.
2. Expected rows: every current record through R's compiled mapping and R's resolution
   context (minus the records the runs quarantined, as the loads saw it).
3. Target rows per mapping entry: rows carrying the entry's Salesforce id column, or, for
   tables without one, the rows whose deterministic id the source expects, the mapping
   rejects, or the runs wrote (``shared.dataverse.reads``).
4. Compare per entry (``shared.cutover.compare``), then write
   ``reports/cutover-certificate.{json,md}`` under R (``shared.cutover.render``).

One source object at a time: its records, expected rows and target rows are released before
the next object is read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from shared.cutover.compare import (
    EntryResult,
    Expected,
    compare_entry,
    expected_from_row,
    select_columns,
)
from shared.cutover.known import Key, Known, RunOutcomes, fold_runs
from shared.cutover.render import JSON_NAME, CertificateFacts, build, render_markdown
from shared.dataverse.client import DataverseClient
from shared.dataverse.context import LoadContext
from shared.dataverse.journal import read_run_journal
from shared.dataverse.metadata import TableInfo, fetch_target_metadata
from shared.dataverse.reads import LOOKUP_ANNOTATIONS, read_by_ids
from shared.errors import FatalError, TransformError
from shared.ids import org_namespace, target_id, to_18
from shared.mapping.context import ResolutionContext
from shared.mapping.models import Mapping, ObjectMap
from shared.mapping.plan import extraction_plan
from shared.mapping.transform import CompiledMapping, CompiledObject, compile_mapping
from shared.quoting import odata_quote
from shared.rows import TargetRow
from shared.run import context_store
from shared.run.clients import dataverse, load_context, run_async
from shared.run.layout import check_run_id
from shared.run.plan import load_run_mapping, mapping_key
from shared.run.runtime import Runtime
from shared.salesforce.client import SalesforceClient, connect
from shared.salesforce.extract import extract_all
from shared.stage.base import Stage
from shared.stage.keys import check_key, raw_prefix

__all__ = ["MARKDOWN_NAME", "certify", "source_run_id"]

MARKDOWN_NAME = "cutover-certificate.md"
_LOOKUP_TYPES = frozenset({"Lookup", "Customer", "Owner"})


def source_run_id(run_id: str) -> str:
    """The pseudo-run on the stage that holds the source as the certificate read it."""
    return f"{run_id}.certify"


def certify(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Compare the source now with the target now for run ``params["run_id"]``.

    Args:
        runtime: Settings, stage and clients of the process.
        params: ``run_id`` (the run whose mapping snapshot and context are used, and under
            which the reports are written) and optional ``runs`` (the runs whose quarantined
            records are known exceptions, oldest first; default ``[run_id]``).

    Returns:
        ``identical``, ``certified``, ``differences`` and ``known_exceptions`` (counts),
        ``objects`` (per mapping entry: counts and digests) and ``report`` (where the
        markdown went).

    Raises:
        FatalError: the run was never planned or has no context, or the source org is not
            the org the run migrated.
    """
    run_id = check_run_id(str(params["run_id"]))
    runs = [check_run_id(str(r)) for r in params.get("runs") or [run_id]]
    work = _prepare(runtime, run_id, runs)
    results: list[EntryResult] = []
    notes: list[str] = []
    extracted = _read_source(work.salesforce, runtime, work.source_run, work.compiled.mapping)
    for source in dict.fromkeys(o.source for o in work.compiled.mapping.objects):
        if source not in extracted:
            notes.append(f"{source} was not read (settings extract.objects): not certified.")
            continue
        results += work.certify_source(source)
    unplaced = sorted(f"{k[0]} {k[1]}" for k in set(work.known) - work.placed)
    if unplaced:
        notes.append(
            f"{len(unplaced)} records the runs quarantined belong to no certified object: "
            f"{', '.join(unplaced[:20])}{' ...' if len(unplaced) > 20 else ''}"
        )
    facts = CertificateFacts(
        run_id=run_id,
        runs=runs,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        source_org_id=work.org_id,
        source_url=runtime.settings.salesforce.instance_url,
        target_url=runtime.settings.dataverse.url,
        mapping_sha256=hashlib.sha256(runtime.stage.get_bytes(mapping_key(run_id))).hexdigest(),
        source_stage_run=work.source_run,
        notes=notes,
    )
    doc = build(facts, results)
    runtime.write_report(run_id, JSON_NAME, json.dumps(doc, indent=1, default=str).encode())
    where = runtime.write_report(run_id, MARKDOWN_NAME, render_markdown(doc).encode())
    return {
        "identical": doc["identical"],
        "certified": doc["certified"],
        "differences": doc["totals"]["differences"],
        "known_exceptions": doc["totals"]["known_exceptions"],
        "objects": doc["objects"],
        "report": where,
    }


def _prepare(runtime: Runtime, run_id: str, runs: list[str]) -> _Work:
    """Everything the comparison needs: the run's mapping, context, clients, exceptions."""
    stage = runtime.stage
    unknown = [r for r in runs if not stage.exists(mapping_key(r))]
    if unknown:
        raise FatalError(
            f"cannot certify: run(s) {', '.join(unknown)} are not on the stage (no mapping "
            "snapshot): pass the ids of runs that were planned, oldest first"
        )
    mapping = load_run_mapping(runtime, run_id)
    ctx = context_store.load(stage, run_id)
    salesforce = runtime.cached("salesforce", lambda: connect(runtime.settings.salesforce))
    org_id = _source_org(salesforce, ctx, run_id)
    client = dataverse(runtime)
    tables = sorted({o.target for o in mapping.objects})
    metadata = run_async(lambda: fetch_target_metadata(client, tables))
    known = fold_runs([_run_outcomes(stage, r, with_written=i > 0) for i, r in enumerate(runs)])
    return _Work(
        stage=stage,
        salesforce=salesforce,
        org_id=org_id,
        client=client,
        tables=load_context(runtime),
        compiled=compile_mapping(mapping, metadata, check=False),
        ctx=_without_quarantined(ctx, known),
        known=known,
        runs=runs,
        source_run=source_run_id(run_id),
        created=_CreatedIds(stage, runs),
    )


# ---- the source ------------------------------------------------------------------------------


def _source_org(salesforce: SalesforceClient, ctx: ResolutionContext, run_id: str) -> str:
    page = next(salesforce.query_pages("SELECT Id FROM Organization", sobject="Organization"))
    rows = page.get("records", [])
    if not rows:
        raise FatalError("Salesforce returned no Organization row: cannot certify")
    org_id = to_18(str(rows[0]["Id"]))
    if org_namespace(org_id) != ctx.namespace:
        raise FatalError(
            f"the source org {org_id} is not the org run {run_id} migrated: check "
            "salesforce.instance_url and the credentials in the config file"
        )
    return org_id


def _read_source(
    salesforce: SalesforceClient, runtime: Runtime, source_run: str, mapping: Mapping
) -> set[str]:
    """Extract every mapped object afresh into ``source_run``; return the objects read."""
    stage = runtime.stage
    for key in stage.list_keys(check_key(source_run) + "/"):
        stage.delete(key)
    sources = {o.source for o in mapping.objects}
    plan = [
        replace(item, file_body=None)  # bodies are compared by size; no second download
        for item in extraction_plan(mapping)
        if item.object in sources
    ]
    results = extract_all(salesforce, stage, runtime.settings, source_run, plan)
    return {r.object for r in results}


# ---- what the runs did -----------------------------------------------------------------------


def _loaded(stage: Stage, run_id: str, unit: str | None = None) -> Iterator[dict[str, Any]]:
    prefix = check_key(f"{run_id}/loaded/{unit}") + "/" if unit else f"{run_id}/loaded/"
    for key in stage.list_batches(prefix):
        yield from stage.read_batch(key)


def _run_outcomes(stage: Stage, run_id: str, *, with_written: bool) -> RunOutcomes:
    """A run's quarantine rows; with what it wrote when a later run may supersede an earlier."""
    quarantined: list[tuple[str, dict[str, Any]]] = []
    prefix = check_key(f"{run_id}/quarantine") + "/"
    for key in stage.list_keys(prefix):
        if not key.endswith(".json"):
            continue
        unit = key[len(prefix) :].split("/", 1)[0]
        rows = json.loads(stage.get_bytes(key))
        quarantined += [(unit, row) for row in rows if isinstance(row, dict)]
    written: list[Key] = []
    if with_written:
        written = [(str(r["source_object"]), str(r["source_id"])) for r in _loaded(stage, run_id)]
    return RunOutcomes(run_id, quarantined, written)


def _without_quarantined(ctx: ResolutionContext, known: dict[Key, Known]) -> ResolutionContext:
    """The context the loads used: a quarantined parent does not exist for its children."""
    by_object: dict[str, set[str]] = {}
    for (sobject, sf_id), item in known.items():
        if item.outcome != "skipped_by_policy":
            by_object.setdefault(sobject, set()).add(sf_id)
    for sobject, ids in sorted(by_object.items()):
        ctx = ctx.without(sobject, frozenset(ids))
    return ctx


class _CreatedIds:
    """Ids the runs created (journal), read on first use: only a create-only column needs it."""

    def __init__(self, stage: Stage, runs: Sequence[str]) -> None:
        self._stage, self._runs = stage, list(runs)
        self._ids: set[str] | None = None

    def __contains__(self, item: object) -> bool:
        if self._ids is None:
            self._ids = {
                i.lower()
                for run in self._runs
                for entry in read_run_journal(self._stage, run)
                for i in entry.created
            }
        return item in self._ids


# ---- one source object at a time -------------------------------------------------------------


@dataclass
class _Bucket:
    """One entry's share of a source object's records."""

    comp: CompiledObject
    source_count: int = 0
    expected: dict[str, Expected] = field(default_factory=dict)
    rejected: dict[str, Known] = field(default_factory=dict)
    exceptions: dict[str, Known] = field(default_factory=dict)


@dataclass
class _Work:
    """The run's mapping, context and clients; compares one source object at a time."""

    stage: Stage
    salesforce: SalesforceClient
    org_id: str
    client: DataverseClient
    tables: LoadContext
    compiled: CompiledMapping
    ctx: ResolutionContext
    known: dict[Key, Known]
    runs: list[str]
    source_run: str
    created: _CreatedIds
    placed: set[Key] = field(default_factory=set)

    def certify_source(self, source: str) -> list[EntryResult]:
        """Route, transform and compare every current record of one Salesforce object."""
        comps = self.compiled.by_source[source]
        buckets = {c.obj.name: _Bucket(c) for c in comps}
        stage = self.stage
        for key in stage.list_batches(raw_prefix(self.source_run, source)):
            for record in stage.read_batch(key):
                # As the load does: a record no route takes belongs to the first entry.
                chosen = self.compiled.entry_for(source, record) or comps[0]
                self._place(source, record, buckets[chosen.obj.name])
        for item in self.known.values():  # quarantined by a run, gone from the source since
            if item.source_object == source and item.key not in self.placed:
                bucket = buckets.get(item.unit or "") or buckets[comps[0].obj.name]
                tid = target_id(self.ctx.namespace, source, item.source_id).lower()
                bucket.exceptions[tid] = item
                self.placed.add(item.key)
        return [self._compare(bucket) for bucket in buckets.values()]

    def _place(self, source: str, record: dict[str, Any], bucket: _Bucket) -> None:
        bucket.source_count += 1
        sf_id = to_18(str(record["Id"]))
        tid = target_id(self.ctx.namespace, source, sf_id).lower()
        known = self.known.get((source, sf_id))
        if known is not None:
            bucket.exceptions[tid] = known
            self.placed.add(known.key)
            return
        name = bucket.comp.obj.name
        try:
            out = self.compiled.transform(source, record, self.ctx)
        except TransformError as exc:
            code, why = exc.reason_code, exc.message
            bucket.rejected[tid] = Known(source, sf_id, code, "transform", name, message=why)
            return
        if isinstance(out, TargetRow):
            bucket.expected[out.id.lower()] = expected_from_row(out)
        else:
            bucket.rejected[tid] = Known(
                source, sf_id, out.reason_code, "transform", name, out.outcome, out.message
            )

    def _compare(self, bucket: _Bucket) -> EntryResult:
        obj = bucket.comp.obj
        result = EntryResult(obj.name, obj.source, obj.target, obj.id_column)
        result.source_count = bucket.source_count
        table = run_async(lambda: self.tables.table(obj.target))
        columns = sorted({k for exp in bucket.expected.values() for k in exp.fields})
        sf_ids: dict[str, str] = {}
        if obj.id_column:
            actual = run_async(lambda: _rows_with_column(self.client, table, obj, columns))
        else:
            for run in self.runs:
                for row in _loaded(self.stage, run, obj.name):
                    sf_ids[str(row["id"]).lower()] = str(row["source_id"])
            ids = {*bucket.expected, *bucket.rejected, *bucket.exceptions, *sf_ids}
            actual = run_async(lambda: _rows_by_id(self.client, table, sorted(ids), columns))
        return compare_entry(
            result,
            expected=bucket.expected,
            rejected=bucket.rejected,
            exceptions=bucket.exceptions,
            actual=actual,
            salesforce_ids=sf_ids,
            create_only={n for n, a in table.attributes.items() if not a.valid_update},
            created=self.created,
        )


# ---- the target ------------------------------------------------------------------------------


def _select(table: TableInfo, id_column: str | None, columns: Sequence[str]) -> list[str]:
    lookups = [name for name, a in table.attributes.items() if a.targets or a.type in _LOOKUP_TYPES]
    wanted = [table.primary_id, *([id_column] if id_column else [])]
    wanted += select_columns(columns, lookups)

    def exists(col: str) -> bool:
        name = col[1:-6] if col.startswith("_") and col.endswith("_value") else col
        return name in table.attributes

    # A column the table lacks cannot be read; its expected value then shows as a difference.
    return [c for c in dict.fromkeys(wanted) if exists(c)]


async def _rows_with_column(
    client: DataverseClient, table: TableInfo, obj: ObjectMap, columns: Sequence[str]
) -> dict[str, dict[str, Any]]:
    assert obj.id_column is not None
    params = {
        "$select": ",".join(_select(table, obj.id_column, columns)),
        "$filter": f"{obj.id_column} ne {odata_quote(None)}",
    }
    out: dict[str, dict[str, Any]] = {}
    async for row in client.get_all(
        table.entity_set,
        params=params,
        headers={"Prefer": LOOKUP_ANNOTATIONS},
        action=f"read {table.entity_set} with {obj.id_column}",
        object_name=table.logical,
    ):
        out[str(row[table.primary_id]).lower()] = row
    return out


async def _rows_by_id(
    client: DataverseClient, table: TableInfo, ids: Sequence[str], columns: Sequence[str]
) -> dict[str, dict[str, Any]]:
    return await read_by_ids(client, table, ids, select=_select(table, None, columns))
