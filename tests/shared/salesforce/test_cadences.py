"""Sequences read in the order an admin rebuilds them, branches included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.salesforce.cadences import cadence_sequence, leadfwd_sequence, step_rows

EBIKES = Path(__file__).resolve().parents[4] / "shared" / "data" / "real-orgs" / "ebikes"


def _tree_records(name: str) -> list[dict[str, Any]]:
    """Load an `sf data export tree` file, turning referenceIds into Ids (as the org would)."""
    data = json.loads((EBIKES / f"{name}.json").read_text())["records"]
    rows = data if isinstance(data, list) else [data]
    out = []
    for row in rows:
        rec = {k: v for k, v in row.items() if k != "attributes"}
        rec["Id"] = row["attributes"]["referenceId"]
        for key, value in list(rec.items()):
            if isinstance(value, str) and value.startswith("@"):
                rec[key] = value[1:]
        out.append(rec)
    return out


def test_ebikes_cadence_is_flattened_depth_first_with_branches() -> None:
    cadence = _tree_records("ActionCadence")[0]
    steps = _tree_records("ActionCadenceStep")
    rules = _tree_records("ActionCadenceRule")
    conds = _tree_records("ActionCadenceRuleCondition")
    seq = cadence_sequence(cadence, steps, rules, conds)
    assert seq["name"] == "Dealership Sales"
    assert seq["status"] == "Active"
    assert seq["warnings"] == []
    # 13 steps in the export, one of them the Root node: 12 steps an admin rebuilds.
    assert len(seq["steps"]) == 12
    first = seq["steps"][0]
    assert (first["name"], first["channel"], first["action_type"]) == (
        "Automated email send",
        "Email",
        "Auto Email",
    )
    assert first["branch_path"] == "" and first["parent_step"] is None
    second = seq["steps"][1]
    assert second["action_type"] == "Branch on engagement"
    # Right after the listener: the "reply" path first (the rule's outcome), then otherwise.
    yes, *_ = [s for s in seq["steps"] if s["parent_step"] == second["id"]]
    assert yes["branch_path"] == "if EmailEngagement Equal EmailReply"
    assert (yes["name"], yes["action_type"]) == ("Make a call", "Call")
    otherwise = [s for s in seq["steps"] if s["parent_step"] == second["id"]][1]
    assert otherwise["branch_path"].startswith("otherwise")
    assert otherwise["name"] == 'Set lead status as "Unqualified"'
    # Steps under the reply path carry the path down: the wait after the call.
    after_call = next(s for s in seq["steps"] if s["parent_step"] == yes["id"])
    assert after_call["action_type"] == "Wait"
    assert after_call["branch_path"] == yes["branch_path"]
    assert "not exposed" in after_call["delay"]["rule"]
    # Every step's parent comes before it: the list reads top to bottom.
    seen = set()
    for step in seq["steps"]:
        assert step["parent_step"] is None or step["parent_step"] in seen
        seen.add(step["id"])
    orders = [s["order"] for s in seq["steps"]]
    assert orders == list(range(1, 13))
    assert all(r["sequence_name"] == "Dealership Sales" for r in step_rows(seq))


def test_leadfwd_steps_order_by_number_and_keep_delay_and_content() -> None:
    ns = "leadfwd__"
    seq = {"Id": "a01A", "Name": "Outbound Q3", f"{ns}Status__c": "Active"}
    steps = [
        {
            "Id": "a02B",
            "Name": "Follow up",
            f"{ns}Step_Number__c": 2.0,
            f"{ns}Channel__c": "LinkedIn",
            f"{ns}Action_Type__c": "LinkedIn Message",
            f"{ns}Delay_Days__c": 3.0,
            f"{ns}Delay_Rule__c": "Business Days Only",
        },
        {
            "Id": "a02A",
            "Name": "Intro",
            f"{ns}Step_Number__c": 1.0,
            f"{ns}Channel__c": "Email",
            f"{ns}Action_Type__c": "Auto Email",
            f"{ns}Template_Id__c": "TPL-9",
            f"{ns}Template_Name__c": "Intro v2",
            f"{ns}Subject__c": "Hi {{first}}",
        },
        {"Id": "a02C", "Name": "Call", f"{ns}Step_Number__c": 5.0, f"{ns}Channel__c": "Call"},
    ]
    out = leadfwd_sequence(seq, steps, ns)
    assert [s["name"] for s in out["steps"]] == ["Intro", "Follow up", "Call"]
    assert out["steps"][0]["content_reference"] == "TPL-9"
    assert out["steps"][1]["delay"] == {
        "days": 3,
        "hours": None,
        "rule": "Business Days Only",
        "send_time": None,
    }
    assert "step number 5" in out["steps"][2]["notes"]
    rows = step_rows(out)
    assert [r["step_order"] for r in rows] == [1, 2, 3]


def test_sequence_without_steps_still_listed() -> None:
    out = leadfwd_sequence({"Id": "a01", "Name": "Empty"}, [], "leadfwd__")
    assert step_rows(out) == [
        {
            "sequence_source": "leadfwd",
            "sequence_id": "a01",
            "sequence_name": "Empty",
            "sequence_status": None,
            "notes": "sequence has no steps",
        }
    ]
