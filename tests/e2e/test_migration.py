"""A whole migration, its defects, a crash and resume, and its rollback — end to end.

Each test states a promise made to users: every phase reconciles; every planted defect ends
exactly as docs/reason-codes.md says; a run killed mid-way resumes to the same target state;
a rollback leaves the target as it was, except rows people changed since the load.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrators.local_host.command import drive, start_local_run
from shared.ids import org_namespace, target_id
from shared.stage.factory import open_stage
from tests.e2e.conftest import Pipeline, Target, differences, tables

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
RUN = "e2e"
STATE: dict[str, Any] = {}


def outcomes(target: Target, run_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """What the run did with each source record: quarantine rows and written rows' entries."""
    stage = open_stage(target.settings)
    seen: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"codes": set(), "written": False, "outcomes": set()}
    )
    for key in stage.list_keys(f"{run_id}/quarantine/"):
        for rej in json.loads(stage.get_bytes(key)):
            item = seen[(rej["source_object"], rej["source_id"])]
            item["codes"].add(rej["reason_code"])
            item["outcomes"].add(rej.get("outcome", "quarantined"))
    for key in stage.list_batches(f"{run_id}/loaded/"):
        for row in stage.read_batch(key):
            item = seen[(row["source_object"], row["source_id"])]
            item["written"] = True
            item["codes"] |= {e["reason_code"] for e in row["entries"]}
    return seen


def test_the_migration_completes_with_every_phase_reconciled(pipeline: Pipeline) -> None:
    target = pipeline.target("first")
    # A row that exists before the migration and that the migration updates: rollback must
    # give it back exactly as it was.
    org_id = json.loads((pipeline.org / "org.json").read_text())["org_id"]
    first_account = json.loads((pipeline.org / "data" / "Account.jsonl").open().readline())
    existing_id = target_id(org_namespace(org_id), "Account", first_account["Id"])
    person = httpx.post(
        target.dv.admin_url + "tokens",
        json={"systemuserid": _user_id(target, "migration.fallback")},
        verify=str(target.dv.ca_cert),
    ).json()["token"]
    created = httpx.patch(
        f"{target.dv.url}accounts({existing_id})",
        json={"name": "Already in Dynamics", "telephone1": "+1 555 0100"},
        headers={**target.dv.headers(), "Authorization": f"Bearer {person}", "If-None-Match": "*"},
        verify=str(target.dv.ca_cert),
    )
    assert created.status_code == 204, created.text
    before = target.dump()

    _, result = start_local_run(target.settings, config_file=target.config, run_id=RUN, quiet=True)
    assert result.runtime_status == "Completed", result.error
    output = result.output
    assert output["status"] == "completed"
    summary = json.loads((target.workdir / "runs" / RUN / "reports" / "summary.json").read_text())
    for phase in summary["phases"]:
        assert phase["reconciliation"]["reconciled"], phase
        for obj in phase["objects"]:
            c = obj["counts"]
            assert c["extracted"] == (
                c["written"]
                + c["written_with_fallback"]
                + c["quarantined"]
                + c["skipped_by_policy"]
            ), obj
    reports = {p.name for p in (target.workdir / "runs" / RUN / "reports").iterdir()}
    for name in (
        "sequences.json",
        "sequences.csv",
        "enrollments.csv",
        "quarantine.csv",
        "phase1-reconciliation.md",
    ):
        assert name in reports
    STATE.update(
        target=target, before=before, after=target.dump(), person=person, existing_id=existing_id
    )


def _user_id(target: Target, prefix: str) -> str:
    users = target.dump()["tables"]["systemuser"]
    for row in users:
        if str(row.get("internalemailaddress", "")).startswith(prefix):
            return str(row["systemuserid"])
    raise AssertionError(f"no Dynamics user with an address starting {prefix!r}")


def test_every_planted_defect_ends_in_its_documented_outcome(pipeline: Pipeline) -> None:
    target: Target = STATE["target"]
    seen = outcomes(target, RUN)
    # A file lands through the ContentDocumentLink that attaches it to its record: the
    # outcome of a ContentVersion defect is the outcome of its links.
    data = pipeline.org / "data"
    doc_of = {
        r["Id"]: r["ContentDocumentId"]
        for r in map(json.loads, (data / "ContentVersion.jsonl").open())
    }
    links: dict[str, list[str]] = defaultdict(list)
    for link in map(json.loads, (data / "ContentDocumentLink.jsonl").open()):
        links[link["ContentDocumentId"]].append(link["Id"])
    for version, document in doc_of.items():
        for link_id in links[document]:
            if ("ContentDocumentLink", link_id) in seen:
                seen[("ContentVersion", version)] = seen[("ContentDocumentLink", link_id)]
    defects = json.loads((pipeline.org / "defects.json").read_text())
    wrong = []
    for d in defects:
        expected = d["expected"]
        got = seen.get((d["object"], d["id"]))
        if got is None:
            wrong.append(f"{d['object']} {d['id']} ({d['defect']}): no outcome at all")
            continue
        code = expected.get("reason_code")
        if expected["outcome"] == "written":
            ok = got["written"]
        elif expected["outcome"] == "written_with_fallback":
            ok = got["written"] and code in got["codes"]
        else:
            ok = not got["written"] and code in got["codes"]
        if not ok:
            wrong.append(f"{d['object']} {d['id']} ({d['defect']}): expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_a_run_killed_mid_way_resumes_to_the_same_target_state(pipeline: Pipeline) -> None:
    target = pipeline.target("killed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION__")}
    command = [sys.executable, "-m", "shared.cli"]
    proc = subprocess.Popen(
        [*command, "run", "--config", str(target.config), "--run-id", "k1"],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    journal = target.workdir / "stage" / "k1" / "journal"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and sum(1 for _ in journal.rglob("*-rows.json")) >= 2:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.fail(f"the run ended before it could be killed: {proc.communicate()[1]!r}")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    status = json.loads((target.workdir / "stage" / "k1" / "status" / "k1.json").read_text())
    assert status["runtimeStatus"] == "Running"

    resumed = subprocess.run(
        [*command, "resume", "k1", "--workdir", str(target.workdir)],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    resumed_tables = tables(target.dump())
    uninterrupted = tables(STATE["after"])
    # The uninterrupted run's target also held one account that existed before the
    # migration (with its own creator and creation date): compare every other row.
    for dump in (resumed_tables, uninterrupted):
        dump["account"] = [r for r in dump["account"] if r["accountid"] != STATE["existing_id"]]
    assert sum(len(rows) for rows in resumed_tables.values()) > 500
    assert differences(uninterrupted, resumed_tables) == []


def test_injected_faults_lose_and_duplicate_nothing(pipeline: Pipeline) -> None:
    # 5xx answers and dropped connections while loading: retries are upserts by id.
    target = pipeline.target("faults", rate_5xx=0.05, drop_rate=0.03)
    _, result = start_local_run(target.settings, config_file=target.config, run_id="f1", quiet=True)
    assert result.runtime_status == "Completed", result.error
    assert result.output["status"] == "completed"
    counters = httpx.get(target.dv.admin_url + "counters", verify=str(target.dv.ca_cert)).json()
    assert sum(counters["injected"].values()) > 0, counters
    httpx.put(
        target.dv.admin_url + "faults",
        json={"rate_5xx": 0, "drop_rate": 0},
        verify=str(target.dv.ca_cert),
    ).raise_for_status()
    faulted, clean = tables(target.dump()), tables(STATE["after"])
    for dump in (faulted, clean):
        dump["account"] = [r for r in dump["account"] if r["accountid"] != STATE["existing_id"]]
    assert differences(clean, faulted) == []


def test_rollback_gives_back_the_target_as_it_was_except_what_people_changed() -> None:
    target: Target = STATE["target"]
    # A person edits one migrated contact after the load: rollback must keep it.
    contact = STATE["after"]["tables"]["contact"][0]
    edited = httpx.patch(
        f"{target.dv.url}contacts({contact['contactid']})",
        json={"jobtitle": "Edited in Dynamics after cutover"},
        headers={
            **target.dv.headers(),
            "Authorization": f"Bearer {STATE['person']}",
            "If-Match": "*",
        },
        verify=str(target.dv.ca_cert),
    )
    assert edited.status_code == 204, edited.text

    dry = drive(
        target.settings,
        f"{RUN}.rollback-dry-run",
        workers=4,
        start=(
            "rollback",
            {"run_id": f"{RUN}.rollback-dry-run", "target_run_id": RUN, "dry_run": True},
        ),
        quiet=True,
    )
    assert dry.output["status"] == "completed"
    assert tables(target.dump())["contact"] != [], "a dry run changed nothing"

    result = drive(
        target.settings,
        f"{RUN}.rollback",
        workers=4,
        start=("rollback", {"run_id": f"{RUN}.rollback", "target_run_id": RUN, "dry_run": False}),
        quiet=True,
    )
    assert result.runtime_status == "Completed", result.error
    assert result.output["kept"] == 1
    report = json.loads((target.workdir / "runs" / RUN / "reports" / "rollback.json").read_text())
    assert report["complete"] and report["unaccounted"] == []
    assert [k["id"] for k in report["kept"]] == [contact["contactid"]]

    after = tables(target.dump())
    kept = [r for r in after.get("contact", []) if r["contactid"] == contact["contactid"]]
    assert len(kept) == 1 and kept[0]["jobtitle"] == "Edited in Dynamics after cutover"
    after["contact"] = [r for r in after["contact"] if r["contactid"] != contact["contactid"]]
    before = tables(STATE["before"])
    assert {k: v for k, v in after.items() if v} == {k: v for k, v in before.items() if v}

    # Running the rollback again changes nothing and says so.
    again = drive(target.settings, f"{RUN}.rollback", workers=4, quiet=True)
    assert again.runtime_status == "Completed"
