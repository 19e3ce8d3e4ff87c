"""The work behind each activity of the ``migrate`` orchestrator.

Each function takes the process's :class:`Runtime` and the activity's JSON input and returns
JSON-safe counts and references. They compose the engine's stages — extraction
(``shared.salesforce``), pre-passes and transform (``shared.mapping``), loading and
reconciliation (``shared.dataverse``, ``shared.reconcile``) — and keep per-process caches
(clients, compiled mapping, resolution context) in the runtime.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shared.crashpoints import reach
from shared.dataverse.load import BatchRef, Transform, link_batch, load_batch
from shared.dataverse.metadata import fetch_target_metadata
from shared.delta.state import advance, capture_watermark
from shared.errors import FatalError, MappingNotConfirmedError, SchemaError
from shared.ids import org_namespace
from shared.mapping.models import Mapping
from shared.mapping.plan import extraction_plan
from shared.mapping.prepare_disk import prepare_on_disk
from shared.mapping.target_metadata import TargetMetadata
from shared.mapping.transform import CompiledMapping, compile_mapping
from shared.mapping_review.gate import require_confirmed
from shared.reconcile.phase import reconcile_phase as reconcile_phase_
from shared.run import context_index, context_store
from shared.run.clients import dataverse, load_context, run_async
from shared.run.context_index import ContextIndex
from shared.run.plan import load_run_mapping, plan_key
from shared.run.plan import plan_run as plan_run_
from shared.run.runtime import Runtime
from shared.salesforce.client import SalesforceClient, connect
from shared.salesforce.extract import extract_all
from shared.salesforce.inventory import build_inventory
from shared.stage.keys import raw_prefix

ORG_KEY = "{run}/org.json"


def _salesforce(runtime: Runtime) -> SalesforceClient:
    return runtime.cached("salesforce", lambda: connect(runtime.settings.salesforce))


def _plan(runtime: Runtime, run_id: str) -> dict[str, Any]:
    return runtime.cached(
        f"plan:{run_id}", lambda: json.loads(runtime.stage.get_bytes(plan_key(run_id)))
    )


def _confirmation(path: Path, sha: str) -> tuple[bool, str]:
    try:
        record = require_confirmed(path)
    except MappingNotConfirmedError as exc:
        return False, str(exc)
    if record.sha256 != sha:
        return False, (
            f"{path} was confirmed as sha256 {record.sha256[:12]}, but the run would use "
            f"{sha[:12]}: review it (./migrate review {path}) and confirm it again "
            f"(./migrate confirm-map {path} --by NAME)"
        )
    return True, f"confirmed by {record.by} at {record.at}"


# ---- planning -------------------------------------------------------------------------------


def plan_run(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Snapshot the mapping, check its confirmation, derive extraction levels and phases."""
    return plan_run_(runtime, params["run_id"], _confirmation)


def record_approval(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Record who approved the mapping of an HTTP-started run (the approval event)."""
    record = {
        "by": params.get("by"),
        "sha256": params.get("sha256"),
        "file": params.get("file"),
        "at": dt.datetime.now(dt.UTC).isoformat(),
        "how": "MappingApproved event",
    }
    runtime.write_report(params["run_id"], "mapping-approval.json", json.dumps(record).encode())
    return record


# ---- target schema and metadata ---------------------------------------------------------------


def _tables(mapping: Mapping) -> list[str]:
    return sorted({o.target for o in mapping.objects})


def _metadata(runtime: Runtime, run_id: str) -> TargetMetadata:
    """The target's metadata for the mapping's tables, read once per process."""

    def build() -> TargetMetadata:
        mapping = load_run_mapping(runtime, run_id)
        client = dataverse(runtime)
        return run_async(lambda: fetch_target_metadata(client, _tables(mapping)))

    return runtime.cached(f"metadata:{run_id}", build)


def _compiled(runtime: Runtime, run_id: str) -> CompiledMapping:
    return runtime.cached(
        f"compiled:{run_id}",
        lambda: compile_mapping(
            load_run_mapping(runtime, run_id), _metadata(runtime, run_id), check=False
        ),
    )


def check_schema(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Fail before anything moves if the target lacks a column, key or table the map needs.

    Raises:
        SchemaError: every problem listed, with ``./migrate deploy-schema`` as the remedy.
    """
    run_id = params["run_id"]
    mapping = load_run_mapping(runtime, run_id)
    try:
        compile_mapping(mapping, _metadata(runtime, run_id), check=True)
    except SchemaError as exc:
        raise SchemaError(
            f"{exc.message}\nCreate what is missing with: ./migrate deploy-schema --config FILE"
        ) from None
    return {"tables": len(_tables(mapping))}


# ---- extraction -----------------------------------------------------------------------------


def extract_object(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Extract one object into the stage (resumes from its last complete batch)."""
    run_id, name = params["run_id"], params["object"]
    mapping = load_run_mapping(runtime, run_id)
    items = [p for p in extraction_plan(mapping) if p.object == name]
    if not items:
        raise FatalError(f"{name} is not in the extraction plan of run {run_id}")
    client = _salesforce(runtime)
    capture_watermark(client, runtime.stage, run_id, name, queryable=items[0].parent_filter is None)
    (result,) = extract_all(client, runtime.stage, runtime.settings, run_id, items)
    data = result.to_dict()
    runtime.stage.put_bytes(f"{run_id}/extraction/{name}.json", json.dumps(data).encode())
    return {
        "object": name,
        "count": result.extracted,
        "source_count": result.source_count,
        "batches": result.batches,
        "status": result.status,
    }


def _org_id(runtime: Runtime, run_id: str) -> str:
    key = ORG_KEY.format(run=run_id)
    if runtime.stage.exists(key):
        return str(json.loads(runtime.stage.get_bytes(key))["org_id"])
    page = next(
        _salesforce(runtime).query_pages("SELECT Id FROM Organization", sobject="Organization")
    )
    rows = page.get("records", [])
    if not rows:
        raise FatalError("Salesforce returned no Organization row: cannot derive target ids")
    org_id = str(rows[0]["Id"])
    runtime.stage.put_bytes(key, json.dumps({"org_id": org_id}).encode())
    return org_id


def _staged(runtime: Runtime, run_id: str, sobject: str) -> Iterator[dict[str, Any]]:
    for key in runtime.stage.list_batches(raw_prefix(run_id, sobject)):
        yield from runtime.stage.read_batch(key)


def prepare_context(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Run the pre-passes over the staged records and keep the result on the stage."""
    run_id = params["run_id"]
    mapping = load_run_mapping(runtime, run_id)
    objects = [p.object for p in extraction_plan(mapping)]
    client = dataverse(runtime)

    async def users() -> list[dict[str, Any]]:
        return [
            row
            async for row in client.get_all(
                "systemusers",
                params={"$select": "systemuserid,internalemailaddress,isdisabled,fullname"},
                action="read systemusers",
            )
        ]

    # Generators: each object's batches stream through the pre-passes in one pass, on disk
    # (shared/mapping/prepare_disk.py), so this step's memory does not grow with the org.
    with (
        tempfile.TemporaryDirectory(prefix="prepare-") as tmp,
        prepare_on_disk(
            {name: _staged(runtime, run_id, name) for name in objects},
            mapping,
            namespace=org_namespace(_org_id(runtime, run_id)),
            users=run_async(users),
            fallback_owner_email=runtime.settings.dataverse.fallback_owner_email,
            run_id=run_id,
            workdir=Path(tmp),
        ) as prepared,
    ):
        context_store.save_lines(runtime.stage, run_id, prepared.lines())
        return {"flags": prepared.flags, "users": prepared.users}


def _quarantined_before(runtime: Runtime, run_id: str, phase_index: int) -> dict[str, set[str]]:
    """Source ids quarantined by the loads of earlier phases (their children must know)."""
    plan = _plan(runtime, run_id)
    out: dict[str, set[str]] = {}
    for phase in plan["phases"]:
        if phase["index"] >= phase_index:
            continue
        for entry in phase["objects"]:
            for key in runtime.stage.list_keys(f"{run_id}/quarantine/{entry}/"):
                for rej in json.loads(runtime.stage.get_bytes(key)):
                    if rej.get("outcome") != "skipped_by_policy":
                        out.setdefault(rej["source_object"], set()).add(rej["source_id"])
    return out


def _context(runtime: Runtime, run_id: str, phase_index: int) -> ContextIndex:
    def build() -> ContextIndex:
        # One index file per machine and run (``shared.run.context_index``): the org's ids stay
        # on local disk; each batch gets a small view of what it refers to. Each phase derives
        # its own with ``without`` (the parents quarantined before it, held in memory: few).
        index = runtime.cached(
            f"context:{run_id}", lambda: context_index.open_local(runtime.stage, run_id)
        )
        for sobject, ids in _quarantined_before(runtime, run_id, phase_index).items():
            index = index.without(sobject, frozenset(ids))
        # What the process keeps from here on (compiled mapping, clients, caches) is never
        # garbage: keep the cyclic collector from walking it again after every few thousand
        # allocations of the transform (bench/transform.py measures with the freeze).
        gc.freeze()
        return index

    return runtime.cached(f"context:{run_id}:{phase_index}", build)


# ---- loading ------------------------------------------------------------------------------


def list_batches(runtime: Runtime, params: dict[str, Any]) -> list[str]:
    """Keys of the complete staged batches of one source object."""
    return runtime.stage.list_batches(raw_prefix(params["run_id"], params["source"]))


def _phase(runtime: Runtime, run_id: str, entry: str) -> dict[str, Any]:
    for phase in _plan(runtime, run_id)["phases"]:
        if entry in phase["objects"]:
            return dict(phase)
    raise FatalError(f"mapping entry {entry} is in no phase of run {run_id}")


def _ref(runtime: Runtime, params: dict[str, Any]) -> tuple[BatchRef, dict[str, Any]]:
    run_id, entry = params["run_id"], params["entry"]
    phase = _phase(runtime, run_id, entry)
    source = phase["sources"][entry]
    batch = int(str(params["batch"]).rsplit("/", 1)[1])
    ref = BatchRef(run_id, phase["index"], f"phase{phase['index']}", source, batch, entry=entry)
    return ref, phase


def load_batch_step(runtime: Runtime, params: dict[str, Any]) -> dict[str, int]:
    """Transform and write one staged batch for one mapping entry; return counts."""
    ref, phase = _ref(runtime, params)
    compiled = _compiled(runtime, ref.run_id)
    index = _context(runtime, ref.run_id, phase["index"])
    routes = compiled.by_source.get(ref.sobject, [])
    first = routes[0].obj.name if routes else None

    def accept(record: dict[str, Any]) -> bool:
        chosen = compiled.entry_for(ref.sobject, record)
        # A record no route takes is quarantined by the first entry, never lost.
        return (chosen.obj.name if chosen else first) == ref.entry

    def transform_for(records: list[dict[str, Any]]) -> Transform:
        ctx = index.view(compiled.references(ref.sobject, records))
        return lambda record: compiled.transform(ref.sobject, record, ctx)

    context = load_context(runtime)
    return run_async(
        lambda: load_batch(
            ref, stage=runtime.stage, context=context, transform_for=transform_for, accept=accept
        )
    )


def needs_second_pass(runtime: Runtime, params: dict[str, Any]) -> bool:
    """Whether an entry has self-references bound after its phase's rows exist."""
    phase = _phase(runtime, params["run_id"], params["entry"])
    return any(name == params["entry"] for name, _nav in phase.get("second_pass", []))


def second_pass_batch(runtime: Runtime, params: dict[str, Any]) -> dict[str, int]:
    """Bind the second-pass lookups of one loaded batch."""
    ref, _ = _ref(runtime, params)
    context = load_context(runtime)
    return run_async(lambda: link_batch(ref, stage=runtime.stage, context=context))


# ---- reconciliation and reports -------------------------------------------------------------


def reconcile_phase(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Reconcile one phase (counts, presence, field read-back); write its reports."""
    reach("reconcile.phase")
    run_id = params["run_id"]
    phase = next(p for p in _plan(runtime, run_id)["phases"] if p["index"] == params["phase"])
    entries: dict[str, list[str]] = {}
    for name in phase["objects"]:
        entries.setdefault(phase["sources"][name], []).append(name)
    context = load_context(runtime)
    with tempfile.TemporaryDirectory(prefix="reconcile-") as tmp:
        verdict = run_async(
            lambda: reconcile_phase_(
                runtime.stage,
                context,
                run_id=run_id,
                phase=f"phase{phase['index']}",
                objects=list(entries),
                settings=runtime.settings.reconcile,
                reports_dir=Path(tmp),
                entries=entries,
            )
        )
        for path in sorted(Path(tmp).rglob("*")):
            if path.is_file():
                name = str(path.relative_to(tmp))
                tag = f"phase{phase['index']}"
                runtime.write_report_file(run_id, name if tag in name else f"{tag}-{name}", path)
    data = verdict.to_dict()
    runtime.stage.put_bytes(
        f"{run_id}/reconciliation/phase{phase['index']}.json", json.dumps(data).encode()
    )
    return {
        "reconciled": verdict.passed,
        "unexplained": verdict.unexplained,
        "objects": {
            o.object: {"unexplained": o.unexplained, "balanced": o.balanced}
            for o in verdict.objects
        },
    }


def write_inventories(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """The sequence inventory and the enrollment manifest (deliverables, not records)."""
    run_id = params["run_id"]
    with tempfile.TemporaryDirectory(prefix="inventory-") as tmp:
        result = build_inventory(
            _salesforce(runtime), Path(tmp), namespace=runtime.settings.salesforce.namespace
        )
        for path in sorted(Path(tmp).glob("*")):
            runtime.write_report_file(run_id, path.name, path)
    return {
        "sequences": result.sequences,
        "steps": result.steps,
        "enrollments": result.enrollments,
        "requiring_re_enrollment": result.requiring_re_enrollment,
    }


def _quarantine_rows(runtime: Runtime, run_id: str) -> Iterator[dict[str, Any]]:
    for key in runtime.stage.list_keys(f"{run_id}/quarantine/"):
        if key.endswith(".json"):
            yield from json.loads(runtime.stage.get_bytes(key))


def write_summary(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """``reports/summary.{json,md}`` and ``reports/quarantine.{json,csv}``; the run's output."""
    from shared.run.summary import render_summary, write_quarantine

    run_id = params["run_id"]
    with tempfile.TemporaryDirectory(prefix="summary-") as tmp:
        files = Path(tmp) / "quarantine.json", Path(tmp) / "quarantine.csv"
        with (
            files[0].open("w", encoding="utf-8") as json_out,
            files[1].open("w", encoding="utf-8", newline="") as csv_out,
        ):
            by_code = write_quarantine(_quarantine_rows(runtime, run_id), json_out, csv_out)
        for path in files:
            runtime.write_report_file(run_id, path.name, path)
    summary, markdown, table = render_summary(params, by_code)
    runtime.write_report(run_id, "summary.json", json.dumps(summary, indent=2).encode())
    runtime.write_report(run_id, "summary.md", markdown.encode())
    if params["status"] == "completed" and params.get("kind", "migration") == "migration":
        advance(runtime.stage, run_id, base_run=run_id)  # deltas continue from this run
    if params["status"] == "completed":
        # Nothing loads for this run any more; a run stopped at a gate keeps it for its resume.
        context_index.remove_local(run_id)
    return {"run_id": run_id, "status": params["status"], "phase_table": table}
