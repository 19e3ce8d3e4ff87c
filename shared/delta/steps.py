"""The work behind each activity of the ``delta`` orchestrator.

A delta is a run of its own (own id, stage prefix, journal, reports) that continues the sync
chain recorded in ``sync/state.json``:

1. ``plan_delta``: copy the base migration's mapping snapshot (rows are written exactly as the
   migration wrote them), derive the same phases, and fix each object's *since*: its
   watermark minus ``delta.overlap_minutes``.
2. ``extract_changes`` per object: take the new watermark, then stage every record with
   ``SystemModstamp >= since`` through ``queryAll`` (so rows deleted since come back with
   ``IsDeleted``). Objects queried by their parents (``ContentDocumentLink``) are read by the
   ids of every migrated parent.
3. ``compare_ids`` per object (when due, and always at cutover): the full id set of the source
   against the ids the previous run knew, to find rows purged from the recycle bin.
4. ``prepare_delta_context``: the pre-passes over the changed records, merged into the
   previous run's context (``shared.delta.context``).
5. The loads and the reconciliation of each phase are the migration's own activities.
6. ``apply_deletions`` per entry, children first (``shared.delta.deletions``).
7. ``finish_delta``: reports, and the sync state advanced (only when every phase reconciled).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from shared.crashpoints import reach
from shared.delta import deletions as deletions_
from shared.delta.context import merge_context
from shared.delta.report import render_delta_report
from shared.delta.state import advance, capture_watermark, load_state
from shared.errors import FatalError
from shared.ids import target_id, to_18
from shared.mapping.context import ResolutionContext
from shared.mapping.plan import ObjectExtraction, extraction_plan
from shared.quoting import soql_quote
from shared.run import context_store, steps
from shared.run.clients import load_context, run_async
from shared.run.plan import load_run_mapping, mapping_key
from shared.run.plan import plan_run as plan_run_
from shared.run.runtime import Runtime
from shared.salesforce.extract import extract_all
from shared.stage.keys import raw_prefix

__all__ = [
    "apply_deletions",
    "certify_cutover",
    "compare_ids",
    "extract_changes",
    "finish_delta",
    "plan_delta",
    "prepare_delta_context",
]

EPOCH = "1970-01-01T00:00:00Z"


def info_key(run_id: str) -> str:
    """Where a delta keeps what it continues from and its windows."""
    return f"{run_id}/delta.json"


def _info(runtime: Runtime, run_id: str) -> dict[str, Any]:
    key = info_key(run_id)
    if not runtime.stage.exists(key):
        raise FatalError(f"{run_id} is not a delta run (no {key} on the stage)")
    data: dict[str, Any] = json.loads(runtime.stage.get_bytes(key))
    return data


def _parse(stamp: str) -> dt.datetime:
    text = stamp.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # +0000 → +00:00
        text = text[:-2] + ":" + text[-2:]
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _minus_overlap(stamp: str | None, minutes: int) -> str | None:
    if stamp is None:
        return None
    return (_parse(stamp) - dt.timedelta(minutes=minutes)).astimezone(dt.UTC).isoformat()


# ---- planning -------------------------------------------------------------------------------


def plan_delta(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Fix what the delta continues from, its mapping, phases and read windows.

    Raises:
        FatalError: no completed migration to continue from (run one first).
    """
    run_id = params["run_id"]
    key = info_key(run_id)
    if runtime.stage.exists(key):  # a resumed delta keeps its plan
        info = _info(runtime, run_id)
    else:
        state = load_state(runtime.stage)
        if state is None:
            raise FatalError(
                "nothing to sync from: no migration has completed with every phase reconciled "
                "on this stage. Run ./migrate run --config FILE first; a delta continues from it."
            )
        since_run = params.get("since") or state.last_run
        if since_run not in state.runs:
            raise FatalError(
                f"{since_run} is not a completed run of the sync chain ({', '.join(state.runs)})"
            )
        overlap = runtime.settings.delta.overlap_minutes
        hours = runtime.settings.delta.full_compare_hours
        last = state.last_full_compare
        due = last is None or (dt.datetime.now(dt.UTC) - _parse(last) >= dt.timedelta(hours=hours))
        info = {
            "run_id": run_id,
            "base_run": state.base_run,
            "continues_from": since_run,
            "chain": state.runs[: state.runs.index(since_run) + 1],
            "since": {
                obj: _minus_overlap(mark, overlap) for obj, mark in sorted(state.watermarks.items())
            },
            "overlap_minutes": overlap,
            "full_compare": bool(params.get("cutover") or params.get("full_compare") or due),
            "cutover": bool(params.get("cutover")),
            "delete_policy": runtime.settings.delta.delete_policy,
            "started": dt.datetime.now(dt.UTC).isoformat(),
        }
        runtime.stage.put_bytes(
            mapping_key(run_id), runtime.stage.get_bytes(mapping_key(state.base_run))
        )
        runtime.stage.put_bytes(key, json.dumps(info, indent=1).encode())
    base = info["base_run"]
    plan = plan_run_(runtime, run_id, lambda _p, _s: (True, f"the mapping snapshot of {base}"))
    return {
        **plan,
        "base_run": base,
        "continues_from": info["continues_from"],
        "full_compare": info["full_compare"],
        "cutover": info["cutover"],
        "compare": [
            p.object
            for p in extraction_plan(load_run_mapping(runtime, run_id))
            if p.parent_filter is None
        ],
    }


# ---- extraction of changes ------------------------------------------------------------------


def _previous_context(runtime: Runtime, run_id: str) -> ResolutionContext:
    """The context of the run this delta continues from, as its loads left the target.

    A run's stored context is what its pre-passes expected to exist; records its loads
    quarantined (the server refused them) do not exist, so they are taken out here. By
    induction every delta's context then matches the target it continues.
    """
    previous = _info(runtime, run_id)["continues_from"]

    def build() -> ResolutionContext:
        ctx = context_store.load(runtime.stage, previous)
        for sobject, ids in steps._quarantined_before(runtime, previous, 10**6).items():
            ctx = ctx.without(sobject, frozenset(ids))
        return ctx

    return runtime.cached(f"delta-previous:{run_id}", build)


def _staged(runtime: Runtime, run_id: str, sobject: str) -> Iterator[dict[str, Any]]:
    for key in runtime.stage.list_batches(raw_prefix(run_id, sobject)):
        yield from runtime.stage.read_batch(key)


def _changes_item(
    runtime: Runtime, run_id: str, item: ObjectExtraction, info: dict[str, Any]
) -> ObjectExtraction:
    since: str | None = info["since"].get(item.object)
    if item.parent_filter is not None:
        # Read by the ids of every parent that exists in the target after this delta.
        previous = _previous_context(runtime, run_id)
        ids: set[str] = set()
        for parent in item.parent_filter.get("parents", []):
            ids |= set(previous.migrated.get(parent, ()))
            ids |= {
                to_18(str(r["Id"]))
                for r in _staged(runtime, run_id, parent)
                if not r.get("IsDeleted")
            }
        ids_key = f"{run_id}/delta/parents-{item.object}.json"
        runtime.stage.put_bytes(ids_key, json.dumps(sorted(ids)).encode())
        marks = [_parse(s) for s in info["since"].values() if s]
        since = min(marks).isoformat() if marks else None
        return replace(
            item,
            parent_filter={**item.parent_filter, "ids_key": ids_key},
            where=_and(item.where, since),
        )
    return replace(item, where=_and(item.where, since or EPOCH), include_deleted=True)


def _and(where: str | None, since: str | None) -> str | None:
    """The mapping's filter and the change window, for one object's delta query."""
    if since is None:
        return where
    cond = f"SystemModstamp >= {soql_quote(_parse(since))}"
    return f"({where}) AND {cond}" if where else cond


def extract_changes(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Stage the records of one object changed or deleted since its watermark."""
    run_id, name = params["run_id"], params["object"]
    info = _info(runtime, run_id)
    mapping = load_run_mapping(runtime, run_id)
    items = [p for p in extraction_plan(mapping) if p.object == name]
    if not items:
        raise FatalError(f"{name} is not in the extraction plan of delta {run_id}")
    client = steps._salesforce(runtime)
    queryable = items[0].parent_filter is None
    capture_watermark(client, runtime.stage, run_id, name, queryable=queryable)
    item = _changes_item(runtime, run_id, items[0], info)
    (result,) = extract_all(client, runtime.stage, runtime.settings, run_id, [item])
    reach("delta.extracted")
    deleted = sum(1 for r in _staged(runtime, run_id, name) if r.get("IsDeleted"))
    data = {**result.to_dict(), "deleted": deleted, "since": info["since"].get(name)}
    runtime.stage.put_bytes(f"{run_id}/extraction/{name}.json", json.dumps(data).encode())
    return {
        "object": name,
        "count": result.extracted,
        "deleted": deleted,
        "batches": result.batches,
        "status": result.status,
    }


# ---- full id comparison ---------------------------------------------------------------------


def compare_key(run_id: str, sobject: str) -> str:
    """Where the full comparison keeps the ids of one object gone from the source."""
    return f"{run_id}/deletions/{sobject}-compare.json"


def compare_ids(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Ids the previous run knew that no longer exist in the source (deleted or purged)."""
    run_id, name = params["run_id"], params["object"]
    key = compare_key(run_id, name)
    if runtime.stage.exists(key):
        gone = json.loads(runtime.stage.get_bytes(key))
        return {"object": name, "gone": len(gone)}
    previous = _previous_context(runtime, run_id)
    known = set(previous.present.get(name, ()))
    alive: set[str] = set()
    client = steps._salesforce(runtime)
    # queryAll: plain query leaves out archived activities (older than a year), which exist.
    soql = f"SELECT Id FROM {name} WHERE IsDeleted = false"
    for page in client.query_pages(soql, include_deleted=True, sobject=name):
        alive |= {to_18(str(r["Id"])) for r in page.get("records", [])}
    window = {to_18(str(r["Id"])) for r in _staged(runtime, run_id, name) if r.get("IsDeleted")}
    gone = sorted(known - alive - window)
    runtime.stage.put_bytes(key, json.dumps(gone).encode())
    return {"object": name, "source": len(alive), "known": len(known), "gone": len(gone)}


# ---- context --------------------------------------------------------------------------------


def _deleted(runtime: Runtime, run_id: str, sobject: str) -> set[str]:
    ids = {to_18(str(r["Id"])) for r in _staged(runtime, run_id, sobject) if r.get("IsDeleted")}
    key = compare_key(run_id, sobject)
    if runtime.stage.exists(key):
        ids |= set(json.loads(runtime.stage.get_bytes(key)))
    return ids


def prepare_delta_context(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """The pre-passes over the changed records, merged into the previous run's context."""
    run_id = params["run_id"]
    mapping = load_run_mapping(runtime, run_id)
    steps.prepare_context(runtime, {"run_id": run_id})
    own = context_store.load(runtime.stage, run_id)
    previous = _previous_context(runtime, run_id)
    objects = [p.object for p in extraction_plan(mapping)]
    changed: dict[str, set[str]] = {}
    deleted: dict[str, set[str]] = {}
    email_of: dict[tuple[str, str], str] = {}
    people = set(mapping.dedup.people)
    for name in objects:
        for record in _staged(runtime, run_id, name):
            sf_id = to_18(str(record["Id"]))
            changed.setdefault(name, set()).add(sf_id)
            email = record.get(mapping.dedup.email_field)
            live = name in people and not record.get("IsDeleted")
            if live and isinstance(email, str) and email.strip():
                email_of[(name, sf_id)] = email.strip().lower()
        deleted[name] = _deleted(runtime, run_id, name)
    merged = merge_context(
        previous,
        own,
        changed=changed,
        deleted=deleted,
        email_of=email_of,
        email_field=mapping.dedup.email_field,
    )
    context_store.save(runtime.stage, run_id, merged)
    return {
        "changed": sum(len(v) for v in changed.values()),
        "deleted": sum(len(v) for v in deleted.values()),
    }


# ---- deletions ------------------------------------------------------------------------------


def _deletion_ids(runtime: Runtime, run_id: str, entry: str) -> tuple[str, list[str]]:
    compiled = steps._compiled(runtime, run_id)
    chosen = next(
        (c for routes in compiled.by_source.values() for c in routes if c.obj.name == entry), None
    )
    if chosen is None:
        raise FatalError(f"mapping entry {entry} is not in delta {run_id}")
    source = chosen.source
    routes = compiled.by_source.get(source, [])
    first = routes[0].obj.name if routes else None
    ids: set[str] = set()
    for record in _staged(runtime, run_id, source):
        if not record.get("IsDeleted"):
            continue
        taker = compiled.entry_for(source, record)
        if (taker.obj.name if taker else first) == entry:
            ids.add(to_18(str(record["Id"])))
    key = compare_key(run_id, source)
    if runtime.stage.exists(key):  # purged rows carry no fields: every entry of the source looks
        ids |= set(json.loads(runtime.stage.get_bytes(key)))
    return source, sorted(ids)


def apply_deletions(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Delete, deactivate or report the target rows of one entry's deleted source records."""
    run_id, entry = params["run_id"], params["entry"]
    key = f"{run_id}/deletions/{entry}-result.json"
    if runtime.stage.exists(key):
        stored: dict[str, Any] = json.loads(runtime.stage.get_bytes(key))
        return _counts(stored)
    info = _info(runtime, run_id)
    source, ids = _deletion_ids(runtime, run_id, entry)
    ctx = context_store.load(runtime.stage, run_id)
    mapping = load_run_mapping(runtime, run_id)
    obj = next(o for o in mapping.objects if o.name == entry)
    phase = steps._phase(runtime, run_id, entry)
    context = load_context(runtime)

    async def work() -> dict[str, Any]:
        table = await context.table(obj.target)
        tables = [await context.table(t) for t in sorted({o.target for o in mapping.objects})]
        result = await deletions_.apply_deletions(
            context,
            runtime.stage,
            run_id=run_id,
            entry=entry,
            phase_index=int(phase["index"]),
            table=table,
            ids=[target_id(ctx.namespace, source, i) for i in ids],
            policy=info["delete_policy"],
            all_tables=tables,
        )
        data = result.to_dict()
        data["source_ids"] = ids
        data["source"] = source
        return data

    data = run_async(work)
    runtime.stage.put_bytes(key, json.dumps(data, indent=1).encode())
    return _counts(data)


def _counts(data: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (len(v) if isinstance(v, list) else v)
        for k, v in data.items()
        if k not in ("rows", "source_ids", "source")
    }


# ---- the end --------------------------------------------------------------------------------


def finish_delta(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """Write the delta report and, when every phase reconciled, advance the sync state."""
    run_id = params["run_id"]
    info = _info(runtime, run_id)
    status = params["status"]
    extraction = {}
    for key in runtime.stage.list_keys(f"{run_id}/extraction/"):
        data = json.loads(runtime.stage.get_bytes(key))
        extraction[data["object"]] = data
    deletions = []
    for key in runtime.stage.list_keys(f"{run_id}/deletions/"):
        if key.endswith("-result.json"):
            deletions.append(json.loads(runtime.stage.get_bytes(key)))
    advanced = None
    if status == "completed":
        state = advance(runtime.stage, run_id, full_compare=bool(info["full_compare"]))
        advanced = state.last_run
    report = {
        "run_id": run_id,
        "status": status,
        "continues_from": info["continues_from"],
        "base_run": info["base_run"],
        "since": info["since"],
        "overlap_minutes": info["overlap_minutes"],
        "full_compare": info["full_compare"],
        "cutover": info["cutover"],
        "delete_policy": info["delete_policy"],
        "extraction": {
            name: {
                "changed": int(d.get("extracted", 0)) - int(d.get("deleted", 0)),
                "deleted_in_window": int(d.get("deleted", 0)),
                "since": d.get("since"),
            }
            for name, d in sorted(extraction.items())
        },
        "deletions": deletions,
        "phases": params.get("phases", []),
        "certificate": params.get("certificate"),
        "sync_state_advanced_to": advanced,
        "finished": dt.datetime.now(dt.UTC).isoformat(),
    }
    runtime.write_report(run_id, "delta.json", json.dumps(report, indent=2).encode())
    runtime.write_report(run_id, "delta.md", render_delta_report(report).encode())
    summary = steps.write_summary(
        runtime,
        {"run_id": run_id, "status": status, "phases": params.get("phases", []), "kind": "delta"},
    )
    kept = ("continues_from", "sync_state_advanced_to")
    return {
        **summary,
        "delta": {k: report[k] for k in kept},
        "certificate": params.get("certificate"),
    }


def certify_cutover(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    """The cutover certificate of a delta: the source now against the target now.

    Known exceptions come from the quarantine of every run of the chain (the newest run to
    touch a record decides), so a record refused by the migration and never fixed is listed
    as a known exception, not an unexplained difference.
    """
    from shared.cutover.certificate import certify

    run_id = params["run_id"]
    info = _info(runtime, run_id)
    return certify(runtime, {"run_id": run_id, "runs": [*info["chain"], run_id]})
