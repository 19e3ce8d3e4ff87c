"""Benchmark the Salesforce emulator: org load, REST query and Bulk API 2.0 extraction rows/s.

For each scale (number of contacts, plus one account per 10 contacts), an org directory is
written with ``write_org_dir``, served over HTTPS in a background thread, and read back with
simple-salesforce exactly as extraction does: ``query_all_iter`` (2,000-record pages) and
``bulk2.Contact.query`` (50,000-row CSV pages). Results go to
``bench/results/<date>-salesforce_emulator.json``; the summary is in docs/BENCHMARKS.md.

    python -m bench.salesforce_emulator --quick     # 10,000 contacts
    python -m bench.salesforce_emulator --full      # 10,000 and 100,000 contacts
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from emulators.salesforce.app import EmulatorOptions, SalesforceEmulator
from emulators.salesforce.testing import run_salesforce, write_org_dir
from shared.ids import to_18

HERE = Path(__file__).resolve().parent
SOQL = (
    "SELECT Id, FirstName, LastName, Email, Title, Phone, AccountId, Account.Name, OwnerId, "
    "HasOptedOutOfEmail, leadfwd__Engagement_Status__c, SystemModstamp FROM Contact"
)


def _org(path: Path, contacts: int) -> Path:
    accounts = [
        {"Id": to_18(f"001000000{i:06d}"), "Name": f"Account {i}", "Industry": "Technology"}
        for i in range(max(1, contacts // 10))
    ]
    people = [
        {
            "Id": to_18(f"003000000{i:06d}"), "FirstName": f"First{i}", "LastName": f"Last{i}",
            "Email": f"person{i}@example.com", "Title": "Engineer", "Phone": "+1 555 0100",
            "AccountId": accounts[i % len(accounts)]["Id"], "HasOptedOutOfEmail": i % 7 == 0,
            "leadfwd__Engagement_Status__c": "Active",
            "LastModifiedDate": "2024-02-01T00:00:00.000+0000",
        }
        for i in range(contacts)
    ]  # fmt: skip
    return write_org_dir(path, {"Account": accounts, "Contact": people})


def _one(contacts: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        org = _org(Path(tmp) / "org", contacts)
        started = time.perf_counter()
        SalesforceEmulator(org, EmulatorOptions()).close()
        load_s = time.perf_counter() - started
        with run_salesforce(org, tls=True) as ep:
            sf = ep.client()
            started = time.perf_counter()
            rest_rows = sum(1 for _ in sf.query_all_iter(SOQL))
            rest_s = time.perf_counter() - started
            started = time.perf_counter()
            bulk_rows = 0
            for page in sf.bulk2.Contact.query(SOQL, max_records=50_000, wait=0):
                bulk_rows += page.count("\n") - 1
            bulk_s = time.perf_counter() - started
    assert rest_rows == bulk_rows == contacts, (rest_rows, bulk_rows, contacts)
    return {
        "contacts": contacts,
        "load_seconds": round(load_s, 2),
        "rest_query": {"rows": rest_rows, "seconds": round(rest_s, 2),
                       "rows_per_s": round(rest_rows / rest_s)},
        "bulk2_query": {"rows": bulk_rows, "seconds": round(bulk_s, 2),
                        "rows_per_s": round(bulk_rows / bulk_s)},
    }  # fmt: skip


def main() -> None:
    """Run the scales and print/save the numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--scales", type=int, nargs="*")
    args = parser.parse_args()
    scales = args.scales or ([10_000, 100_000] if args.full else [10_000])
    results = [_one(n) for n in scales]
    out = {
        "benchmark": "salesforce_emulator",
        "date": dt.date.today().isoformat(),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "soql": SOQL,
        "results": results,
    }
    print(json.dumps(out, indent=2))
    target = HERE / "results" / f"{out['date']}-salesforce_emulator.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
