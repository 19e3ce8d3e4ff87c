"""Benchmark extraction: wall time, records per second and peak memory, REST and Bulk 2.0.

For each scale an org of that many contacts is written and served by the Salesforce emulator
in its own process; each extraction (REST, then Bulk API 2.0) runs in a fresh child process
so its peak RSS is its own. Flat memory as the org grows is the claim under test: records
are streamed page by page into gzip batches, never held whole. Results go to
``bench/results/<date>-extract.json``; the summary lives in docs/BENCHMARKS.md.

    python -m bench.extract --quick          # 2,000 and 10,000 contacts
    python -m bench.extract --full           # 10,000 and 100,000 contacts
    python -m bench.extract --scales 50000   # any list
    python -m bench.extract --full --trace   # also the live Python heap after every batch
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FIELDS = [
    "Id",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "Title",
    "MailingCity",
    "AccountId",
    "Account.Name",
    "Owner.Email",
    "Description",
]


def _write_org(out: Path, scale: int) -> None:
    from emulators.salesforce.orgdir import write_org_dir

    accounts = [
        {"Id": f"001{i:012d}AAA", "Name": f"Company {i}"} for i in range(max(1, scale // 10))
    ]
    contacts = (
        {
            "Id": f"003{i:012d}AAA",
            "FirstName": f"First{i}",
            "LastName": f"Last {i} O'Neil",
            "Email": f"person{i}@example.test",
            "Phone": f"+33 1 {i:08d}",
            "Title": "Head of Procurement",
            "MailingCity": "Lyon",
            "AccountId": accounts[i % len(accounts)]["Id"],
            "Description": ("Met at the trade fair; interested in fleet pricing. " * 4)[:200],
        }
        for i in range(scale)
    )
    write_org_dir(out, {"Account": accounts, "Contact": list(contacts)})


def _child(instance: str, token: str, method: str, stage_dir: str, batch: int, trace: bool) -> None:
    """Run one extraction and print its numbers as one JSON line (runs in its own process).

    With ``trace``, tracemalloc records the live Python heap after every batch: if anything
    accumulated per record or per batch, it would grow with the org.
    """
    import tracemalloc

    from shared.mapping.plan import ObjectExtraction
    from shared.salesforce.client import connect
    from shared.salesforce.extract import extract_all
    from shared.settings import load_settings
    from shared.stage.local import LocalStage

    settings = load_settings(
        overrides={
            "salesforce": {
                "instance_url": instance,
                "auth": "access_token",
                "access_token": token,
                "bulk_threshold": 0 if method == "bulk" else 10**9,
                "bulk_poll_seconds": 0.2,
            },
            "extract": {"batch_size": batch},
        }
    )
    client = connect(settings.salesforce)
    between: list[int] = []

    def after_batch(sobject: str, done: int, total: int) -> None:
        if trace:
            between.append(tracemalloc.get_traced_memory()[0])

    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    (result,) = extract_all(
        client,
        LocalStage(Path(stage_dir)),
        settings,
        "bench",
        [ObjectExtraction("Contact", FIELDS)],
        progress=after_batch,
    )
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out: dict[str, Any] = {
        "method": method,
        "records": result.extracted,
        "status": result.status,
        "batches": result.batches,
        "seconds": round(seconds, 2),
        "records_per_second": round(result.extracted / seconds) if seconds else None,
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "api_calls": client.usage.calls,
    }
    if trace and between:
        out["heap_between_batches_mib"] = [
            round(min(between) / 2**20, 2),
            round(max(between) / 2**20, 2),
        ]
        out["heap_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 2)
    print(json.dumps(out))


def _serve(org: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [str(REPO / "migrate"), "emulate", "salesforce", "--org", str(org), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise SystemExit("the Salesforce emulator did not start")
    return proc, json.loads(line)


def _one(scale: int, work: Path, batch: int, trace: bool) -> dict[str, Any]:
    org = work / f"org-{scale}"
    started = time.perf_counter()
    _write_org(org, scale)
    setup = time.perf_counter() - started
    proc, ready = _serve(org)
    runs = []
    try:
        for method in ("rest", "bulk"):
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.extract",
                    "--child",
                    ready["instance_url"],
                    ready["access_token"],
                    method,
                    str(work / f"stage-{scale}-{method}"),
                    str(batch),
                    "1" if trace else "0",
                ],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  {scale} {method}: {runs[-1]}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"scale": scale, "org_write_seconds": round(setup, 1), "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--scales", type=int, nargs="*")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--trace", action="store_true", help="also trace the Python heap")
    parser.add_argument(
        "--child", nargs=6, metavar=("URL", "TOKEN", "METHOD", "STAGE", "BATCH", "TRACE")
    )
    args = parser.parse_args()
    if args.child:
        url, token, method, stage, batch, trace = args.child
        _child(url, token, method, stage, int(batch), trace == "1")
        return 0
    scales = args.scales or ([10_000, 100_000] if args.full else [2_000, 10_000])
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        for scale in scales:
            results.append(_one(scale, Path(tmp), args.batch, args.trace))
    doc = {
        "benchmark": "extract",
        "date": dt.date.today().isoformat(),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "batch_size": args.batch,
        "traced": args.trace,
        "fields": FIELDS,
        "results": results,
    }
    suffix = "-traced" if args.trace else ""
    out = HERE / "results" / f"{doc['date']}-extract{suffix}.json"
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
