"""Benchmark: transform throughput (records/s on one core) for contacts through the default map.

Contacts carry every field the default map reads (names, email, phones, address, icebreaker,
Leadfwd picklist, owner, account link); the pre-passes (``build_context``) and compilation run
once and are timed separately, as in a run. Target: >= 50,000 contacts/s per core, measured as
records per CPU-second of the transforming process (wall time is reported too; on a shared
machine it says more about the neighbours than about the code).
Writes bench/results/<date>-transform.json.

Usage: .venv/bin/python -m bench.transform [--quick | --full] [--records N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import time
from pathlib import Path
from typing import Any

from shared.ids import org_namespace
from shared.mapping.prepare import build_context
from shared.mapping.transform import compile_mapping
from tests.shared.mapping.metadata_fixture import default_mapping, default_metadata

STATUSES = ["Active", "Inactive", "Replied", "Bounced", "Unsubscribed", "Do Not Contact"]


def _sf_id(prefix: str, n: int) -> str:
    return f"{prefix}{n:012d}AAA"


def contacts(count: int) -> list[dict[str, Any]]:
    """``count`` staged contacts, varied the way a real org is."""
    out = []
    for i in range(count):
        out.append(
            {
                "Id": _sf_id("003", i),
                "FirstName": f"Given{i}",
                "LastName": f"Family{i}",
                "Salutation": "Ms." if i % 2 else None,
                "Email": f"person{i}@company{i % 997}.example",
                "Phone": f"+1 415 555 {i % 10000:04d}",
                "MobilePhone": None,
                "Title": "Director of Operations",
                "Department": "Operations",
                "Birthdate": "1980-01-01" if i % 5 == 0 else None,
                "Description": "Met at the conference." if i % 3 == 0 else None,
                "HasOptedOutOfEmail": False,
                "DoNotCall": False,
                "MailingStreet": f"{i} Main St",
                "MailingCity": "Springfield",
                "MailingState": "IL",
                "MailingPostalCode": "62701",
                "MailingCountry": "USA",
                "MailingLatitude": 39.78,
                "MailingLongitude": -89.65,
                "leadfwd__LinkedIn_Url__c": f"https://www.linkedin.com/in/p{i}",
                "leadfwd__Icebreaker__c": "Congrats on the new role at the company! " * 3,
                "leadfwd__Icebreaker_Source_Url__c": f"https://www.linkedin.com/posts/{i}",
                "leadfwd__Most_Recent_Sequence__c": "Q3 Outbound",
                "leadfwd__Engagement_Status__c": STATUSES[i % len(STATUSES)],
                "leadfwd__External_Id__c": f"LF-{i}",
                "leadfwd__Created_By_Sync__c": False,
                "AccountId": _sf_id("001", i % 1000),
                "Owner.Email": f"owner{i % 20}@acme.example",
                "Owner.IsActive": True,
                "CreatedDate": "2023-06-07T08:09:10.000+0000",
            }
        )
    return out


def main() -> None:
    """Run the benchmark and print/save the numbers."""
    parser = argparse.ArgumentParser()
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    parser.add_argument("--records", type=int, default=None)
    args = parser.parse_args()
    count = args.records or (500_000 if args.full else 100_000)
    staged = {
        "Account": [{"Id": _sf_id("001", i)} for i in range(1000)],
        "Contact": contacts(count),
    }
    users = [
        {"systemuserid": f"u{i}", "internalemailaddress": f"owner{i}@acme.example"}
        for i in range(20)
    ]
    mapping = default_mapping()
    t0 = time.perf_counter()
    ctx = build_context(staged, mapping, namespace=org_namespace("00D000000000001EAA"), users=users)
    t1 = time.perf_counter()
    compiled = compile_mapping(mapping, default_metadata())
    t2 = time.perf_counter()
    cpu = time.process_time()
    result = compiled.transform_batch("Contact", staged["Contact"], ctx)
    cpu = time.process_time() - cpu
    t3 = time.perf_counter()
    assert len(result.rows) == count, result.rejections[:3]
    out = {
        "date": dt.date.today().isoformat(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "records": count,
        "prepass_seconds": round(t1 - t0, 3),
        "compile_seconds": round(t2 - t1, 3),
        "transform_seconds": round(t3 - t2, 3),
        "transform_cpu_seconds": round(cpu, 3),
        "contacts_per_s_wall": round(count / (t3 - t2)),
        "contacts_per_cpu_s": round(count / cpu),
    }
    print(json.dumps(out, indent=2))
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / f"{out['date']}-transform.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
