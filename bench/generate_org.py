"""Benchmark ``generate-org``: wall time, records per second and peak memory per scale.

Each scale runs in its own process so its peak RSS is its own; flat memory across scales is
the claim under test (the generator streams every object to disk). Results go to
``bench/results/<date>-generate_org.json``; the summary lives in docs/BENCHMARKS.md.

    python -m bench.generate_org --quick          # scales 2,000 and 10,000
    python -m bench.generate_org --full           # scales 10,000, 30,000 and 100,000
    python -m bench.generate_org --scales 100000  # any list
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

HERE = Path(__file__).resolve().parent


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _one(scale: int, seed: int, out: Path) -> dict[str, object]:
    from emulators.salesforce.generate import generate_org

    started, cpu_started = time.perf_counter(), _cpu()
    summary = generate_org(out, scale=scale, seed=seed)
    seconds = time.perf_counter() - started
    records = sum(summary.counts.values())
    data_bytes = sum(p.stat().st_size for p in (out / "data").glob("*.jsonl"))
    return {
        "scale": scale,
        "seconds": round(seconds, 2),
        "records": records,
        "records_per_second": round(records / seconds),
        "data_mb": round(data_bytes / 2**20, 1),
        "file_mb": round(summary.file_bytes / 2**20, 1),
        "cpu_seconds": round(_cpu() - cpu_started, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "counts": dict(sorted(summary.counts.items())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--scales", type=int, nargs="*")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one, args.seed, args.out)))
        return 0
    scales = args.scales or ([10_000, 30_000, 100_000] if args.full else [2_000, 10_000])
    runs = []
    for scale in scales:
        with tempfile.TemporaryDirectory(prefix="bench-org-") as tmp:
            cmd = [sys.executable, "-m", "bench.generate_org", "--one", str(scale),
                   "--seed", str(args.seed), "--out", str(Path(tmp) / "org")]  # fmt: skip
            done = subprocess.run(cmd, cwd=HERE.parent, capture_output=True, text=True, check=True)
            run = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps({k: v for k, v in run.items() if k != "counts"}), flush=True)
            runs.append(run)
    result = {
        "benchmark": "generate_org",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.system()} Python {platform.python_version()}",
        "runs": runs,
    }
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / f"{dt.date.today().isoformat()}-generate_org.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
