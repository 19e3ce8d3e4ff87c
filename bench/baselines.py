"""Side by side, in one run, same emulator, same data: our loader against what users write instead.

One Dataverse emulator process (HTTPS, realistic cost model, limits and latency scaled by F) and
one set of N synthetic accounts, transformed once into the same payloads (``bench/load.py``'s
account rows, client-chosen ``accountid``). Each approach starts from an empty table
(``POST /admin/reset``) after one idle service-protection window, and writes the same records:

a. **ours** — ``load_batch`` exactly as a run does (journal, UpsertMultiple of ``--batch-size``,
   adaptive concurrency), all N records;
b. **one request per record** — what a hand-written script does: ``PATCH accounts(<id>)``
   (an upsert by primary key, so a retry never duplicates) per record, retrying 429 and 5xx
   after ``Retry-After`` (1 s when absent), at concurrency 1 and 4;
c. **``$batch`` of 10, 10 in parallel** — Azure Data Factory's documented defaults for its
   Dynamics/Dataverse sink ("The default value of the sink writeBatchSize and the copy activity
   parallelCopies for the Dynamics sink are both 10. Therefore, 100 records are submitted to
   Dynamics concurrently." — MicrosoftDocs/azure-docs,
   articles/data-factory/connector-dynamics-crm-office-365.md). ADF sends ExecuteMultiple over
   the Organization service; the Web API equivalent is a ``$batch`` of 10 PATCHes without a
   change set (each part independent, as ExecuteMultiple with ContinueOnError);
d. **Microsoft's official Python SDK** (``PowerPlatform-Dataverse-Client``), multi-record
   ``client.records.create(table, [...])`` (CreateMultiple) in chunks of ``--batch-size``,
   single-threaded, retrying on the SDK's ``HttpError`` with ``is_transient`` after its
   ``retry_after``. The SDK is never a project dependency: it runs from a throw-away venv
   (``--sdk-python``, default ``/tmp/sdk-venv/bin/python``; create it with
   ``python3.11 -m venv /tmp/sdk-venv && /tmp/sdk-venv/bin/pip install
   powerplatform-dataverse-client==1.1.0``), trusting the emulator's test CA through
   ``REQUESTS_CA_BUNDLE`` and given a ``TokenCredential`` that returns the emulator's token.
   When that interpreter is missing or the SDK fails to import, the result records why.

The one-request-per-record baselines are bound by the 6,000 requests per 300 s limit
(20 records/s whatever F): writing all N at that pace takes hours at useful N, so every baseline
stops after ``--baseline-seconds`` (several windows) and its rate is measured on the records it
wrote; the time for all N is extrapolated and labelled so. Ours always writes all N.

Usage::

    python -m bench.baselines --records 10000 --scale 60 --baseline-seconds 20   # quick
    python -m bench.baselines --records 60000 --scale 30 --baseline-seconds 60   # full

Results go to ``bench/results/<date>-baselines.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.e2e import machine  # noqa: E402
from bench.load import sf_id, transform  # noqa: E402
from emulators.common.launch import EmulatorProcess, start_emulator  # noqa: E402
from emulators.dataverse.limits import (  # noqa: E402
    COST_BULK_BASE,
    COST_BULK_PER_RECORD,
    COST_SINGLE_WRITE,
    MAX_EXECUTION_S,
    MAX_REQUESTS,
    WINDOW_S,
)
from shared.dataverse.auth import StaticToken  # noqa: E402
from shared.dataverse.client import DataverseClient  # noqa: E402
from shared.dataverse.context import LoadContext  # noqa: E402
from shared.dataverse.load import BatchRef, load_batch  # noqa: E402
from shared.rows import TargetRow  # noqa: E402
from shared.stage.keys import raw_batch_key  # noqa: E402
from shared.stage.local import LocalStage  # noqa: E402

STAGE_BATCH = 2000
BUDGET_PER_S = MAX_EXECUTION_S / WINDOW_S  # 4 s of modelled execution per second, any F
REQUESTS_PER_S = MAX_REQUESTS / WINDOW_S  # 20 requests per second, any F


def source_record(n: int) -> dict[str, Any]:
    """The n-th synthetic Account, as staged (same as ``bench/load.py``)."""
    return {
        "Id": sf_id(n),
        "Name": f"Company {n}",
        "AnnualRevenue": 1000.5 + n,
        "Industry": 1 + n % 33,
        "Phone": f"+1 555 {n:07d}",
        "Description": "Imported from Leadfwd. " * 4,
    }


def payloads(records: int) -> list[tuple[str, dict[str, Any]]]:
    """``(accountid, columns)`` for every record: the transform's output, computed once."""
    out = []
    for n in range(records):
        (row,) = transform(source_record(n))
        assert isinstance(row, TargetRow)
        out.append((str(row.id), dict(row.payload)))
    return out


def ceilings(batch_size: int) -> dict[str, float]:
    """Records/s the service-protection limits allow each way of writing, for the cost model."""
    bulk = BUDGET_PER_S / (COST_BULK_PER_RECORD + COST_BULK_BASE / batch_size)
    single = min(REQUESTS_PER_S, BUDGET_PER_S / COST_SINGLE_WRITE)
    # A $batch counts as one request and costs its parts (docs/emulators/dataverse.md).
    batch10 = min(REQUESTS_PER_S * 10, BUDGET_PER_S / COST_SINGLE_WRITE)
    return {"bulk": bulk, "one_per_record": single, "batch_of_10": batch10}


# ---- the emulator ---------------------------------------------------------------------------


class Emulator:
    """The one Dataverse emulator every approach writes to, reset between them."""

    def __init__(self, proc: EmulatorProcess, scale: float) -> None:
        self.proc = proc
        self.info = proc.info
        self.base = str(proc.info["url"]).split("/api/data/")[0]
        self.api = str(proc.info["url"]).rstrip("/")
        self.ca = str(proc.info["ca_cert"])
        self.token = str(proc.info["token"])
        self.window = WINDOW_S / scale

    def admin(self, method: str, path: str) -> dict[str, Any]:
        response = httpx.request(method, self.info["admin_url"] + path, verify=self.ca, timeout=300)
        response.raise_for_status()
        return dict(response.json()) if response.content else {}

    def fresh(self) -> dict[str, Any]:
        """Empty the tables, let one window pass, return the counters to diff against."""
        self.admin("POST", "reset")
        time.sleep(self.window + 0.5)
        return self.admin("GET", "counters")

    def rows(self) -> int:
        return int(self.admin("GET", "counters")["rows"].get("account", 0))


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    throttled = sum(after["throttled"].values()) - sum(before["throttled"].values())
    return {"requests": after["requests"] - before["requests"], "throttled_429": throttled}


# ---- a. ours ----------------------------------------------------------------------------------


async def ours(emu: Emulator, records: int, args: argparse.Namespace) -> dict[str, Any]:
    """``load_batch`` over the staged batches, as ``bench/load.py`` does."""
    work = Path(tempfile.mkdtemp(prefix="bench-baselines-"))
    stage = LocalStage(work / "stage")
    batches = math.ceil(records / STAGE_BATCH)
    for b in range(batches):
        start = b * STAGE_BATCH
        stage.write_batch(
            raw_batch_key("bench", "Account", b + 1),
            (source_record(n) for n in range(start, min(records, start + STAGE_BATCH))),
        )
    async with httpx.AsyncClient(
        timeout=60, verify=emu.ca, limits=httpx.Limits(max_connections=64)
    ) as http:
        client = DataverseClient(
            http,
            url=emu.base,
            tokens=StaticToken(SecretStr(emu.token)),
            max_concurrency=16,
            backoff_seconds=0.2,
        )
        await client.connect()
        context = LoadContext(client, batch_size=args.batch_size)
        await context.table("account")
        await context.support("account")
        gate = asyncio.Semaphore(4)
        written = 0

        async def one(b: int) -> None:
            nonlocal written
            async with gate:
                counts = await load_batch(
                    BatchRef("bench", 1, "accounts", "Account", b + 1),
                    stage=stage,
                    context=context,
                    transform=transform,
                )
            written += counts.get("written", 0)

        started = time.monotonic()
        await asyncio.gather(*(one(b) for b in range(batches)))
        elapsed = time.monotonic() - started
    return {"written": written, "elapsed_s": elapsed, "complete": True}


# ---- b. one request per record ---------------------------------------------------------------


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


async def one_per_record(
    emu: Emulator, data: list[tuple[str, dict[str, Any]]], concurrency: int, seconds: float
) -> dict[str, Any]:
    """PATCH per record with ``concurrency`` workers; retry 429/5xx after Retry-After."""
    headers = {"Authorization": f"Bearer {emu.token}", "Content-Type": "application/json"}
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for item in data:
        queue.put_nowait(item)
    written = 0
    started = time.monotonic()
    deadline = started + seconds
    async with httpx.AsyncClient(
        base_url=emu.api + "/", headers=headers, verify=emu.ca, timeout=60
    ) as http:

        async def worker() -> None:
            nonlocal written
            while time.monotonic() < deadline and not queue.empty():
                target, payload = queue.get_nowait()
                while True:
                    try:
                        response = await http.patch(f"accounts({target})", json=payload)
                    except httpx.TransportError:
                        await asyncio.sleep(1)
                        continue
                    if response.status_code in (429, 500, 502, 503, 504):
                        await asyncio.sleep(_retry_after(response))
                        continue
                    response.raise_for_status()
                    written += 1
                    break

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {
        "written": written,
        "elapsed_s": time.monotonic() - started,
        "complete": written == len(data),
    }


# ---- c. $batch of 10, 10 in parallel (Azure Data Factory's defaults) ---------------------------


def _batch_body(boundary: str, api_path: str, items: list[tuple[str, dict[str, Any]]]) -> str:
    parts = []
    for target, payload in items:
        parts.append(
            f"--{boundary}\r\nContent-Type: application/http\r\n"
            "Content-Transfer-Encoding: binary\r\n\r\n"
            f"PATCH {api_path}/accounts({target}) HTTP/1.1\r\n"
            "Content-Type: application/json\r\n\r\n"
            f"{json.dumps(payload)}\r\n"
        )
    return "".join(parts) + f"--{boundary}--\r\n"


def _failed_parts(text: str) -> int:
    """Parts of a ``$batch`` response answered 429 or 5xx (to be sent again)."""
    return sum(
        1
        for line in text.splitlines()
        if line.startswith("HTTP/1.1 ") and line.split()[1] in ("429", "500", "502", "503", "504")
    )


async def batch_of_ten(
    emu: Emulator, data: list[tuple[str, dict[str, Any]]], parallel: int, seconds: float
) -> dict[str, Any]:
    """``$batch`` requests of 10 PATCH parts, ``parallel`` at a time; retry refused batches."""
    headers = {"Authorization": f"Bearer {emu.token}"}
    api_path = "/" + emu.api.split("/", 3)[3]
    chunks = [data[i : i + 10] for i in range(0, len(data), 10)]
    queue: asyncio.Queue[list[tuple[str, dict[str, Any]]]] = asyncio.Queue()
    for chunk in chunks:
        queue.put_nowait(chunk)
    written = 0
    started = time.monotonic()
    deadline = started + seconds
    async with httpx.AsyncClient(headers=headers, verify=emu.ca, timeout=120) as http:

        async def worker() -> None:
            nonlocal written
            while time.monotonic() < deadline and not queue.empty():
                chunk = queue.get_nowait()
                while True:
                    boundary = f"batch_{uuid.uuid4().hex}"
                    try:
                        response = await http.post(
                            emu.api + "/$batch",
                            content=_batch_body(boundary, api_path, chunk),
                            headers={
                                "Content-Type": f"multipart/mixed; boundary={boundary}",
                                "Prefer": "odata.continue-on-error",
                            },
                        )
                    except httpx.TransportError:
                        await asyncio.sleep(1)
                        continue
                    if response.status_code in (429, 500, 502, 503, 504):
                        await asyncio.sleep(_retry_after(response))
                        continue
                    response.raise_for_status()
                    if _failed_parts(response.text):
                        # Parts are independent upserts: resending the whole chunk is safe.
                        await asyncio.sleep(1)
                        continue
                    written += len(chunk)
                    break

        await asyncio.gather(*(worker() for _ in range(parallel)))
    return {
        "written": written,
        "elapsed_s": time.monotonic() - started,
        "complete": written == len(data),
    }


# ---- d. Microsoft's Python SDK, in its own venv -----------------------------------------------

SDK_SCRIPT = r"""
import json, sys, time
from azure.core.credentials import AccessToken, TokenCredential
from PowerPlatform.Dataverse.client import DataverseClient
from PowerPlatform.Dataverse.core.errors import HttpError

base, token, data_file, chunk, seconds = sys.argv[1:6]
chunk, seconds = int(chunk), float(seconds)

class EmulatorToken(TokenCredential):
    def get_token(self, *scopes, **kwargs):
        return AccessToken(token, int(time.time()) + 3600)

rows = [dict(r[1], accountid=r[0]) for r in map(json.loads, open(data_file, encoding="utf-8"))]
client = DataverseClient(base, EmulatorToken())
written, retries, started = 0, 0, time.monotonic()
for i in range(0, len(rows), chunk):
    if time.monotonic() - started >= seconds:
        break
    part = rows[i : i + chunk]
    while True:
        try:
            written += len(client.records.create("account", part))
            break
        except HttpError as exc:
            if not exc.is_transient:
                raise
            retries += 1
            time.sleep(float(getattr(exc, "retry_after", None) or 1))
print(json.dumps({"written": written, "elapsed_s": time.monotonic() - started,
                  "complete": written == len(rows), "sdk_retries": retries}))
"""


def sdk_version(python: Path) -> str | None:
    """The installed SDK's version in that interpreter, or None."""
    if not python.exists():
        return None
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, PowerPlatform.Dataverse.client; "
            "print(m.version('PowerPlatform-Dataverse-Client'))",
        ],
        capture_output=True,
        text=True,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def official_sdk(
    emu: Emulator, data: list[tuple[str, dict[str, Any]]], args: argparse.Namespace
) -> dict[str, Any]:
    """Run the SDK's CreateMultiple in its own venv; the reason instead when it cannot run."""
    python = Path(args.sdk_python)
    version = sdk_version(python)
    if version is None:
        return {
            "skipped": (
                f"{python} has no importable PowerPlatform-Dataverse-Client; create the venv "
                "as the module docstring says"
            )
        }
    with tempfile.TemporaryDirectory(prefix="bench-sdk-") as tmp:
        data_file = Path(tmp) / "rows.jsonl"
        with data_file.open("w", encoding="utf-8") as out:
            for item in data:
                out.write(json.dumps(item) + "\n")
        script = Path(tmp) / "sdk_create_multiple.py"
        script.write_text(SDK_SCRIPT, encoding="utf-8")
        env = dict(os.environ, REQUESTS_CA_BUNDLE=emu.ca)
        done = subprocess.run(
            [
                str(python),
                str(script),
                emu.base,
                emu.token,
                str(data_file),
                str(args.batch_size),
                str(args.baseline_seconds),
            ],
            capture_output=True,
            text=True,
            env=env,
        )
    if done.returncode != 0:
        return {"skipped": f"SDK {version} failed: {done.stderr.strip()[-1500:]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["sdk_version"] = version
    return result


# ---- the run ----------------------------------------------------------------------------------


def _summarise(
    name: str,
    result: dict[str, Any],
    counters: dict[str, int],
    rows: int,
    records: int,
    ceiling: float,
    bulk: float,
    window: float,
) -> dict[str, Any]:
    if "skipped" in result:
        return {"approach": name, **result}
    elapsed = result["elapsed_s"]
    rate = result["written"] / elapsed if elapsed else 0.0
    # Strict: a full budget for every window started, which favours short runs.
    windows = max(1, math.ceil(elapsed / window))
    strict = ceiling * window * windows / elapsed if elapsed else ceiling
    return {
        "approach": name,
        "written": result["written"],
        "rows_in_target": rows,
        "complete": result["complete"],
        "elapsed_s": round(result["elapsed_s"], 2),
        "records_per_s": round(rate, 1),
        "time_for_all_s": round(records / rate, 1) if rate else None,
        "time_for_all_extrapolated": not result["complete"],
        "own_ceiling_records_per_s": round(ceiling, 1),
        "fraction_of_own_ceiling": round(rate / ceiling, 3),
        "windows": windows,
        "fraction_of_own_strict_ceiling": round(rate / strict, 3),
        "fraction_of_bulk_ceiling": round(rate / bulk, 3),
        "requests": counters["requests"],
        "requests_per_record": round(counters["requests"] / max(1, result["written"]), 4),
        "throttled_429": counters["throttled_429"],
        **{k: v for k, v in result.items() if k in ("sdk_version", "sdk_retries")},
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every approach in turn against one emulator; the result document."""
    data = payloads(args.records)
    limits = ceilings(args.batch_size)
    work = Path(tempfile.mkdtemp(prefix="bench-baselines-dv-"))
    load_before = [round(x, 2) for x in os.getloadavg()]
    results: list[dict[str, Any]] = []
    with start_emulator(
        "dataverse",
        [
            "--data", str(work / "dv"), "--port", "0", "--tls",
            "--limits", f"scaled:{args.scale:g}", "--latency", f"scaled:{args.scale:g}",
        ],
        work / "dataverse.log",
    ) as proc:  # fmt: skip
        emu = Emulator(proc, args.scale)
        plan: list[tuple[str, float, Any]] = [
            ("ours (load_batch, UpsertMultiple)", limits["bulk"], None),
            *[
                (f"one request per record, concurrency {c}", limits["one_per_record"], c)
                for c in args.per_record_concurrency
            ],
            ("$batch of 10, 10 in parallel (ADF defaults)", limits["batch_of_10"], "adf"),
            ("official Python SDK, CreateMultiple", limits["bulk"], "sdk"),
        ]
        for name, ceiling, how in plan:
            print(f"baselines: {name}", file=sys.stderr, flush=True)
            before = emu.fresh()
            if how is None:
                result = asyncio.run(ours(emu, args.records, args))
            elif how == "adf":
                result = asyncio.run(batch_of_ten(emu, data, 10, args.baseline_seconds))
            elif how == "sdk":
                result = official_sdk(emu, data, args)
            else:
                result = asyncio.run(one_per_record(emu, data, how, args.baseline_seconds))
            after = emu.admin("GET", "counters")
            results.append(
                _summarise(
                    name, result, _diff(before, after), emu.rows(), args.records, ceiling,
                    limits["bulk"], emu.window,
                )
            )  # fmt: skip
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    ours_rate = results[0]["records_per_s"]
    for r in results:
        if r.get("records_per_s"):
            r["ours_is_x_times_faster"] = round(ours_rate / r["records_per_s"], 1)
    per_record = [r for r in results if r["approach"].startswith("one request per record")]
    best_single = max((r["records_per_s"] for r in per_record), default=0.0)
    return {
        "name": "baselines",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.baselines " + " ".join(sys.argv[1:]),
        "machine": machine() | {"load_average_before": load_before},
        "limits": f"scaled:{args.scale:g}",
        "records": args.records,
        "batch_size": args.batch_size,
        "baseline_seconds": args.baseline_seconds,
        "ceilings_records_per_s": {k: round(v, 1) for k, v in limits.items()},
        "ours_vs_best_one_per_record": round(ours_rate / best_single, 1) if best_single else None,
        "results": results,
    }


def main() -> int:
    """Parse arguments, run, print and store the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=60.0, help="F of --limits/--latency")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    parser.add_argument("--per-record-concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument(
        "--sdk-python", default=str(Path(tempfile.gettempdir()) / "sdk-venv" / "bin" / "python")
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    doc = run(args)
    doc["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(doc, indent=2))
    out = args.out or ROOT / "bench" / "results" / f"{dt.date.today().isoformat()}-baselines.json"
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
