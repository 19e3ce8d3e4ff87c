"""Load benchmark: throughput against the emulator's service-protection ceiling.

Starts the Dataverse emulator as a subprocess with ``--limits scaled:F --latency scaled:F``
(the realistic cost model, time compressed by F), stages N synthetic accounts, loads them with
``load_batch`` (journal and all, as a run does) and reports:

- records/s achieved, and the ceiling the execution-time limit allows for the bulk size used
  (1200 s of modelled execution per 300 s window, i.e. 4 s per second whatever F is, divided
  by the modelled cost of one record in an UpsertMultiple of ``--batch-size`` rows); the
  ratio is the figure of merit (target >= 90%);
- requests per record, 429s seen, retries;
- peak memory (max RSS) of the loader process.

Usage: ``.venv/bin/python bench/load.py [--records 30000] [--scale 150] [--batch-size 500]``.
Results go to ``bench/results/<date>-load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulators.dataverse.limits import (  # noqa: E402
    COST_BULK_BASE,
    COST_BULK_PER_RECORD,
    MAX_EXECUTION_S,
    WINDOW_S,
)
from shared.dataverse.auth import StaticToken  # noqa: E402
from shared.dataverse.client import DataverseClient  # noqa: E402
from shared.dataverse.context import LoadContext  # noqa: E402
from shared.dataverse.load import BatchRef, load_batch  # noqa: E402
from shared.ids import org_namespace, target_id  # noqa: E402
from shared.rows import Rejection, TargetRow  # noqa: E402
from shared.stage.keys import raw_batch_key  # noqa: E402
from shared.stage.local import LocalStage  # noqa: E402

NS = org_namespace("00D000000000001AAA")


def sf_id(n: int) -> str:
    """A synthetic 18-character Account id."""
    return f"001{n:012d}AAA"


def transform(record: dict[str, Any]) -> list[TargetRow | Rejection]:
    """Account → account, as the mapping would for a plain company record."""
    return [
        TargetRow(
            "account",
            "accounts",
            target_id(NS, "Account", record["Id"]),
            "Account",
            record["Id"],
            {
                "name": record["Name"],
                "revenue": record["AnnualRevenue"],
                "industrycode": record["Industry"],
                "telephone1": record["Phone"],
                "description": record["Description"],
            },
        )
    ]


def start_emulator(
    data: Path, scale: float, extra: list[str]
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Run ``./migrate emulate dataverse`` and read its JSON ready line."""
    proc = subprocess.Popen(
        [
            str(ROOT / "migrate"),
            "emulate",
            "dataverse",
            "--data",
            str(data),
            "--limits",
            f"scaled:{scale}",
            "--latency",
            f"scaled:{scale}",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise SystemExit("the emulator did not start")
    return proc, json.loads(line)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Stage, load, measure."""
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    stage = LocalStage(work / "stage")
    batches = (args.records + args.stage_batch - 1) // args.stage_batch
    for b in range(batches):
        start = b * args.stage_batch
        stage.write_batch(
            raw_batch_key("bench", "Account", b + 1),
            (
                {
                    "Id": sf_id(n),
                    "Name": f"Company {n}",
                    "AnnualRevenue": 1000.5 + n,
                    "Industry": 1 + n % 33,
                    "Phone": f"+1 555 {n:07d}",
                    "Description": "Imported from Leadfwd. " * 4,
                }
                for n in range(start, min(args.records, start + args.stage_batch))
            ),
        )
    extra = []
    if args.fault_5xx:
        extra += ["--fault-5xx", str(args.fault_5xx)]
    if args.fault_drop:
        extra += ["--fault-drop", str(args.fault_drop)]
    proc, ready = start_emulator(work / "dv", args.scale, extra)
    base = ready["url"].split("/api/data/")[0]
    try:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=64)) as http:
            client = DataverseClient(
                http,
                url=base,
                tokens=StaticToken(SecretStr(ready["token"])),
                max_concurrency=args.concurrency,
                backoff_seconds=0.2,
            )
            await client.connect()
            context = LoadContext(client, batch_size=args.batch_size)
            await context.table("account")
            await context.support("account")
            gate = asyncio.Semaphore(args.parallel_batches)
            totals: dict[str, int] = {}

            async def one(b: int) -> None:
                async with gate:
                    counts = await load_batch(
                        BatchRef("bench", 1, "accounts", "Account", b + 1),
                        stage=stage,
                        context=context,
                        transform=transform,
                    )
                for k, v in counts.items():
                    totals[k] = totals.get(k, 0) + v

            start = time.monotonic()
            await asyncio.gather(*(one(b) for b in range(batches)))
            elapsed = time.monotonic() - start
            rows = httpx.get(ready["admin_url"] + "counters", timeout=60).json()["rows"]["account"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    per_record = COST_BULK_PER_RECORD + COST_BULK_BASE / args.batch_size
    window, budget = WINDOW_S / args.scale, MAX_EXECUTION_S / args.scale
    # The most a perfect client could write in `elapsed`: one full budget per window started.
    ceiling_records = budget * math.ceil(elapsed / window) / per_record
    ceiling = ceiling_records / elapsed
    rate = totals.get("written", 0) / elapsed
    return {
        "name": "load",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "command": " ".join(sys.argv),
        "records": args.records,
        "written": totals.get("written", 0),
        "quarantined": totals.get("quarantined", 0),
        "rows_in_target": rows,
        "elapsed_s": round(elapsed, 2),
        "records_per_s": round(rate, 1),
        "ceiling_records_per_s": round(ceiling, 1),
        "fraction_of_ceiling": round(rate / ceiling, 3),
        "steady_state_ceiling_records_per_s": round((budget / window) / per_record, 1),
        "windows": math.ceil(elapsed / window),
        "requests": client.stats.requests,
        "requests_per_record": round(client.stats.requests / max(1, totals.get("written", 1)), 4),
        "throttled_429": client.stats.throttled,
        "retries": client.stats.retries,
        "peak_concurrency": client.limiter.peak_in_flight,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "scale": args.scale,
        "batch_size": args.batch_size,
    }


def main() -> None:
    """Parse arguments, run, print and store the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--scale", type=float, default=150.0)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--stage-batch", type=int, default=2000)
    parser.add_argument("--parallel-batches", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--fault-5xx", type=float, default=0.0)
    parser.add_argument("--fault-drop", type=float, default=0.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    out = args.out or ROOT / "bench" / "results" / f"{dt.date.today().isoformat()}-load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
