"""Delta sync end to end: changes, creations and deletions in Salesforce after a migration
reach Dynamics, and a delta is undone exactly by its rollback.

Promises tested: a changed record is updated in place (same deterministic id); a record
created after the migration is created, linked to its migrated parent; a record deleted in
Salesforce is deleted in Dynamics (with what Dynamics would cascade); a delta with nothing
changed changes nothing; the sync state moves forward only when a delta completes, and back
when it is rolled back; migrate + delta + rollback of the delta gives back the post-migration
target exactly.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from orchestrators.local_host.command import drive, start_local_run
from shared.delta.state import load_state
from shared.ids import org_namespace, target_id
from shared.salesforce.client import SalesforceClient, connect
from shared.stage.factory import open_stage
from tests.e2e.conftest import Pipeline, Target

pytestmark = pytest.mark.slow
STATE: dict[str, Any] = {}


def tables(dump: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in dump["tables"].items() if k != "systemuser" and v}


def rows_by_id(dump: dict[str, Any], table: str) -> dict[str, dict[str, Any]]:
    return {r[f"{table}id"]: r for r in dump["tables"].get(table, [])}


def run_delta(target: Target, run_id: str, **params: Any) -> dict[str, Any]:
    result = drive(
        target.settings,
        run_id,
        workers=4,
        start=("delta", {"run_id": run_id, **params}),
        quiet=True,
    )
    assert result.runtime_status == "Completed", result.error
    output: dict[str, Any] = result.output
    return output


def source(target: Target) -> SalesforceClient:
    return connect(target.settings.salesforce)


def test_a_migration_starts_the_sync_chain(pipeline: Pipeline) -> None:
    target = pipeline.target("delta")
    _, result = start_local_run(target.settings, config_file=target.config, run_id="m1", quiet=True)
    assert result.runtime_status == "Completed", result.error
    assert result.output["status"] == "completed"
    state = load_state(open_stage(target.settings))
    assert state is not None and state.last_run == "m1" and state.runs == ["m1"]
    assert state.watermarks.get("Contact"), state.watermarks
    org_id = json.loads((pipeline.org / "org.json").read_text())["org_id"]
    STATE.update(
        target=target, namespace=org_namespace(org_id), migrated=target.dump(), sf=pipeline.sf
    )


def test_a_delta_with_no_change_changes_nothing() -> None:
    target: Target = STATE["target"]
    output = run_delta(target, "d0")
    assert output["status"] == "completed"
    report = json.loads((target.workdir / "runs" / "d0" / "reports" / "delta.json").read_text())
    assert all(d["deleted"] == 0 for d in report["deletions"])
    assert tables(target.dump()) == tables(STATE["migrated"])
    state = load_state(open_stage(target.settings))
    assert state is not None and state.last_run == "d0" and state.runs == ["m1", "d0"]


def test_changes_creations_and_deletions_reach_dynamics() -> None:
    target: Target = STATE["target"]
    ns = STATE["namespace"]
    sf = source(target)
    contacts = sf.sf.query("SELECT Id, AccountId, Title FROM Contact ORDER BY Id LIMIT 40")[
        "records"
    ]
    migrated = rows_by_id(STATE["migrated"], "contact")
    in_target = [c for c in contacts if target_id(ns, "Contact", c["Id"]) in migrated]
    changed, deleted = in_target[0], in_target[1]
    parent = next(c["AccountId"] for c in in_target if c["AccountId"])
    sf.sf.Contact.update(changed["Id"], {"Title": "Head of Delta Sync"})
    sf.sf.Contact.delete(deleted["Id"])
    new = sf.sf.Contact.create(
        {
            "FirstName": "Newly",
            "LastName": "Created",
            "Email": "newly.created@example.com",
            "AccountId": parent,
        }
    )

    output = run_delta(target, "d1")
    assert output["status"] == "completed", output
    after = target.dump()
    contacts_after = rows_by_id(after, "contact")
    changed_id = target_id(ns, "Contact", changed["Id"])
    assert contacts_after[changed_id]["jobtitle"] == "Head of Delta Sync"
    assert target_id(ns, "Contact", deleted["Id"]) not in contacts_after
    created = contacts_after[target_id(ns, "Contact", new["id"])]
    assert created["lastname"] == "Created"
    assert created["parentcustomerid"] == target_id(ns, "Account", parent)

    report = json.loads((target.workdir / "runs" / "d1" / "reports" / "delta.json").read_text())
    # Two changed, plus the rows re-read in the overlap window (upserted unchanged).
    assert report["extraction"]["Contact"]["changed"] >= 2
    assert report["extraction"]["Contact"]["deleted_in_window"] == 1
    contact_deletions = [d for d in report["deletions"] if d["entry"] == "contact"]
    assert contact_deletions[0]["deleted"] == 1
    assert (target.workdir / "runs" / "d1" / "reports" / "delta.md").exists()
    # Every other table is as the migration left it, except rows Dynamics cascades.
    STATE.update(
        before_d1=STATE["migrated"],
        changed=changed,
        deleted=deleted,
        new=new,
        other=in_target[3],
        other_purged=in_target[4]["Id"],
    )


def test_rolling_back_a_delta_gives_back_the_target_before_it() -> None:
    target: Target = STATE["target"]
    result = drive(
        target.settings,
        "d1.rollback",
        workers=4,
        start=("rollback", {"run_id": "d1.rollback", "target_run_id": "d1", "dry_run": False}),
        quiet=True,
    )
    assert result.runtime_status == "Completed", result.error
    report = json.loads((target.workdir / "runs" / "d1" / "reports" / "rollback.json").read_text())
    assert report["complete"] and report["unaccounted"] == [], report
    assert report["kept"] == []
    # Exactly as before: the deleted contact, the activities and notes deleted with it, their
    # party lists, the parties on other activities that named it and the lookups Dynamics
    # cleared are all back.
    assert tables(target.dump()) == tables(STATE["before_d1"])
    state = load_state(open_stage(target.settings))
    assert state is not None and state.last_run == "d0" and state.runs == ["m1", "d0"]


def test_after_a_rolled_back_delta_the_next_delta_reads_the_changes_again() -> None:
    target: Target = STATE["target"]
    ns = STATE["namespace"]
    output = run_delta(target, "d2")
    assert output["status"] == "completed"
    contacts = rows_by_id(target.dump(), "contact")
    assert contacts[target_id(ns, "Contact", STATE["changed"]["Id"])]["jobtitle"] == (
        "Head of Delta Sync"
    )
    assert target_id(ns, "Contact", STATE["deleted"]["Id"]) not in contacts
    assert target_id(ns, "Contact", STATE["new"]["id"]) in contacts


def test_the_cutover_delta_certifies_source_and_target_equal() -> None:
    target: Target = STATE["target"]
    output = run_delta(target, "c1", cutover=True)
    assert output["status"] == "completed"
    assert output["certificate"]["certified"], output["certificate"]
    reports = target.workdir / "runs" / "c1" / "reports"
    certificate = json.loads((reports / "cutover-certificate.json").read_text())
    assert certificate["certified"] and certificate["totals"]["differences"] == 0
    assert "Cutover certificate" in (reports / "delta.md").read_text()
    state = load_state(open_stage(target.settings))
    assert state is not None and state.last_run == "c1" and state.last_full_compare

    # A person edits a migrated row in Dynamics (one Salesforce did not change since the
    # migration, so no delta rewrites it): the certificate says exactly so.
    ns = STATE["namespace"]
    changed = target_id(ns, "Contact", STATE["other"]["Id"])
    reply = target.as_a_person(
        "PATCH",
        f"contacts({changed})",
        json={"jobtitle": "Edited in Dynamics"},
        headers={**target.dv.headers(), "If-Match": "*"},
    )
    reply.raise_for_status()
    again = run_delta(target, "c2", cutover=True)
    cert = again["certificate"]
    assert not cert["certified"] and cert["differences"] == 1, cert


def test_a_record_purged_from_the_recycle_bin_is_found_by_the_full_comparison() -> None:
    target: Target = STATE["target"]
    ns = STATE["namespace"]
    purged = STATE["purged"] = STATE["other_purged"]
    sf = source(target)
    sf.sf.Contact.delete(purged)
    httpx.post(
        STATE["sf"].admin_url.rstrip("/") + "/purge",
        json={"ids": [purged]},
        verify=str(STATE["sf"].ca_cert),
    ).raise_for_status()
    tid = target_id(ns, "Contact", purged)

    # queryAll no longer returns it: a delta without the full comparison cannot see it...
    run_delta(target, "d3")
    assert tid in rows_by_id(target.dump(), "contact")
    # ...the full id comparison (periodic, and always at cutover) does.
    run_delta(target, "d4", full_compare=True)
    assert tid not in rows_by_id(target.dump(), "contact")
    report = json.loads((target.workdir / "runs" / "d4" / "reports" / "delta.json").read_text())
    (contact,) = [d for d in report["deletions"] if d["entry"] == "contact"]
    assert contact["deleted"] == 1 and report["full_compare"]


def test_the_deactivate_policy_keeps_rows_inactive_and_rollback_reactivates_them() -> None:
    target: Target = STATE["target"]
    ns = STATE["namespace"]
    settings = target.settings.model_copy(
        update={"delta": target.settings.delta.model_copy(update={"delete_policy": "deactivate"})}
    )
    sf = source(target)
    leads = rows_by_id(target.dump(), "lead")
    lead = next(
        r["Id"]
        for r in sf.sf.query("SELECT Id FROM Lead ORDER BY Id LIMIT 50")["records"]
        if target_id(ns, "Lead", r["Id"]) in leads
        and leads[target_id(ns, "Lead", r["Id"])].get("statecode") == 0
    )
    before = target.dump()
    sf.sf.Lead.delete(lead)
    result = drive(
        settings,
        "d5",
        workers=4,
        start=("delta", {"run_id": "d5"}),
        quiet=True,
    )
    assert result.runtime_status == "Completed", result.error
    row = rows_by_id(target.dump(), "lead")[target_id(ns, "Lead", lead)]
    assert row["statecode"] == 2  # disqualified, not deleted

    undo = drive(
        target.settings,
        "d5.rollback",
        workers=4,
        start=("rollback", {"run_id": "d5.rollback", "target_run_id": "d5", "dry_run": False}),
        quiet=True,
    )
    assert undo.runtime_status == "Completed", undo.error
    assert tables(target.dump()) == tables(before)
