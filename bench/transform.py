"""Benchmark: transform throughput in records per CPU-second of one core (issues 6 and 11).

1. Contacts (the target: >= 50,000 contacts per CPU-second). Synthetic contacts carry every
   field the default map reads (names, email, phones, address, icebreaker, Leadfwd picklist,
   owner, account link); the pre-passes (``build_context``) and compilation run once and are
   timed separately, as in a run. The batch is transformed ``--repeat`` times and every run is
   reported (best and median), because on a shared machine one run says more about the
   neighbours than about the code. The same records through the interpretive reference path
   (``compile_mapping(..., generated=False)``), run alternately, show what the generated field
   functions are worth under the same conditions. ``indexed`` is what a load activity does
   since the context moved to disk (``shared/run/context_index.py``): per batch of 2,000, collect
   the batch's references and read its view from the SQLite index, then transform; all counted.
2. The parent-bind memo: contacts with one account each (every bind a miss, the memo clears
   itself at its bound) and with 1,000 accounts (hits), at the default bound and unbounded:
   throughput and the memo's size when the batch ends.
3. Per object (``--objects``, on in ``--quick``/``--full``): a generated org (``--scale``
   contacts) is extracted through the Salesforce emulator, as the defect tests do, and every
   entry of the map is timed on its own staged records (repeated to at least
   ``--per-object`` transforms), with the in-memory context and, ``per_cpu_s_indexed``, with
   per-batch views from the on-disk index.

Writes bench/results/<date>-transform.json. ``--show-source ENTRY`` prints the generated field
function of one entry of the default map and exits.

Usage: .venv/bin/python -m bench.transform [--quick | --full] [--records N] [--repeat R]
       [--objects] [--scale S] [--show-source ENTRY]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.ids import org_namespace
from shared.mapping.context import ResolutionContext
from shared.mapping.memo import BIND_MEMO_LIMIT
from shared.mapping.prepare import build_context
from shared.mapping.transform import CompiledMapping, compile_mapping, generated_source
from shared.run.context_index import ContextIndex, index_of
from tests.shared.mapping.metadata_fixture import default_mapping, default_metadata

STATUSES = ["Active", "Inactive", "Replied", "Bounced", "Unsubscribed", "Do Not Contact"]
NAMESPACE = org_namespace("00D000000000001EAA")
USERS = [
    {"systemuserid": f"u{i}", "internalemailaddress": f"owner{i}@acme.example"} for i in range(20)
]
Staged = dict[str, list[dict[str, Any]]]


def _sf_id(prefix: str, n: int) -> str:
    return f"{prefix}{n:012d}AAA"


def contacts(count: int, accounts: int = 1000) -> list[dict[str, Any]]:
    """``count`` staged contacts, varied the way a real org is, linked to ``accounts`` accounts."""
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
                "AccountId": _sf_id("001", i % accounts),
                "Owner.Email": f"owner{i % 20}@acme.example",
                "Owner.IsActive": True,
                "CreatedDate": "2023-06-07T08:09:10.000+0000",
            }
        )
    return out


def _staged(count: int, accounts: int) -> Staged:
    return {
        "Account": [{"Id": _sf_id("001", i)} for i in range(accounts)],
        "Contact": contacts(count, accounts),
    }


FREEZE = os.environ.get("BENCH_NO_GC_FREEZE") is None
BATCH = 2000  # what a load activity transforms at once (extract.batch_size)


def _cpu_run(compiled: CompiledMapping, staged: Staged, ctx: ResolutionContext) -> float:
    """CPU seconds of one transform of the staged contacts (every record must become a row).

    Batch by batch, each batch's rows dropped before the next, as a load activity does.
    """
    contacts = staged["Contact"]
    rows = 0
    cpu = time.process_time()
    for start in range(0, len(contacts), BATCH):
        result = compiled.transform_batch("Contact", contacts[start : start + BATCH], ctx)
        rows += len(result.rows)
    cpu = time.process_time() - cpu
    assert rows == len(contacts)
    return cpu


def _cpu_run_indexed(compiled: CompiledMapping, staged: Staged, index: ContextIndex) -> float:
    """As :func:`_cpu_run`, but each batch asks the on-disk context for its own view first.

    What a load activity does since the context moved off the heap
    (``shared/run/context_index.py``): collect the batch's references, query the index, then
    transform against the small view. All of it is counted.
    """
    contacts = staged["Contact"]
    rows = 0
    cpu = time.process_time()
    for start in range(0, len(contacts), BATCH):
        batch = contacts[start : start + BATCH]
        view = index.view(compiled.references("Contact", batch))
        rows += len(compiled.transform_batch("Contact", batch, view).rows)
    cpu = time.process_time() - cpu
    assert rows == len(contacts)
    return cpu


def _summary(count: int, cpus: list[float]) -> dict[str, Any]:
    rates = [round(count / c) for c in cpus]
    return {
        "per_cpu_s_runs": rates,
        "per_cpu_s_best": max(rates),
        "per_cpu_s_median": round(statistics.median(rates)),
    }


def bench_contacts(count: int, repeat: int) -> dict[str, Any]:
    """The headline: contacts through the default map, generated and reference paths."""
    staged = _staged(count, 1000)
    mapping = default_mapping()
    t0 = time.perf_counter()
    ctx = build_context(staged, mapping, namespace=NAMESPACE, users=USERS)
    t1 = time.perf_counter()
    compiled = compile_mapping(mapping, default_metadata())
    t2 = time.perf_counter()
    reference = compile_mapping(mapping, default_metadata(), check=False, generated=False)
    tmp = tempfile.TemporaryDirectory()
    t3 = time.perf_counter()
    index = index_of(ctx, Path(tmp.name) / "context.sqlite")
    t4 = time.perf_counter()
    if FREEZE:
        gc.freeze()  # as a run's worker does once it opened its context (shared/run/steps.py)
    fast: list[float] = []
    slow: list[float] = []
    indexed: list[float] = []
    walls: list[float] = []
    for _ in range(repeat):
        wall = time.perf_counter()
        fast.append(_cpu_run(compiled, staged, ctx))
        walls.append(time.perf_counter() - wall)
        indexed.append(_cpu_run_indexed(compiled, staged, index))
        slow.append(_cpu_run(reference, staged, ctx))
    tmp.cleanup()
    generated = _summary(count, fast)
    return {
        "records": count,
        "repeat": repeat,
        "prepass_seconds": round(t1 - t0, 3),
        "compile_seconds": round(t2 - t1, 3),
        "transform_cpu_seconds": round(min(fast), 3),
        "contacts_per_cpu_s": generated["per_cpu_s_best"],
        "contacts_per_cpu_s_median": generated["per_cpu_s_median"],
        "contacts_per_s_wall": round(count / min(walls)),
        "generated": generated,
        "reference": _summary(count, slow),
        # As a run transforms now: per batch, the view from the on-disk context first.
        "indexed": _summary(count, indexed),
        "index_build_seconds": round(t4 - t3, 3),
    }


def bench_memo(count: int, repeat: int) -> dict[str, Any]:
    """Parent binds at the memo's bound and unbounded, with all misses and with hits."""
    mapping = default_mapping()
    out: dict[str, Any] = {"bound": BIND_MEMO_LIMIT}
    for label, accounts in (("one_account_per_contact", count), ("accounts_1000", 1000)):
        staged = _staged(count, accounts)
        ctx = build_context(staged, mapping, namespace=NAMESPACE, users=USERS)
        runs: dict[str, list[float]] = {"bounded": [], "unbounded": []}
        sizes: dict[str, dict[str, int]] = {}
        for _ in range(repeat):
            for kind, limit in (("bounded", BIND_MEMO_LIMIT), ("unbounded", 1 << 62)):
                compiled = compile_mapping(mapping, default_metadata(), check=False)
                ids = compiled.objects[0].ids
                ids.limit = limit
                runs[kind].append(_cpu_run(compiled, staged, ctx))
                sizes[kind] = {"entries": len(ids), "bytes": ids.size_bytes()}
        out[label] = {
            kind: {**_summary(count, cpus), "memo_at_end": sizes[kind]}
            for kind, cpus in runs.items()
        }
    return out


def _timed(transform: Callable[[], object], count: int, target: int) -> tuple[float, int]:
    rounds = max(1, -(-target // count))
    cpu = time.process_time()
    for _ in range(rounds):
        transform()
    return time.process_time() - cpu, rounds * count


def bench_objects(scale: int, target: int) -> dict[str, Any]:
    """Every entry of the map on the staged records of a generated org."""
    from emulators.salesforce.generate import generate_org
    from shared.mapping.propose import with_custom_fields
    from tests.shared.mapping.defects_run import extract
    from tests.shared.mapping.metadata_fixture import metadata_for
    from tests.shared.mapping.orgdata import dataverse_users, describe_fields

    with tempfile.TemporaryDirectory() as tmp:
        org = Path(tmp) / "org"
        started = time.perf_counter()
        generate_org(org, scale=scale, seed=1)
        mapping = default_mapping()
        for sobject in ("Account", "Contact", "Lead"):  # what discovery proposes for the org
            mapping = with_custom_fields(mapping, sobject, describe_fields(org, sobject))
        staged = extract(org, mapping, Path(tmp))
        users = dataverse_users(org)
        org_id = json.loads((org / "org.json").read_text(encoding="utf-8"))["org_id"]
        prepared = time.perf_counter()
    ctx = build_context(
        staged,
        mapping,
        namespace=org_namespace(org_id),
        users=users,
        fallback_owner_email=next(u["internalemailaddress"] for u in users if not u["isdisabled"]),
    )
    compiled = compile_mapping(mapping, metadata_for(mapping))
    index_dir = tempfile.TemporaryDirectory()
    index = index_of(ctx, Path(index_dir.name) / "context.sqlite")
    by_entry: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    for sobject, records in staged.items():
        for record in records:
            entry = compiled.entry_for(sobject, record)
            if entry is not None:
                by_entry.setdefault(entry.obj.name, (sobject, []))[1].append(record)
    out: dict[str, Any] = {}
    for obj in mapping.objects:
        source, records = by_entry.get(obj.name, (obj.source, []))
        if not records:
            out[obj.name] = {"source": source, "records": 0}
            continue
        results = [compiled.transform(source, r, ctx) for r in records]
        rows = sum(1 for r in results if hasattr(r, "payload"))

        def run(source: str = source, records: list[dict[str, Any]] = records) -> None:
            for record in records:
                compiled.transform(source, record, ctx)

        def run_indexed(source: str = source, records: list[dict[str, Any]] = records) -> None:
            for start in range(0, len(records), BATCH):
                batch = records[start : start + BATCH]
                view = index.view(compiled.references(source, batch))
                for record in batch:
                    compiled.transform(source, record, view)

        cpu, done = _timed(run, len(records), target)
        cpu_indexed, done_indexed = _timed(run_indexed, len(records), target)
        out[obj.name] = {
            "source": source,
            "records": len(records),
            "rows": rows,
            "rejections": len(records) - rows,
            "transformed": done,
            "per_cpu_s": round(done / cpu),
            # As a load activity does: the batch's view from the on-disk context first.
            "per_cpu_s_indexed": round(done_indexed / cpu_indexed),
        }
    index_dir.cleanup()
    return {
        "scale": scale,
        "org_seconds": round(prepared - started, 1),
        "per_object": out,
    }


def main() -> None:
    """Run the benchmark and print/save the numbers."""
    parser = argparse.ArgumentParser()
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--objects", action="store_true", help="per-object throughput")
    parser.add_argument("--scale", type=int, default=None, help="contacts of the generated org")
    parser.add_argument("--per-object", type=int, default=20_000, help="transforms per entry")
    parser.add_argument("--show-source", metavar="ENTRY", help="print generated code and exit")
    args = parser.parse_args()
    if args.show_source:
        compiled = compile_mapping(default_mapping(), default_metadata())
        (entry,) = [c for c in compiled.objects if c.obj.name == args.show_source]
        print(generated_source(entry), end="")
        return
    count = args.records or (500_000 if args.full else 100_000)
    load_before = os.getloadavg()
    out: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
    }
    out.update(bench_contacts(count, args.repeat))
    out["memo"] = bench_memo(min(count, 100_000), max(1, args.repeat // 2))
    if args.objects or args.quick or args.full:
        scale = args.scale or (10_000 if args.full else 2_000)
        out["objects"] = bench_objects(scale, args.per_object)
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=2))
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / f"{out['date']}-transform.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
