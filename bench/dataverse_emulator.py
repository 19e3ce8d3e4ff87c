"""Benchmark: records/s through UpsertMultiple against the Dataverse emulator.

Limits and latency off, one client, batches of 1000 contacts keyed by client-chosen primary
keys (half creates, then the same ids again as updates).
Writes bench/results/<date>-dataverse-emulator.json.

Usage: .venv/bin/python bench/dataverse_emulator.py [--records N] [--batch N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from emulators.dataverse.testing import run_dataverse


def main() -> None:
    """Run the benchmark and print/save the numbers."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    ids = [str(uuid.uuid4()) for _ in range(args.records)]
    results = {}
    with tempfile.TemporaryDirectory() as tmp, run_dataverse(Path(tmp)) as dv:
        client = httpx.Client(base_url=dv.url, headers=dv.headers(), timeout=120)
        for phase in ("create", "update"):
            start = time.perf_counter()
            for i in range(0, len(ids), args.batch):
                targets = [
                    {
                        "@odata.type": "Microsoft.Dynamics.CRM.contact",
                        "@odata.id": f"contacts({rid})",
                        "lastname": f"L{i + n}-{phase}",
                        "firstname": "Bench",
                        "emailaddress1": f"b{i + n}@x.com",
                        "telephone1": "555-0100",
                        "jobtitle": "Engineer",
                    }
                    for n, rid in enumerate(ids[i : i + args.batch])
                ]
                r = client.post(
                    "contacts/Microsoft.Dynamics.CRM.UpsertMultiple", json={"Targets": targets}
                )
                r.raise_for_status()
            elapsed = time.perf_counter() - start
            results[phase] = {
                "records": len(ids),
                "seconds": round(elapsed, 2),
                "records_per_s": round(len(ids) / elapsed),
            }
    out = {
        "date": dt.date.today().isoformat(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "batch": args.batch,
        "results": results,
    }
    print(json.dumps(out, indent=2))
    path = Path(__file__).parent / "results" / f"{out['date']}-dataverse-emulator.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
