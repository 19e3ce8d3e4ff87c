"""A run killed at any step, or fought by its services, ends in the same target state.

The promise to users: whatever happens to the machine running the migration — a power cut
during extraction, between a journal entry and its write, after a write but before its
journal entry is closed, during reconciliation, during a rollback or during a delta sync —
running the same command again (``./migrate resume``, ``rollback``, ``delta --run-id``)
finishes the job, and the target is exactly what an uninterrupted run gives: no duplicate,
nothing lost, every record accounted for once in the reports. The same holds while Dataverse
throttles hard (429), answers more slowly than the client waits, or Salesforce fails requests
during extraction.

Kills are deterministic: ``LEADFWD_TEST_CRASH_AT=<point>:<N>`` makes the process SIGKILL
itself the N-th time it reaches that point (``shared/crashpoints.py``, docs/testing.md).
Every run is a ``./migrate`` process, as a customer's would be.
"""

from __future__ import annotations

import functools
import json
import os
import ssl
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from shared.crashpoints import ENV_VAR
from shared.ids import org_namespace, target_id
from shared.salesforce.client import connect
from tests.e2e.conftest import Pipeline, Target, differences, tables

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
RUN = "c1"
DELTA = "d1"
STATE: dict[str, Any] = {}
T = TypeVar("T")

# Where each kill lands at the module's scale (14 objects of one batch each; 16 loads with
# rows; one load with second-pass links; three phases): the N-th time the point is reached,
# mid-way, with work done before it and left after it. ``kills``: how many runs in a row die
# there (the resume of a killed run is killed again). Adding a kill point is adding a line.
KILLS = [
    ("extract.batch_staged", 3, 1),
    ("load.journaled", 2, 1),
    ("load.written", 5, 2),
    ("link.written", 1, 1),
    ("reconcile.phase", 2, 1),
]
# A delta after the migration, with three contacts deleted, one changed and one created in
# Salesforce: 14 objects re-read, three rows deleted.
DELTA_KILLS = [
    ("delta.extracted", 5),
    ("delta.deleting", 2),
]
# Scenarios run this many at a time: much of their time is waiting (processes starting,
# Retry-After), not computing.
PARALLEL = 3


def migrate(*args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """``./migrate ARGS`` in its own process, killed at ``crash_at`` when given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION__")}
    env.pop(ENV_VAR, None)
    env["PYTHONPATH"] = str(REPO)
    if crash_at:
        env[ENV_VAR] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def run(target: Target, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    return migrate("run", "--config", str(target.config), "--run-id", RUN, crash_at=crash_at)


def resume(target: Target, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    return migrate("resume", RUN, "--workdir", str(target.workdir), crash_at=crash_at)


def killed(proc: subprocess.CompletedProcess[str], target: Target, instance: str) -> None:
    """The process died by SIGKILL and left its instance recorded as still running."""
    assert proc.returncode == -9, (proc.returncode, proc.stderr[-3000:])
    status = target.workdir / "stage" / instance / "status" / f"{instance}.json"
    assert json.loads(status.read_text())["runtimeStatus"] == "Running"


def finished(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]


def configure(target: Target, section: str, **values: Any) -> None:
    """Change settings of one section of the target's config file."""
    config = yaml.safe_load(target.config.read_text())
    config[section].update(values)
    target.config.write_text(yaml.safe_dump(config))


def in_parallel(scenarios: dict[str, Callable[[], T]]) -> dict[str, T]:
    """Run named scenarios :data:`PARALLEL` at a time; fail naming every one that failed."""
    with ThreadPoolExecutor(PARALLEL) as pool:
        futures = {name: pool.submit(scenario) for name, scenario in scenarios.items()}
    failures = {
        name: "".join(traceback.format_exception(error))[-3000:]
        for name, future in futures.items()
        if (error := future.exception()) is not None
    }
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    return {name: future.result() for name, future in futures.items()}


def accounting(target: Target, run_id: str) -> dict[str, Any]:
    """What the run's reports say happened to each record (request counts left out)."""
    reports = target.workdir / "runs" / run_id / "reports"
    summary = json.loads((reports / "summary.json").read_text())
    quarantine = json.loads((reports / "quarantine.json").read_text())
    return {
        "status": summary["status"],
        "not_written_by_reason": summary["not_written_by_reason"],
        "objects": {
            (phase["phase"], obj["entry"]): {
                part: {k: v for k, v in obj[part].items() if k != "requests"}
                for part in ("counts", "second_pass")
            }
            for phase in summary["phases"]
            for obj in phase["objects"]
        },
        "reconciled": [p["reconciliation"]["reconciled"] for p in summary["phases"]],
        "quarantine": sorted(json.dumps(r, sort_keys=True) for r in quarantine),
    }


def assert_like_reference(target: Target) -> None:
    """Same target rows and columns as the uninterrupted run; same report, record by record."""
    assert differences(tables(STATE["reference"]), tables(target.dump())) == []
    reference, got = STATE["accounting"], accounting(target, RUN)
    wrong = [
        f"{part} {key}: {reference[part].get(key)} != {got[part].get(key)}"
        for part in ("objects", "not_written_by_reason")
        for key in sorted(set(reference[part]) | set(got[part]), key=str)
        if reference[part].get(key) != got[part].get(key)
    ]
    only_reference = set(reference["quarantine"]) - set(got["quarantine"])
    only_got = set(got["quarantine"]) - set(reference["quarantine"])
    wrong += [f"quarantined only in the reference run: {r}" for r in sorted(only_reference)]
    wrong += [f"quarantined only in this run: {r}" for r in sorted(only_got)]
    assert wrong == []
    assert got == reference


def test_an_uninterrupted_run_gives_the_reference_target(pipeline: Pipeline) -> None:
    target = pipeline.target("reference")  # throttled (scaled:30), as every target by default
    STATE["before"] = tables(target.dump())  # every target starts as this one
    finished(run(target))
    reference = target.dump()
    assert sum(len(rows) for rows in tables(reference).values()) > 500
    counters = target.counters()
    STATE.update(
        reference=reference,
        accounting=accounting(target, RUN),
        requests=counters["requests"] - sum(counters["throttled"].values()),
    )
    assert STATE["accounting"]["status"] == "completed"
    assert all(STATE["accounting"]["reconciled"])


def _killed_and_resumed(pipeline: Pipeline, point: str, nth: int, kills: int) -> Target:
    # Unthrottled: the reference run was throttled, these are not, and both must agree;
    # heavy throttling has its own test below.
    target = pipeline.target(f"killed-{point}", limits="off")
    crash = f"{point}:{nth}"
    killed(run(target, crash), target, RUN)
    for _ in range(kills - 1):
        killed(resume(target, crash), target, RUN)
    finished(resume(target))
    assert_like_reference(target)
    return target


def test_a_run_killed_at_any_step_resumes_to_the_reference_target(pipeline: Pipeline) -> None:
    STATE["killed"] = in_parallel(
        {
            point: functools.partial(_killed_and_resumed, pipeline, point, nth, kills)
            for point, nth, kills in KILLS
        }
    )


def test_a_rollback_killed_mid_way_resumes_and_gives_back_the_target_as_it_was() -> None:
    # The run rolled back was killed twice and resumed, so its journal holds abandoned
    # attempts too; rollback must still undo exactly what the run did.
    target: Target = STATE["killed"].pop("load.written")
    workdir = str(target.workdir)
    rollback_id = f"{RUN}.rollback"
    killed(
        migrate("rollback", RUN, "--workdir", workdir, crash_at="rollback.row:300"),
        target,
        rollback_id,
    )
    halfway = tables(target.dump())
    assert differences(halfway, tables(STATE["reference"])), "killed before any row was undone"
    assert differences(halfway, STATE["before"]), "killed after every row was undone"
    finished(migrate("rollback", RUN, "--workdir", workdir))

    report = json.loads((target.workdir / "runs" / RUN / "reports" / "rollback.json").read_text())
    assert report["complete"] and report["unaccounted"] == []
    assert differences(STATE["before"], tables(target.dump())) == []


# ---- faults ---------------------------------------------------------------------------------


def test_a_429_storm_slows_the_run_but_changes_nothing(pipeline: Pipeline) -> None:
    # A twentieth of the default scaled:30 budget: 10 requests per half-second window, and at
    # least a second's pause (Retry-After) after each 429.
    target = pipeline.target("throttled", limits="scaled:600")
    finished(run(target))
    throttled = sum(target.counters()["throttled"].values())
    assert throttled >= 10, target.counters()  # scaled:30 rarely throttles a run at all
    assert_like_reference(target)


def test_replies_slower_than_the_timeout_are_retried_not_fatal(pipeline: Pipeline) -> None:
    # For half a second in every two and a half, Dataverse answers later than the client
    # waits: those requests time out and are sent again after the backoff. The server applies
    # the abandoned request anyway when its delay is over (as a real one may): a close
    # applied twice is refused the second time, yet the row is closed as it should be.
    target = pipeline.target("slow", limits="off")
    configure(target, "dataverse", timeout_seconds=0.4)
    stop = threading.Event()

    def flap() -> None:
        while not stop.wait(2.0):
            target.faults(slow_seconds=0.8)
            stop.wait(0.5)
            target.faults(slow_seconds=0.0)

    flapper = threading.Thread(target=flap, daemon=True)
    flapper.start()
    try:
        finished(run(target))
    finally:
        stop.set()
        flapper.join()
    # Timed-out requests were answered anyway, after the client had left, and sent again.
    assert target.counters()["requests"] > STATE["requests"], target.counters()
    assert_like_reference(target)


def test_salesforce_failures_during_extraction_change_nothing(pipeline: Pipeline) -> None:
    target = pipeline.target("sf-faults", limits="off")
    configure(target, "salesforce", retry_base_seconds=0.1)  # the default 1 s only adds waiting
    admin = pipeline.sf.admin_url
    verify = ssl.create_default_context(cafile=str(pipeline.sf.ca_cert))
    faults = {"rate_5xx": 0.08, "rate_drop": 0.04, "seed": 3}
    httpx.post(admin + "/faults", json=faults, verify=verify).raise_for_status()
    try:
        finished(run(target))
    finally:
        off = {"rate_5xx": 0, "rate_drop": 0}
        httpx.post(admin + "/faults", json=off, verify=verify).raise_for_status()
    state = httpx.get(admin + "/state", verify=verify).json()
    assert state["faults"]["injected_5xx"] + state["faults"]["injected_drop"] > 0, state
    assert_like_reference(target)


# ---- delta sync (last: it changes the module's Salesforce org) -------------------------------


def delta(target: Target, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    return migrate("delta", "--config", str(target.config), "--run-id", DELTA, crash_at=crash_at)


def delta_accounting(target: Target) -> dict[str, Any]:
    """What the delta's report says it read and deleted, record by record."""
    report = json.loads((target.workdir / "runs" / DELTA / "reports" / "delta.json").read_text())
    return {
        "status": report["status"],
        "read": {
            k: (v["changed"], v["deleted_in_window"]) for k, v in report["extraction"].items()
        },
        # A row the killed attempt deleted is found gone by the resumed one: deleted or
        # already gone, every row asked for is counted once.
        "deleted": {
            d["entry"]: (sorted(d["source_ids"]), d["requested"], d["deleted"] + d["already_gone"])
            for d in report["deletions"]
        },
    }


def _delta_killed_and_resumed(target: Target, point: str, nth: int) -> None:
    killed(delta(target, f"{point}:{nth}"), target, DELTA)
    finished(delta(target))
    assert differences(STATE["after_delta"], tables(target.dump())) == []
    assert delta_accounting(target) == STATE["delta_accounting"]


def test_a_delta_killed_at_a_step_resumes_to_the_same_target(pipeline: Pipeline) -> None:
    # Targets migrated by the kill test, each equal to the reference: one takes the delta
    # uninterrupted, the others are killed during it.
    reference, *others = STATE["killed"].values()
    assert len(others) >= len(DELTA_KILLS), "not enough migrated targets for every delta kill"
    sf = connect(reference.settings.salesforce).sf
    ns = org_namespace(json.loads((pipeline.org / "org.json").read_text())["org_id"])
    migrated = {r["contactid"] for r in STATE["reference"]["tables"]["contact"]}
    contacts = [
        c
        for c in sf.query("SELECT Id, AccountId FROM Contact ORDER BY Id LIMIT 20")["records"]
        if target_id(ns, "Contact", c["Id"]) in migrated and c["AccountId"]
    ]
    for gone in contacts[1:4]:
        sf.Contact.delete(gone["Id"])
    sf.Contact.update(contacts[0]["Id"], {"Title": "Changed after the migration"})
    sf.Contact.create(
        {"LastName": "Created after the migration", "AccountId": contacts[0]["AccountId"]}
    )

    finished(delta(reference))
    STATE.update(after_delta=tables(reference.dump()), delta_accounting=delta_accounting(reference))
    assert differences(tables(STATE["reference"]), STATE["after_delta"]), "the delta did nothing"
    in_parallel(
        {
            point: functools.partial(_delta_killed_and_resumed, target, point, nth)
            for (point, nth), target in zip(DELTA_KILLS, others, strict=False)
        }
    )
