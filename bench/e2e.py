"""End-to-end benchmark: a generated org migrated through both emulators by the real pipeline.

For each ``--contacts N`` (every other object scales with it, as the generator does):

1. generate the org (or reuse it from ``--orgs DIR``, keyed by contacts and seed);
2. start the Salesforce emulator and the Dataverse emulator as separate processes, the
   Dataverse one with the realistic cost model and service protection time-compressed by F
   (``--limits scaled:F --latency scaled:F``);
3. prepare the target as ``./migrate demo`` does (seed the Dynamics users, propose the org's
   mapping, deploy the schema, confirm the mapping, write the config), then wait one service
   protection window so the schema's metadata writes do not count against the run;
4. run ``./migrate run --config FILE`` in its own process and measure: wall time per step from
   the run's durable history (extraction, resolution context, load and reconcile per phase),
   records written per second, the fraction of the service-protection ceiling, requests per
   record and 429s (from the Dataverse emulator's ``/admin/counters``), and the peak RSS of the
   pipeline process (``wait4``) and, separately, of each emulator (``VmHWM``).

The ceiling is the one ``bench/load.py`` explains: the execution-time budget (1200 s per 300 s
window, i.e. 4 s of modelled server time per second whatever F is) divided by the modelled cost
of one record in an UpsertMultiple of ``dataverse.batch_size`` rows. It is independent of F,
so compressing time changes the wall clock of a window, not the records/s a window allows.

Usage::

    python -m bench.e2e --contacts 2000                  # quick
    python -m bench.e2e --contacts 10000 100000          # full: one result per scale
    python -m bench.e2e --contacts 1000000 --name e2e-1m # the 1M run (hours: see BENCHMARKS)

Results go to ``bench/results/<date>-<name>.json`` (default name ``e2e``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulators.common.launch import EmulatorProcess, start_emulator  # noqa: E402
from emulators.dataverse.limits import (  # noqa: E402
    COST_BULK_BASE,
    COST_BULK_PER_RECORD,
    MAX_EXECUTION_S,
    MAX_REQUESTS,
    WINDOW_S,
)
from orchestrators.local_host import history as h  # noqa: E402
from shared.stage.local import LocalStage  # noqa: E402

RUN_ID = "bench-e2e"


def machine() -> dict[str, Any]:
    """Cores, memory, load average and Python: the state the numbers were measured in."""
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def ceiling_records_per_s(batch_size: int) -> float:
    """Records/s the execution-time limit allows for UpsertMultiple of ``batch_size`` rows."""
    per_record = COST_BULK_PER_RECORD + COST_BULK_BASE / batch_size
    return (MAX_EXECUTION_S / WINDOW_S) / per_record


# ---- org and emulators ----------------------------------------------------------------------


def org_for(contacts: int, seed: int, orgs: Path) -> tuple[Path, dict[str, Any]]:
    """The generated org of ``contacts`` contacts, made once and reused from ``orgs``."""
    out = orgs / f"contacts-{contacts}-seed-{seed}"
    done = out / "bench-generated.json"
    if done.exists():
        return out, dict(json.loads(done.read_text(encoding="utf-8")))
    from emulators.salesforce.generate import generate_org

    started = time.perf_counter()
    summary = generate_org(out, scale=contacts, seed=seed, force=True)
    info = {
        "seconds": round(time.perf_counter() - started, 1),
        "records": sum(summary.counts.values()),
        "counts": dict(sorted(summary.counts.items())),
    }
    done.write_text(json.dumps(info), encoding="utf-8")
    return out, info


def vm_hwm_mib(pid: int) -> float | None:
    """Peak resident set size of a live process (``VmHWM``), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


@contextmanager
def emulators(
    workdir: Path, org: Path, scale: float
) -> Iterator[tuple[EmulatorProcess, EmulatorProcess]]:
    """Both emulators over HTTPS; the Dataverse one with limits and latency scaled by F."""
    logs = workdir / "logs"
    with ExitStack() as stack:
        sf = stack.enter_context(
            start_emulator(
                "salesforce",
                ["--org", str(org), "--port", "0", "--tls"],
                logs / "salesforce.log",
                timeout=1800,  # the first start of a big org loads it into SQLite
            )
        )
        dv = stack.enter_context(
            start_emulator(
                "dataverse",
                [
                    "--data",
                    str(workdir / "dataverse"),
                    "--port",
                    "0",
                    "--tls",
                    "--limits",
                    f"scaled:{scale:g}",
                    "--latency",
                    f"scaled:{scale:g}",
                ],
                logs / "dataverse.log",
            )
        )
        yield sf, dv


def prepare_target(
    workdir: Path, org: Path, sf: dict[str, Any], dv: dict[str, Any], batch_size: int
) -> Path:
    """Users, config, proposed and confirmed mapping, deployed schema: as ``./migrate demo``."""
    from shared.demo import (
        DEFAULT_MAPPING,
        _deploy_schema,
        _seed_dynamics_users,
        _write_config,
        propose_org_mapping,
    )
    from shared.mapping_review.gate import confirm
    from shared.settings import load_settings

    _seed_dynamics_users(org, dv)
    config = _write_config(workdir, org, sf, dv)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    # The demo stages small batches to show progress; a benchmark uses the defaults.
    data["extract"]["batch_size"] = 2000
    data["dataverse"]["batch_size"] = batch_size
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    settings = load_settings(config)
    propose_org_mapping(settings, DEFAULT_MAPPING, settings.mapping.file)
    _deploy_schema(settings)
    confirm(settings.mapping.file, "bench")
    return config


# ---- the run --------------------------------------------------------------------------------


class RssSampler:
    """Samples a process's RSS every ``interval`` seconds (to attribute the peak to a step)."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.samples: list[tuple[float, float]] = []  # (unix time, MiB)
        self._proc = psutil.Process(pid)
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self._proc.memory_info().rss / 2**20
            except psutil.Error:
                return
            self.samples.append((time.time(), rss))
            self._stop.wait(self._interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak_between(self, start: float, end: float) -> float | None:
        """Highest sampled RSS (MiB) between two unix times."""
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return round(max(inside), 1) if inside else None


def run_pipeline(config: Path, workdir: Path) -> tuple[int, float, float, RssSampler]:
    """``./migrate run`` in its own process: exit code, wall seconds, peak RSS (MiB), samples."""
    log = (workdir / "logs" / "run.log").open("w", encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(ROOT / "migrate"), "run", "--config", str(config), "--run-id", RUN_ID],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    with RssSampler(proc.pid) as sampler:
        # wait4 reports this child's own peak RSS; ``./migrate`` execs Python in place.
        _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.close()
    return proc.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024, sampler


def _unix(stamp: str) -> float:
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC).timestamp()


def steps_from_history(stage: LocalStage) -> list[dict[str, Any]]:
    """Wall time per step of the ``migrate`` orchestrator, read from its durable history.

    Activities and sub-orchestrations are matched by their scheduling id; consecutive
    ``load_object`` sub-orchestrations form one phase's load, and the ``reconcile_phase``
    after them closes it.
    """
    events = h.HistoryStore(stage, RUN_ID, RUN_ID).load()
    spans: dict[int, dict[str, Any]] = {}
    order: list[int] = []
    for e in events:
        kind = e["EventType"]
        if kind in (h.TASK_SCHEDULED, h.SUB_ORCHESTRATION_CREATED) and e["EventId"] not in spans:
            spans[e["EventId"]] = {"name": e["Name"], "start": _unix(e["Timestamp"])}
            order.append(e["EventId"])
        elif kind in (h.TASK_COMPLETED, h.SUB_ORCHESTRATION_COMPLETED):
            span = spans[e["TaskScheduledId"]]
            span["end"] = _unix(e["Timestamp"])
            span["result"] = json.loads(e["Result"]) if e.get("Result") else None
    steps: list[dict[str, Any]] = []
    phase = 0
    for key in order:
        span = spans[key]
        name = span["name"]
        label = {
            "extract_object": "extraction",
            "load_object": f"load phase {phase + 1}",
            "reconcile_phase": f"reconcile phase {phase + 1}",
            "prepare_context": "resolution context (pre-passes)",
            "write_inventories": "inventories",
            "write_summary": "summary",
        }.get(name, name)
        if name == "reconcile_phase":
            phase += 1
        if steps and steps[-1]["step"] == label:
            last = steps[-1]
            last["start"] = min(last["start"], span["start"])
            last["end"] = max(last["end"], span.get("end", span["start"]))
            last["results"].append(span.get("result"))
        else:
            steps.append(
                {
                    "step": label,
                    "start": span["start"],
                    "end": span.get("end", span["start"]),
                    "results": [span.get("result")],
                }
            )
    return steps


def _written(results: list[Any]) -> dict[str, int]:
    total: dict[str, int] = {}
    for result in results:
        for key, value in ((result or {}).get("counts") or {}).items():
            if isinstance(value, int):
                total[key] = total.get(key, 0) + value
    return total


def measure(contacts: int, args: argparse.Namespace) -> dict[str, Any]:
    """One end-to-end run at ``contacts``; the result document for that scale."""
    org, generated = org_for(contacts, args.seed, args.orgs)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-e2e-{contacts}-", dir=args.workdir))
    load_before = [round(x, 2) for x in os.getloadavg()]
    try:
        with emulators(workdir, org, args.scale) as (sf, dv):
            started = time.perf_counter()
            config = prepare_target(workdir, org, sf.info, dv.info, args.batch_size)
            prepare_s = time.perf_counter() - started
            time.sleep(WINDOW_S / args.scale)  # a fresh service-protection window for the run
            verify = dv.info["ca_cert"]
            before = httpx.get(dv.info["admin_url"] + "counters", verify=verify).json()
            code, wall, rss, sampler = run_pipeline(config, workdir)
            after = httpx.get(dv.info["admin_url"] + "counters", verify=verify, timeout=300).json()
            emulator_rss = {"salesforce": vm_hwm_mib(sf.process.pid)}
            emulator_rss["dataverse"] = vm_hwm_mib(dv.process.pid)
        steps = steps_from_history(LocalStage(workdir / "stage"))
        return _result(
            contacts, args, generated, prepare_s, code, wall, rss, sampler, steps,
            before, after, emulator_rss, load_before, workdir,
        )  # fmt: skip
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _result(
    contacts: int,
    args: argparse.Namespace,
    generated: dict[str, Any],
    prepare_s: float,
    code: int,
    wall: float,
    rss: float,
    sampler: RssSampler,
    steps: list[dict[str, Any]],
    before: dict[str, Any],
    after: dict[str, Any],
    emulator_rss: dict[str, float | None],
    load_before: list[float],
    workdir: Path,
) -> dict[str, Any]:
    ceiling = ceiling_records_per_s(args.batch_size)
    table = []
    loaded = load_s = dataverse_s = 0.0
    for step in steps:
        seconds = step["end"] - step["start"]
        row: dict[str, Any] = {
            "step": step["step"],
            "seconds": round(seconds, 2),
            "peak_rss_mib": sampler.peak_between(step["start"], step["end"]),
        }
        if step["step"].startswith(("load phase", "reconcile phase")):
            dataverse_s += seconds
        if step["step"].startswith("load phase"):
            counts = _written(step["results"])
            written = counts.get("written", 0) + counts.get("written_with_fallback", 0)
            row |= {
                "written": written,
                "quarantined": counts.get("quarantined", 0),
                "skipped": counts.get("skipped_by_policy", 0),
                "records_per_s": round(written / seconds, 1) if seconds else None,
                "fraction_of_ceiling": round(written / seconds / ceiling, 3) if seconds else None,
            }
            loaded += written
            load_s += seconds
        if step["step"] == "extraction":
            row["extracted"] = sum(int((r or {}).get("count", 0)) for r in step["results"])
            row["records_per_s"] = round(row["extracted"] / seconds, 1) if seconds else None
        table.append(row)
    requests = after["requests"] - before["requests"]
    throttled = sum(after["throttled"].values()) - sum(before["throttled"].values())
    by_message = {
        k: v - before["by_message"].get(k, 0)
        for k, v in sorted(after["by_message"].items())
        if v - before["by_message"].get(k, 0)
    }
    execution = {
        k: round(v - before.get("execution_s", {}).get(k, 0.0), 2)
        for k, v in sorted(after.get("execution_s", {}).items())
        if v - before.get("execution_s", {}).get(k, 0.0) > 0
    }
    # How much of each service-protection budget the loads and reconciliations used, for the
    # requests this pipeline actually sends (an upper bound: metadata reads at start count).
    budget_s = MAX_EXECUTION_S / WINDOW_S * dataverse_s
    budget_requests = MAX_REQUESTS / WINDOW_S * dataverse_s
    return {
        "contacts": contacts,
        "dataverse_steps_s": round(dataverse_s, 1),
        "modelled_execution_s": execution,
        "execution_budget_use": round(sum(execution.values()) / budget_s, 3) if budget_s else None,
        "request_budget_use": round(requests / budget_requests, 3) if budget_requests else None,
        "source_records": generated["records"],
        "generation_s": generated["seconds"],
        "target_prepare_s": round(prepare_s, 1),
        "exit_code": code,
        "wall_s": round(wall, 1),
        "steps": table,
        "written": int(loaded),
        "load_s": round(load_s, 1),
        "load_records_per_s": round(loaded / load_s, 1) if load_s else None,
        "run_records_per_s": round(loaded / wall, 1),
        "ceiling_records_per_s": round(ceiling, 1),
        "load_fraction_of_ceiling": round(loaded / load_s / ceiling, 3) if load_s else None,
        "run_fraction_of_ceiling": round(loaded / wall / ceiling, 3),
        "requests": requests,
        "requests_per_record": round(requests / max(1.0, loaded), 4),
        "requests_by_message": by_message,
        "throttled_429": throttled,
        "rows_in_target": sum(after["rows"].values()),
        "pipeline_peak_rss_mib": round(rss, 1),
        "emulator_peak_rss_mib": emulator_rss,
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "workdir": str(workdir) if args.keep else None,
    }


def scale_summary(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Growth between the smallest and largest scale: time per record and peak RSS."""
    ok = sorted((r for r in results if r["exit_code"] == 0), key=lambda r: r["contacts"])
    if len(ok) < 2:
        return None
    small, big = ok[0], ok[-1]
    return {
        "from_contacts": small["contacts"],
        "to_contacts": big["contacts"],
        "records_ratio": round(big["source_records"] / small["source_records"], 2),
        "wall_ratio": round(big["wall_s"] / small["wall_s"], 2),
        "seconds_per_1000_records": {
            str(r["contacts"]): round(1000 * r["wall_s"] / r["source_records"], 3) for r in ok
        },
        "pipeline_rss_ratio": round(
            big["pipeline_peak_rss_mib"] / small["pipeline_peak_rss_mib"], 2
        ),
        "pipeline_peak_rss_mib": {str(r["contacts"]): r["pipeline_peak_rss_mib"] for r in ok},
    }


def main() -> int:
    """Parse arguments, run every scale, print and store the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, nargs="+", default=[2000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=30.0, help="F of --limits/--latency")
    parser.add_argument("--batch-size", type=int, default=500, help="dataverse.batch_size")
    parser.add_argument(
        "--orgs", type=Path, default=Path(tempfile.gettempdir()) / "bench-orgs",
        help="where generated orgs are kept and reused",
    )  # fmt: skip
    parser.add_argument("--workdir", type=Path, default=None, help="parent of the run dirs")
    parser.add_argument("--keep", action="store_true", help="keep the run directories")
    parser.add_argument("--name", default="e2e", help="results file: <date>-<name>.json")
    args = parser.parse_args()
    args.orgs.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # clean up emulators on kill
    doc: dict[str, Any] = {
        "name": args.name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.e2e " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "limits": f"scaled:{args.scale:g}",
        "batch_size": args.batch_size,
        "results": [],
    }
    out = ROOT / "bench" / "results" / f"{dt.date.today().isoformat()}-{args.name}.json"
    for contacts in args.contacts:
        print(f"e2e: {contacts} contacts", file=sys.stderr, flush=True)
        doc["results"].append(measure(contacts, args))
        doc["scale"] = scale_summary(doc["results"])
        doc["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")  # partial results
        print(json.dumps(doc["results"][-1], indent=2), flush=True)
    print(f"e2e: results in {out}", file=sys.stderr)
    return 0 if all(r["exit_code"] == 0 for r in doc["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
