"""Discovery on a small org: counts, fields, FLS gaps, users, de-dup candidates, grade."""

from __future__ import annotations

import json
from pathlib import Path

from emulators.salesforce.testing import run_salesforce, write_org_dir
from shared.salesforce.client import connect
from shared.salesforce.discovery import discover
from shared.salesforce.discovery_report import render_markdown, write_discovery
from shared.salesforce.estimate import complexity
from tests.shared.salesforce.conftest import settings_for, small_org_records


def _org(tmp_path: Path) -> Path:
    records = small_org_records()
    records["Contact"][0]["leadfwd__Created_By_Sync__c"] = True
    records["Contact"][1]["leadfwd__Created_By_Sync__c"] = True
    records["Contact"][1]["leadfwd__External_Id__c"] = "LF-1"
    return write_org_dir(tmp_path / "org", records, hidden_fields={"Contact": ["Title"]})


def test_discovery_reports_what_is_in_the_org(tmp_path: Path) -> None:
    with run_salesforce(_org(tmp_path)) as ep:
        client = connect(settings_for(ep, tmp_path).salesforce, ep.requests_session())
        doc = discover(client, dynamics_user_emails=["ANA@x.test"], dynamics_users_source="t")
    objects = {o["name"]: o for o in doc["objects"]}
    assert objects["Contact"]["count"] == 6
    assert objects["Account"]["count"] == 2
    assert objects["Task"]["count"] == 1 and objects["Task"]["count_with_archived"] == 2
    assert [h["name"] for h in objects["Contact"]["hidden_fields"]] == ["Title"]
    field_types = {f["name"]: f["type"] for f in objects["Contact"]["fields"]}
    assert field_types["Email"] == "email" and "Title" not in field_types
    assert objects["Contact"]["custom_fields"] >= 1  # the Leadfwd package fields
    assert doc["leadfwd"]["package_found"] is True
    assert "leadfwd__Sequence__c" in doc["leadfwd"]["objects"]
    users = doc["users"]
    assert (users["active"], users["inactive"], users["matched_in_dynamics"]) == (1, 1, 1)
    owners = doc["fallback_owners"]
    assert owners["basis"] == "inactive users and users without a Dynamics match"
    assert owners["objects"]["Account"] == {"count": 1}  # owned by the inactive user
    assert owners["objects"]["Contact"] == {"count": 0}
    assert doc["dedup_candidates"]["Contact"]["count"] == 1
    assert doc["dedup_candidates"]["Contact"]["sample_ids"] == [records_id(0)]
    assert doc["complexity"]["grade"] == "complex"  # Title is hidden by FLS
    assert any(
        "hidden by field-level security" in r["finding"] for r in doc["complexity"]["reasons"]
    )
    assert doc["estimate"]["total"]["records"] >= 10
    assert doc["api"]["calls_this_run"] > 0

    paths = write_discovery(doc, tmp_path / "reports")
    md = paths[0].read_text()
    assert "## Complexity: **complex**" in md
    assert "| Contact | Title |" in md
    assert "| Account | 1 |" in md
    assert json.loads(paths[1].read_text())["objects"]


def records_id(n: int) -> str:
    from tests.shared.salesforce.conftest import contact_id

    return contact_id(n)


def test_unknown_object_is_reported_and_discovery_goes_on(tmp_path: Path) -> None:
    with run_salesforce(_org(tmp_path)) as ep:
        client = connect(settings_for(ep, tmp_path).salesforce, ep.requests_session())
        doc = discover(client, objects=["Contact", "Widget__c"])
    widget = next(o for o in doc["objects"] if o["name"] == "Widget__c")
    assert widget["count"] is None
    assert "not visible to the integration user" in widget["errors"][0]
    assert doc["users"]["dynamics_checked"] is False
    assert "Dynamics users were not checked" in render_markdown(doc)


def _est(records: int) -> dict[str, object]:
    return {"total": {"records": records, "salesforce_calls": 10}}


def test_grade_standard_complex_and_scoped() -> None:
    clean = [{"name": "Contact", "count": 10, "fields": [], "hidden_fields": []}]
    api = {"daily_remaining": 100_000}
    assert complexity(clean, _est(10), api, "leadfwd__")["grade"] == "standard"
    assert complexity(clean, _est(600_000), api, "leadfwd__")["grade"] == "complex"
    scoped = complexity(clean, _est(2_000_001), api, "leadfwd__")
    assert scoped["grade"] == "scoped individually"
    assert any("2,000,000" in r["effect"] for r in scoped["reasons"])
    other = [*clean, {"name": "Invoice__c", "count": 3, "fields": [], "hidden_fields": []}]
    assert complexity(other, _est(13), api, "leadfwd__")["grade"] == "complex"
    tight = complexity(clean, _est(10), {"daily_remaining": 15}, "leadfwd__")
    assert tight["grade"] == "complex"
