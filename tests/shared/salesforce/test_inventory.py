"""Sequence inventory and enrollment manifest from a generated org and the real ebikes export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from emulators.salesforce.generate import generate_org
from emulators.salesforce.import_tree import import_tree_export
from emulators.salesforce.testing import run_salesforce
from shared.salesforce.client import connect
from shared.salesforce.inventory import build_inventory
from tests.shared.salesforce.conftest import settings_for

EBIKES = Path(__file__).resolve().parents[4] / "shared" / "data" / "real-orgs" / "ebikes"


@pytest.fixture(scope="module")
def generated_org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "org"
    generate_org(out, scale=60, seed=5)
    return out


def _source_rows(org: Path, name: str) -> list[dict[str, object]]:
    path = org / "data" / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_generated_org_inventory_lists_every_sequence_step_and_enrollment(
    generated_org: Path, tmp_path: Path
) -> None:
    live = [
        r for r in _source_rows(generated_org, "leadfwd__Sequence__c") if not r.get("IsDeleted")
    ]
    steps = [
        r
        for r in _source_rows(generated_org, "leadfwd__Sequence_Step__c")
        if not r.get("IsDeleted")
    ]
    enrollments = [
        r
        for r in _source_rows(generated_org, "leadfwd__Sequence_Enrollment__c")
        if not r.get("IsDeleted")
    ]
    reports = tmp_path / "reports"
    with run_salesforce(generated_org) as ep:
        client = connect(settings_for(ep, tmp_path).salesforce, ep.requests_session())
        result = build_inventory(client, reports)
    assert result.sequences == len(live)
    assert result.enrollments == len(enrollments)
    doc = json.loads((reports / "sequences.json").read_text())
    assert {s["id"] for s in doc["sequences"]} == {r["Id"] for r in live}
    live_ids = {r["Id"] for r in live}
    assert doc["summary"]["steps"] == sum(1 for s in steps if s["leadfwd__Sequence__c"] in live_ids)
    for seq in doc["sequences"]:
        numbers = [st["order"] for st in seq["steps"]]
        assert numbers == list(range(1, len(numbers) + 1))
    items = {o["item"] for o in doc["out_of_scope"]}
    assert {"Email sender profiles", "Mailbox warming scores", "Sender rotation"} <= items
    with (reports / "sequences.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == sum(max(1, len(s["steps"])) for s in doc["sequences"])
    with (reports / "enrollments.csv").open() as fh:
        manifest = list(csv.DictReader(fh))
    assert len(manifest) == len(enrollments)
    for row in manifest:
        assert row["requires_re_enrollment"] in {"yes", "no"}
        assert (row["requires_re_enrollment"] == "yes") == (row["status"] in {"Active", "Paused"})
        assert row["sequence_name"] or "was not found in the source" in row["note"], row
        assert row["person_type"] in {"Contact", "Lead"}
    orphans = [r for r in manifest if not r["sequence_name"]]
    assert len(orphans) == sum(
        1 for e in enrollments if e.get("leadfwd__Sequence__c") not in live_ids
    )
    assert result.requiring_re_enrollment == sum(
        r["requires_re_enrollment"] == "yes" for r in manifest
    )


def test_ebikes_real_cadence_with_branches(tmp_path: Path) -> None:
    org = tmp_path / "org"
    import_tree_export(
        org,
        plans=[EBIKES / "sample-data-plan-hvs.json"],
        files=[
            EBIKES / n
            for n in (
                "ActionCadenceStep.json",
                "ActionCadenceRule.json",
                "ActionCadenceRuleCondition.json",
            )
        ],
    )
    reports = tmp_path / "reports"
    with run_salesforce(org) as ep:
        client = connect(settings_for(ep, tmp_path).salesforce, ep.requests_session())
        result = build_inventory(client, reports)
    assert (result.sequences, result.steps, result.enrollments) == (1, 12, 0)
    doc = json.loads((reports / "sequences.json").read_text())
    (cadence,) = doc["sequences"]
    assert cadence["source"] == "salesforce_cadence" and cadence["name"] == "Dealership Sales"
    paths = {s["branch_path"] for s in cadence["steps"]}
    assert "if EmailEngagement Equal EmailReply" in paths
    assert any(p.startswith("otherwise") for p in paths)
    assert cadence["steps"][0]["notes"] == (
        "First contact with dealership email; "
        "email template not exposed by the API: see the cadence builder"
    )
    assert "ActionCadenceTracker: not in this org" in doc["not_inventoried"]
