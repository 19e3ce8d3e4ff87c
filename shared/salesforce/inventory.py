"""The deliverables that are not records: sequence inventory, enrollment manifest, scope.

``reports/sequences.json`` + ``.csv``: every Leadfwd sequence and every Salesforce sales
cadence with its steps in order (see ``cadences.py``). ``reports/enrollments.csv``: every
enrollment with person, sequence, status, current step, dates and whether the person must be
re-enrolled in Dynamics (execution state does not transfer). The out-of-scope list says what
was deliberately not moved and why. Objects absent from the org are skipped and said so.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.salesforce.cadences import STEP_COLUMNS, cadence_sequence, leadfwd_sequence, step_rows
from shared.salesforce.client import SalesforceClient
from shared.salesforce.describe import fields_by_name
from shared.salesforce.records import shape_rest_record
from shared.salesforce.reports import atomic_text, write_text

OUT_OF_SCOPE = [
    {
        "item": "Email sender profiles",
        "reason": "tied to Leadfwd's sending infrastructure; not stored in Salesforce and not "
        "exportable. Set up mailboxes/sender identities in Dynamics (server-side sync).",
    },
    {
        "item": "Mailbox warming scores",
        "reason": "a Leadfwd infrastructure metric with no Dynamics equivalent; not exportable.",
    },
    {
        "item": "Sender rotation",
        "reason": "Leadfwd sending infrastructure; rebuild with Dynamics sequence ownership.",
    },
    {
        "item": "Sequence execution state",
        "reason": "sequences are delivered as this inventory and rebuilt by an admin; every "
        "active enrollment is listed in enrollments.csv for re-enrollment.",
    },
    {
        "item": "Automations, workflows and task-creating rules",
        "reason": "not executed in the destination; rebuild as Power Automate flows or "
        "Dynamics sequences.",
    },
]
_SENDER_HINTS = ("sender", "mailbox", "warm", "rotation")
ACTIVE_STATUSES = frozenset({"Active", "Paused", "Running", "Scheduled"})
ENROLLMENT_COLUMNS = [
    "source",
    "enrollment_id",
    "sequence_id",
    "sequence_name",
    "person_type",
    "person_id",
    "person_name",
    "person_email",
    "status",
    "current_step",
    "enrolled_at",
    "last_activity_at",
    "ended_at",
    "requires_re_enrollment",
    "note",
]


@dataclass
class InventoryResult:
    """Counts for the run summary and the paths written."""

    sequences: int = 0
    steps: int = 0
    enrollments: int = 0
    requiring_re_enrollment: int = 0
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class _Source:
    """Queries only what the org has: absent objects or fields are skipped, not errors."""

    def __init__(self, client: SalesforceClient) -> None:
        self.client = client
        self.objects = {o["name"] for o in client.describe_global().get("sobjects", [])}
        self.skipped: list[str] = []

    def rows(self, sobject: str, wanted: list[str], order: str = "Id") -> Iterator[dict[str, Any]]:
        if sobject not in self.objects:
            self.skipped.append(f"{sobject}: not in this org")
            return
        visible = fields_by_name(self.client.describe(sobject))
        fields = [
            f for f in wanted if (_rel_visible(f, visible) if "." in f else f.lower() in visible)
        ]
        hidden = [f for f in wanted if f not in fields]
        if hidden:
            self.skipped.append(f"{sobject}: fields not visible {', '.join(hidden)}")
        soql = f"SELECT {', '.join(fields)} FROM {sobject} ORDER BY {order}"
        for page in self.client.query_pages(soql, sobject=sobject):
            for raw in page.get("records", []):
                yield shape_rest_record(raw, wanted)


def _rel_visible(path: str, visible: dict[str, dict[str, Any]]) -> bool:
    rel = path.split(".")[0].lower()
    return any((f.get("relationshipName") or "").lower() == rel for f in visible.values())


def build_inventory(
    client: SalesforceClient, reports: Path, *, namespace: str = "leadfwd__"
) -> InventoryResult:
    """Write sequences.json/.csv and enrollments.csv under ``reports``."""
    src = _Source(client)
    ns = namespace
    result = InventoryResult()
    sequences: list[dict[str, Any]] = []

    steps_by_seq: dict[str, list[dict[str, Any]]] = {}
    step_fields = ["Id", "Name", f"{ns}Sequence__c"] + [
        f"{ns}{n}"
        for n in (
            "Step_Number__c",
            "Channel__c",
            "Action_Type__c",
            "Delay_Days__c",
            "Delay_Hours__c",
            "Delay_Rule__c",
            "Send_Time__c",
            "Subject__c",
            "Template_Name__c",
            "Template_Id__c",
        )
    ]
    for step in src.rows(f"{ns}Sequence_Step__c", step_fields):
        steps_by_seq.setdefault(str(step.get(f"{ns}Sequence__c")), []).append(step)
    seq_fields = ["Id", "Name", "OwnerId"] + [
        f"{ns}{n}"
        for n in (
            "Purpose__c",
            "Access__c",
            "Status__c",
            "Reply_Action__c",
            "Opt_Out_Action__c",
            "Tags__c",
            "External_Id__c",
        )
    ]
    for seq in src.rows(f"{ns}Sequence__c", seq_fields):
        sequences.append(leadfwd_sequence(seq, steps_by_seq.pop(seq["Id"], []), ns))
    for orphan_seq, orphans in steps_by_seq.items():
        result.skipped.append(
            f"{len(orphans)} {ns}Sequence_Step__c rows point at sequence {orphan_seq}, "
            "which was not found"
        )

    cad_steps: dict[str, list[dict[str, Any]]] = {}
    step_wanted = [
        "Id",
        "ActionCadenceId",
        "StepName",
        "StepTitle",
        "ParentStepName",
        "Type",
        "StepComments",
    ]
    for step in src.rows("ActionCadenceStep", step_wanted):
        cad_steps.setdefault(str(step.get("ActionCadenceId")), []).append(step)
    rules = list(
        src.rows(
            "ActionCadenceRule",
            ["Id", "ActionCadenceStepId", "OutcomeNextStepName", "ConditionLogic", "RuleType"],
        )
    )
    conditions = list(
        src.rows(
            "ActionCadenceRuleCondition",
            ["Id", "ActionCadenceRuleId", "Resource", "Operator", "Value"],
        )
    )
    cad_wanted = ["Id", "Name", "State", "OwnerId", "Description", "ActivatedDate"]
    for cad in src.rows("ActionCadence", cad_wanted):
        sequences.append(cadence_sequence(cad, cad_steps.get(cad["Id"], []), rules, conditions))

    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    found_oos = sorted(
        o for o in src.objects if o.startswith(ns) and any(h in o.lower() for h in _SENDER_HINTS)
    )
    out_of_scope = OUT_OF_SCOPE + [
        {"item": f"Object {o}", "reason": "sender infrastructure found in the org; not moved"}
        for o in found_oos
    ]
    result.sequences = len(sequences)
    result.steps = sum(len(s["steps"]) for s in sequences)

    rows = [row for seq in sequences for row in step_rows(seq)]
    write_text(reports / "sequences.csv", _csv(STEP_COLUMNS, rows))
    result.files.append("sequences.csv")

    names = {s["id"]: s["name"] for s in sequences}
    with atomic_text(reports / "enrollments.csv") as fh:  # streamed: memory stays flat
        writer = csv.DictWriter(fh, ENROLLMENT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in _enrollments(src, ns, names):
            writer.writerow(row)
            result.enrollments += 1
            result.requiring_re_enrollment += row["requires_re_enrollment"] == "yes"
    result.files.append("enrollments.csv")
    result.skipped.extend(src.skipped)

    doc = {
        "generated_at": generated,
        "summary": {
            "sequences": result.sequences,
            "steps": result.steps,
            "enrollments": result.enrollments,
            "requiring_re_enrollment": result.requiring_re_enrollment,
        },
        "sequences": sequences,
        "out_of_scope": out_of_scope,
        "not_inventoried": result.skipped,
    }
    write_text(reports / "sequences.json", json.dumps(doc, indent=1, ensure_ascii=False))
    result.files.append("sequences.json")
    return result


def _enrollments(src: _Source, ns: str, names: dict[Any, Any]) -> Iterator[dict[str, Any]]:
    wanted = [
        "Id",
        f"{ns}Sequence__c",
        f"{ns}Contact__c",
        f"{ns}Lead__c",
        f"{ns}Contact__r.Name",
        f"{ns}Contact__r.Email",
        f"{ns}Lead__r.Name",
        f"{ns}Lead__r.Email",
        f"{ns}Status__c",
        f"{ns}Current_Step__c",
        f"{ns}Enrolled_At__c",
        f"{ns}Last_Activity_At__c",
        f"{ns}Ended_At__c",
    ]
    for rec in src.rows(f"{ns}Sequence_Enrollment__c", wanted):
        is_contact = bool(rec.get(f"{ns}Contact__c"))
        rel = f"{ns}Contact__r" if is_contact else f"{ns}Lead__r"
        status = rec.get(f"{ns}Status__c")
        step = rec.get(f"{ns}Current_Step__c")
        yield _enrollment_row(
            "leadfwd",
            rec["Id"],
            rec.get(f"{ns}Sequence__c"),
            names,
            "Contact" if is_contact else ("Lead" if rec.get(f"{ns}Lead__c") else ""),
            rec.get(f"{ns}Contact__c") or rec.get(f"{ns}Lead__c"),
            rec.get(f"{rel}.Name"),
            rec.get(f"{rel}.Email"),
            status,
            None if step is None else int(float(step)),
            rec.get(f"{ns}Enrolled_At__c"),
            rec.get(f"{ns}Last_Activity_At__c"),
            rec.get(f"{ns}Ended_At__c"),
        )
    tracker = [
        "Id",
        "ActionCadenceId",
        "TargetId",
        "State",
        "CurrentStepId",
        "CreatedDate",
        "LastModifiedDate",
        "CompletionReason",
    ]
    for rec in src.rows("ActionCadenceTracker", tracker):
        target = str(rec.get("TargetId") or "")
        yield _enrollment_row(
            "salesforce_cadence",
            rec["Id"],
            rec.get("ActionCadenceId"),
            names,
            {"003": "Contact", "00Q": "Lead", "001": "Account"}.get(target[:3], ""),
            target,
            None,
            None,
            rec.get("State"),
            rec.get("CurrentStepId"),
            rec.get("CreatedDate"),
            rec.get("LastModifiedDate"),
            None,
        )


def _enrollment_row(
    source: str,
    enrollment_id: Any,
    sequence_id: Any,
    names: dict[Any, Any],
    person_type: str,
    person_id: Any,
    person_name: Any,
    person_email: Any,
    status: Any,
    current_step: Any,
    enrolled: Any,
    last_activity: Any,
    ended: Any,
) -> dict[str, Any]:
    active = status in ACTIVE_STATUSES
    if active:
        note = "execution state does not transfer: enroll again in the rebuilt sequence"
    else:
        note = f"finished in the source ({status or 'no status'}); history kept as a note"
    if not person_id:
        note = "no person on this enrollment; nothing to re-enroll"
        active = False
    if sequence_id not in names:
        note += f"; its sequence {sequence_id} was not found in the source (deleted?)"
    return {
        "source": source,
        "enrollment_id": enrollment_id,
        "sequence_id": sequence_id,
        "sequence_name": names.get(sequence_id, ""),
        "person_type": person_type,
        "person_id": person_id,
        "person_name": person_name,
        "person_email": person_email,
        "status": status,
        "current_step": current_step,
        "enrolled_at": enrolled,
        "last_activity_at": last_activity,
        "ended_at": ended,
        "requires_re_enrollment": "yes" if active else "no",
        "note": note,
    }


def _csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
