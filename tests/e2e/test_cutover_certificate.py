"""The cutover certificate, end to end: a real migration, then source and target compared now.

The promise to a CRM admin: right after a clean migration the certificate is certified and
lists exactly the records the run quarantined; once someone edits a migrated row in Dynamics,
deletes another, and edits a record in Salesforce, the certificate names exactly those three
differences and is no longer certified.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrators.local_host.command import start_local_run
from shared.cutover.certificate import certify
from shared.ids import to_18
from shared.run.runtime import Runtime
from shared.stage.factory import open_stage
from tests.e2e.conftest import Pipeline, Target

pytestmark = pytest.mark.slow
RUN = "cutover"
STATE: dict[str, Any] = {}


def _runtime(target: Target) -> Runtime:
    return Runtime(settings=target.settings, stage=open_stage(target.settings), local_reports=True)


def _certificate(target: Target) -> tuple[dict[str, Any], str]:
    reports = target.workdir / "runs" / RUN / "reports"
    doc = json.loads((reports / "cutover-certificate.json").read_text())
    return doc, (reports / "cutover-certificate.md").read_text()


def _quarantined(target: Target) -> dict[tuple[str, str], str]:
    """Each record the run quarantined or skipped, with the first reason it gave."""
    stage = open_stage(target.settings)
    out: dict[tuple[str, str], str] = {}
    for key in stage.list_keys(f"{RUN}/quarantine/"):
        for row in json.loads(stage.get_bytes(key)):
            out.setdefault((row["source_object"], to_18(row["source_id"])), row["reason_code"])
    return out


def _written(target: Target, entry: str, exclude: set[tuple[str, str]]) -> dict[str, Any]:
    """One row the run wrote for ``entry`` and that is not a known exception."""
    stage = open_stage(target.settings)
    for key in stage.list_batches(f"{RUN}/loaded/{entry}/"):
        for row in stage.read_batch(key):
            if (row["source_object"], row["source_id"]) not in exclude:
                return dict(row)
    raise AssertionError(f"the run wrote no {entry} row outside its quarantine")


def test_a_clean_migration_is_certified_with_its_quarantine_as_known_exceptions(
    pipeline: Pipeline,
) -> None:
    target = pipeline.target("cutover")
    _, result = start_local_run(target.settings, config_file=target.config, run_id=RUN, quiet=True)
    assert result.runtime_status == "Completed", result.error
    assert result.output["status"] == "completed"

    out = certify(_runtime(target), {"run_id": RUN})

    doc, markdown = _certificate(target)
    quarantined = _quarantined(target)
    assert quarantined, "the generated org plants defects: the run must quarantine some"
    assert out["certified"] and doc["certified"], doc["differences"]
    assert out["differences"] == 0
    assert not out["identical"]  # the quarantined records are exceptions, not identity
    listed = {(k["source_object"], k["source_id"]): k for k in doc["known_exceptions"]}
    assert set(listed) == set(quarantined)
    assert len(doc["known_exceptions"]) == len(quarantined)
    for key, code in quarantined.items():
        assert listed[key]["reason_code"] == code
        assert listed[key]["origin"] == f"quarantine:{RUN}"
    for name, obj in doc["objects"].items():
        assert obj["expected_ids_sha256"] == obj["target_ids_sha256"], name
        assert obj["expected_fields_sha256"] == obj["target_fields_sha256"], name
    assert sum(o["expected_count"] for o in doc["objects"].values()) > 0
    assert markdown.splitlines()[2].startswith("**CERTIFIED:")
    STATE.update(target=target, quarantined=quarantined)


def test_three_changes_are_exactly_the_three_differences(pipeline: Pipeline) -> None:
    target: Target = STATE["target"]
    exclude = set(STATE["quarantined"])
    account = _written(target, "account", exclude)
    task = _written(target, "task", exclude)
    contact = _written(target, "contact", exclude)

    # 1. Someone edits a migrated account in Dynamics.
    edited = target.as_a_person(
        "PATCH", f"accounts({account['id']})", json={"telephone1": "+1 555 0199 (edited)"}
    )
    assert edited.status_code == 204, edited.text
    # 2. Someone deletes a migrated task in Dynamics.
    deleted = target.as_a_person("DELETE", f"tasks({task['id']})")
    assert deleted.status_code == 204, deleted.text
    # 3. Someone edits a contact in Salesforce after the migration.
    sf = pipeline.sf
    session = sf.requests_session()
    changed = session.patch(
        f"{sf.base_url}/sobjects/Contact/{contact['source_id']}",
        json={"Title": "Chief Cutover Officer"},
        headers={"Authorization": f"Bearer {sf.access_token}"},
        timeout=30,
    )
    assert changed.status_code == 204, changed.text

    out = certify(_runtime(target), {"run_id": RUN})

    doc, markdown = _certificate(target)
    assert not out["certified"] and not doc["certified"]
    assert out["differences"] == 3
    diffs = doc["differences"]
    assert diffs["extra_in_target"] == []
    assert [(d["entry"], d["target_id"], d["source_id"]) for d in diffs["missing_in_target"]] == [
        ("task", task["id"].lower(), task["source_id"])
    ]
    fields = sorted(
        (d["entry"], d["target_id"], d["column"], d["expected"], d["actual"])
        for d in diffs["field_differences"]
    )
    assert fields == sorted(
        [
            (
                "account",
                account["id"].lower(),
                "telephone1",
                account["payload"]["telephone1"],
                "+1 555 0199 (edited)",
            ),
            (
                "contact",
                contact["id"].lower(),
                "jobtitle",
                "Chief Cutover Officer",
                contact["payload"]["jobtitle"],
            ),
        ]
    )
    assert {(k["source_object"], k["source_id"]) for k in doc["known_exceptions"]} == exclude
    for name in ("account", "task", "contact"):
        obj = doc["objects"][name]
        assert obj["expected_fields_sha256"] != obj["target_fields_sha256"], name
    assert (
        doc["objects"]["task"]["expected_ids_sha256"]
        != (doc["objects"]["task"]["target_ids_sha256"])
    )
    assert markdown.splitlines()[2].startswith("**NOT CERTIFIED: 3 unexplained differences")
    assert task["id"].lower() in markdown and "Chief Cutover Officer" in markdown
