"""Scale benchmark of what a load activity holds, without Dataverse: 10k to 1M contacts.

A load activity reads one staged batch, asks the run's on-disk context for that batch's view
(``shared/run/context_index.py``), transforms and writes. The writes are bound by service
protection (``bench/e2e.py`` measures them end to end at 10k and 100k contacts; 1M would take
about seven hours at the ceiling), everything else is measured here at any size. In a fresh
process per size:

1. open this machine's index of the stored context, built from the stage on first use (the
   context is stored by ``python -m bench.scale --modes disk``, which must have run for that
   size; ``--build`` runs the disk pre-passes here first if it has not);
2. transform every staged batch of every object of the plan, batch by batch, exactly as
   ``shared.run.steps.load_batch_step`` does (routes, per-batch view, every row dropped before
   the next batch);
3. record the index build time, the transform's records per CPU-second with the views included,
   the RSS after each object and the peak (``ru_maxrss``).

Usage::

    python -m bench.scale_loads --contacts 10000 100000 1000000

Results: ``bench/results/<date>-scale-loads.json``.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.e2e import machine, org_for  # noqa: E402
from bench.scale import RUN_ID, stage_org  # noqa: E402


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(stage_root: Path) -> dict[str, Any]:
    """Index, then every staged batch through its per-batch view, in this process."""
    from shared.demo import DEFAULT_MAPPING
    from shared.mapping.loader import load_mapping
    from shared.mapping.plan import extraction_plan
    from shared.mapping.transform import compile_mapping
    from shared.rows import TargetRow
    from shared.run import context_index, context_store
    from shared.stage.keys import raw_prefix
    from shared.stage.local import LocalStage
    from tests.shared.mapping.metadata_fixture import metadata_for

    stage = LocalStage(stage_root)
    mapping = load_mapping(DEFAULT_MAPPING).effective()
    if not stage.exists(context_store.context_key(RUN_ID)):
        raise SystemExit(f"no stored context under {stage_root}: run bench.scale --modes disk")
    out: dict[str, Any] = {"baseline_rss_mib": round(_rss_mib(), 1)}
    with tempfile.TemporaryDirectory(prefix="bench-scale-loads-") as tmp:
        started, cpu = time.perf_counter(), _cpu()
        index = context_index.open_local(stage, RUN_ID, Path(tmp))
        out["index_build_s"] = round(time.perf_counter() - started, 2)
        out["index_build_cpu_s"] = round(_cpu() - cpu, 2)
        out["index_bytes"] = index.path.stat().st_size
        out["rss_after_index_mib"] = round(_current_rss_mib(), 1)
        compiled = compile_mapping(mapping, metadata_for(mapping), check=False)
        per_object: dict[str, Any] = {}
        transform_cpu = 0.0
        records = rows = 0
        for plan in extraction_plan(mapping):
            sobject = plan.object
            if sobject not in compiled.by_source:
                continue
            done = made = 0
            cpu = _cpu()
            for key in stage.list_batches(raw_prefix(RUN_ID, sobject)):
                batch = list(stage.read_batch(key))
                view = index.view(compiled.references(sobject, batch))
                for record in batch:
                    made += isinstance(compiled.transform(sobject, record, view), TargetRow)
                done += len(batch)
                del batch, view
            spent = _cpu() - cpu
            transform_cpu += spent
            records += done
            rows += made
            per_object[sobject] = {
                "records": done,
                "rows": made,
                "records_per_cpu_s": round(done / spent) if spent else None,
                "rss_after_mib": round(_current_rss_mib(), 1),
            }
    out.update(
        records=records,
        rows=rows,
        records_per_cpu_s=round(records / transform_cpu) if transform_cpu else None,
        per_object=per_object,
        peak_rss_mib=round(_rss_mib(), 1),
    )
    return out


def main() -> None:
    """Measure each size in its own process and write the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orgs", type=Path, default=Path(tempfile.gettempdir()) / "bench-orgs")
    parser.add_argument(
        "--build", action="store_true", help="store the context anew (else only if missing)"
    )
    parser.add_argument("--name", default="scale-loads")
    parser.add_argument("--child", nargs=1, metavar="STAGE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child[0]))))
        return
    results = []
    for contacts in args.contacts:
        org, info = org_for(contacts, args.seed, args.orgs)
        stage_root = stage_org(org)
        stored = stage_root / RUN_ID / "context.json"
        if args.build or not stored.exists():  # stored first, in its own process (disk mode)
            subprocess.run(
                [sys.executable, "-m", "bench.scale", "--one", str(stage_root), "disk"],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                env=dict(os.environ, PYTHONPATH=str(ROOT)),
            )
        load_before = os.getloadavg()
        proc = subprocess.run(
            [sys.executable, "-m", "bench.scale_loads", "--child", str(stage_root)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result.update(
            contacts=contacts,
            source_records=info["records"],
            load_average_before=[round(x, 2) for x in load_before],
            load_average_after=[round(x, 2) for x in os.getloadavg()],
        )
        print(json.dumps(result), flush=True)
        results.append(result)
    out = {
        "name": args.name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.scale_loads " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "results": results,
    }
    path = ROOT / "bench" / "results" / f"{dt.date.today().isoformat()}-{args.name}.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"results in {path}")


if __name__ == "__main__":
    main()
