"""Scale benchmark of the run's one whole-org step: the resolution context (pre-passes).

Every other step of a run works batch by batch (extraction pages, load batches, reconcile
chunks), so its memory does not depend on the org's size; ``prepare_context`` is the step that
looks at every staged record of every object, and the context it keeps (ids that exist and will
be migrated, flags, addresses) is O(records) by nature. This benchmark measures it alone, at
sizes the end-to-end benchmark cannot reach in reasonable time (1M contacts is ~14M records,
about four hours of loading at the service-protection ceiling):

1. the generated org of N contacts (reused from ``--orgs``, see ``bench/e2e.py``) is staged as
   extraction would stage it: each ``data/<Object>.jsonl`` into gzip batches of 2,000 on a
   local stage (once, kept beside the org);
2. in a fresh process per measurement: ``build_context`` over the staged batches, either
   streamed (generators, as ``shared.run.steps.prepare_context`` calls it now) or materialised
   (each object read into a list first, as it did before), then ``context_store.save`` and
   ``context_store.load`` (what every load activity did once per phase);
   or ``disk``: ``shared.mapping.prepare_disk.prepare_on_disk`` (the pre-passes through a
   temporary SQLite file), its lines streamed to the stage with their digest (as
   ``context_store.save`` stores them), nothing loaded, and then the local index a load
   process opens (``shared.run.context_index.open_local``), built from the stored lines;
3. wall time, CPU time and peak RSS (``ru_maxrss`` of that process) per phase, the id counts,
   the stored context's size and SHA-256 (equal across modes), and the load average.

Usage::

    python -m bench.scale --contacts 10000 100000             # quick-ish: streamed, materialised
    python -m bench.scale --contacts 10000 100000 1000000 --modes streamed
    python -m bench.scale --contacts 10000 100000 --modes disk streamed --name scale-disk

Results go to ``bench/results/<date>-<name>.json`` (``--name``, default ``scale``; a second run
with the same name on the same day replaces the file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.e2e import machine, org_for  # noqa: E402

STAGE_BATCH = 2000
RUN_ID = "bench-scale"


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stage_org(org: Path) -> Path:
    """Stage every object of the org as extraction would (gzip JSON-lines batches); once."""
    from shared.stage.keys import raw_batch_key
    from shared.stage.local import LocalStage

    root = org / "bench-stage"
    done = root / "staged.json"
    if done.exists():
        return root
    stage = LocalStage(root)
    counts = {}
    for path in sorted((org / "data").glob("*.jsonl")):
        sobject = path.stem
        with path.open(encoding="utf-8") as lines:
            batch, n = 1, 0
            chunk: list[dict[str, Any]] = []
            for line in lines:
                chunk.append(json.loads(line))
                n += 1
                if len(chunk) == STAGE_BATCH:
                    stage.write_batch(raw_batch_key(RUN_ID, sobject, batch), chunk)
                    batch, chunk = batch + 1, []
            if chunk:
                stage.write_batch(raw_batch_key(RUN_ID, sobject, batch), chunk)
        counts[sobject] = n
    done.write_text(json.dumps(counts), encoding="utf-8")
    return root


def _staged(stage_root: Path) -> tuple[Any, Any, list[str], Callable[[str], Iterator[Any]]]:
    """The local stage, the default mapping, its objects and a reader of one object's batches."""
    from shared.demo import DEFAULT_MAPPING
    from shared.mapping.loader import load_mapping
    from shared.mapping.plan import extraction_plan
    from shared.stage.keys import raw_prefix
    from shared.stage.local import LocalStage

    stage = LocalStage(stage_root)
    mapping = load_mapping(DEFAULT_MAPPING).effective()
    objects = [p.object for p in extraction_plan(mapping)]

    def staged(sobject: str) -> Iterator[dict[str, Any]]:
        for key in stage.list_batches(raw_prefix(RUN_ID, sobject)):
            yield from stage.read_batch(key)

    return stage, mapping, objects, staged


def _users(stage_root: Path) -> dict[str, Any]:
    """The org's Dynamics users and fallback owner, as a run reads them from the target (so
    the stored context transforms records into rows, which ``bench.scale_loads`` needs)."""
    from tests.shared.mapping.orgdata import dataverse_users

    users = dataverse_users(stage_root.parent)
    fallback = next(u["internalemailaddress"] for u in users if not u["isdisabled"])
    return {"users": users, "fallback_owner_email": fallback}


def measure_disk(stage_root: Path) -> dict[str, Any]:
    """Build the context on disk, store its lines, then open a load process's local index."""
    from shared.ids import org_namespace
    from shared.mapping.prepare_disk import prepare_on_disk
    from shared.run import context_index, context_store

    stage, mapping, objects, staged = _staged(stage_root)
    out: dict[str, Any] = {"mode": "disk", "baseline_rss_mib": round(_rss_mib(), 1)}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        started, cpu = time.perf_counter(), _cpu()
        prepared = prepare_on_disk(
            {name: staged(name) for name in objects},
            mapping,
            namespace=org_namespace("00D000000000001AAA"),
            workdir=Path(tmp) / "prepare",
            **_users(stage_root),
        )
        out["build_s"] = round(time.perf_counter() - started, 2)
        out["build_cpu_s"] = round(_cpu() - cpu, 2)
        out["rss_after_build_mib"] = round(_rss_mib(), 1)
        out["workdir_bytes"] = prepared.path.stat().st_size
        started, cpu = time.perf_counter(), _cpu()
        with prepared:
            context_store.save_lines(stage, RUN_ID, prepared.lines())  # as prepare_context
            out["flags"] = prepared.flags
        out["save_s"] = round(time.perf_counter() - started, 2)
        out["save_cpu_s"] = round(_cpu() - cpu, 2)
        out["rss_after_save_mib"] = round(_rss_mib(), 1)
        out["context_bytes"] = (stage_root / context_store.context_key(RUN_ID)).stat().st_size
        out["context_sha256"] = context_store.stored_digest(stage, RUN_ID)
        # What a load process does first (once per machine and run): no context in memory.
        started, cpu = time.perf_counter(), _cpu()
        index = context_index.open_local(stage, RUN_ID, Path(tmp) / "index")
        out["index_build_s"] = round(time.perf_counter() - started, 2)
        out["index_build_cpu_s"] = round(_cpu() - cpu, 2)
        out["index_bytes"] = index.path.stat().st_size
    out["peak_rss_mib"] = round(_rss_mib(), 1)
    return out


def measure_one(stage_root: Path, mode: str) -> dict[str, Any]:
    """Build, save and load the context in this process; time and peak RSS per phase."""
    from shared.ids import org_namespace
    from shared.mapping.prepare import build_context
    from shared.run import context_store

    if mode == "disk":
        return measure_disk(stage_root)
    stage, mapping, objects, staged = _staged(stage_root)
    out: dict[str, Any] = {"mode": mode, "baseline_rss_mib": round(_rss_mib(), 1)}
    started, cpu = time.perf_counter(), _cpu()
    if mode == "streamed":
        records: dict[str, Any] = {name: staged(name) for name in objects}
    else:
        records = {name: list(staged(name)) for name in objects}
    ctx = build_context(
        records, mapping, namespace=org_namespace("00D000000000001AAA"), **_users(stage_root)
    )
    del records
    out["build_s"] = round(time.perf_counter() - started, 2)
    out["build_cpu_s"] = round(_cpu() - cpu, 2)
    out["rss_after_build_mib"] = round(_rss_mib(), 1)
    started = time.perf_counter()
    context_store.save(stage, RUN_ID, ctx)
    out["save_s"] = round(time.perf_counter() - started, 2)
    out["rss_after_save_mib"] = round(_rss_mib(), 1)
    out["context_bytes"] = len(stage.get_bytes(context_store.context_key(RUN_ID)))
    out["context_sha256"] = context_store.stored_digest(stage, RUN_ID)
    out["ids_present"] = sum(len(v) for v in ctx.present.values())
    out["ids_migrated"] = sum(len(v) for v in ctx.migrated.values())
    out["distinct_id_sets"] = len(
        {id(v) for v in ctx.present.values()} | {id(v) for v in ctx.migrated.values()}
    )
    out["flags"] = sum(len(v) for v in ctx.flags.values())
    out["addresses"] = len(ctx.addresses)
    del ctx
    started = time.perf_counter()
    context_store.load(stage, RUN_ID)
    out["load_s"] = round(time.perf_counter() - started, 2)
    out["peak_rss_mib"] = round(_rss_mib(), 1)
    return out


def main() -> int:
    """Parse arguments; stage each scale once; measure each mode in its own process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--modes",
        nargs="+",
        default=["streamed", "materialised"],
        choices=["streamed", "materialised", "disk"],
    )
    parser.add_argument(
        "--materialised-up-to", type=int, default=100_000,
        help="skip the materialised mode above this many contacts (it needs tens of GB at 1M)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orgs", type=Path, default=Path(tempfile.gettempdir()) / "bench-orgs")
    parser.add_argument("--name", default="scale")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # stage_root mode
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(Path(args.one[0]), args.one[1])))
        return 0
    args.orgs.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {
        "name": args.name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.scale " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "results": [],
    }
    out = ROOT / "bench" / "results" / f"{dt.date.today().isoformat()}-{args.name}.json"
    for contacts in args.contacts:
        org, generated = org_for(contacts, args.seed, args.orgs)
        started = time.perf_counter()
        stage_root = stage_org(org)
        staging_s = time.perf_counter() - started
        for mode in args.modes:
            if mode == "materialised" and contacts > args.materialised_up_to:
                continue
            print(f"scale: {contacts} contacts, {mode}", file=sys.stderr, flush=True)
            load_before = [round(x, 2) for x in os.getloadavg()]
            child = subprocess.run(
                [sys.executable, "-m", "bench.scale", "--one", str(stage_root), mode],
                cwd=ROOT,
                capture_output=True,
                text=True,
                env=dict(os.environ, PYTHONPATH=str(ROOT)),
            )
            if child.returncode != 0:
                result: dict[str, Any] = {"mode": mode, "error": child.stderr[-2000:]}
            else:
                result = json.loads(child.stdout.strip().splitlines()[-1])
            result |= {
                "load_average_before": load_before,
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "contacts": contacts,
                "source_records": generated["records"],
                "staging_s": round(staging_s, 1),
            }
            doc["results"].append(result)
            print(json.dumps(result), flush=True)
            doc["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"scale: results in {out}", file=sys.stderr)
    return 0 if all("error" not in r for r in doc["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
