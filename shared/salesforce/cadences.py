"""Sequences as an admin rebuilds them: Leadfwd sequences and Salesforce sales cadences (pure).

Sequences are not migrated as records: Dynamics sequences are rebuilt by a person from this
inventory. Leadfwd steps are ordered by their step number. Salesforce cadence steps form a
tree (``ParentStepName`` → ``StepName``, starting at the ``Root`` step); branching steps
(``ListenerBranch``/``DecisionBranch``) have a rule whose ``OutcomeNextStepName`` is the step
taken when the condition holds, the other child is the "otherwise" path. Steps are listed in
depth-first order with their branch path, so the CSV reads top to bottom like the builder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Salesforce cadence step Type → (channel, action type) in the inventory's vocabulary.
CADENCE_STEP_TYPES: dict[str, tuple[str, str]] = {
    "AutoSendAnEmail": ("Email", "Auto Email"),
    "SendAnEmail": ("Email", "Manual Email"),
    "SendAnEmailAutomated": ("Email", "Auto Email"),
    "MakeACall": ("Call", "Call"),
    "CreateTask": ("Manual", "Manual Task"),
    "Wait": ("", "Wait"),
    "ListenerBranch": ("", "Branch on engagement"),
    "DecisionBranch": ("", "Branch on field values"),
    "CustomStep": ("Manual", "Custom Step"),
    "SendAnSms": ("SMS", "SMS"),
    "LinkedIn": ("LinkedIn", "LinkedIn"),
}

STEP_COLUMNS = [
    "sequence_source",
    "sequence_id",
    "sequence_name",
    "sequence_status",
    "step_order",
    "step_id",
    "step_name",
    "branch_path",
    "parent_step",
    "channel",
    "action_type",
    "delay_days",
    "delay_hours",
    "delay_rule",
    "send_time",
    "subject",
    "content_reference",
    "template_name",
    "notes",
]


def leadfwd_sequence(
    seq: Mapping[str, Any], steps: Sequence[Mapping[str, Any]], ns: str
) -> dict[str, Any]:
    """One Leadfwd sequence with its steps ordered by step number (then Id, for ties)."""

    def f(rec: Mapping[str, Any], name: str) -> Any:
        return rec.get(f"{ns}{name}")

    ordered = sorted(
        steps, key=lambda s: (f(s, "Step_Number__c") is None, f(s, "Step_Number__c") or 0, s["Id"])
    )
    out_steps: list[dict[str, Any]] = []
    for pos, step in enumerate(ordered, start=1):
        number = f(step, "Step_Number__c")
        notes = []
        if number is not None and int(number) != pos:
            notes.append(f"step number {int(number)} (gaps or duplicates in the source)")
        out_steps.append(
            {
                "order": pos,
                "id": step["Id"],
                "name": step.get("Name"),
                "branch_path": "",
                "parent_step": out_steps[-1]["id"] if out_steps else None,
                "channel": f(step, "Channel__c"),
                "action_type": f(step, "Action_Type__c"),
                "delay": {
                    "days": _num(f(step, "Delay_Days__c")),
                    "hours": _num(f(step, "Delay_Hours__c")),
                    "rule": f(step, "Delay_Rule__c"),
                    "send_time": f(step, "Send_Time__c"),
                },
                "subject": f(step, "Subject__c"),
                "content_reference": f(step, "Template_Id__c"),
                "template_name": f(step, "Template_Name__c"),
                "notes": "; ".join(notes),
            }
        )
    return {
        "source": "leadfwd",
        "id": seq["Id"],
        "name": seq.get("Name"),
        "status": f(seq, "Status__c"),
        "owner_id": seq.get("OwnerId"),
        "purpose": f(seq, "Purpose__c"),
        "access": f(seq, "Access__c"),
        "reply_action": f(seq, "Reply_Action__c"),
        "opt_out_action": f(seq, "Opt_Out_Action__c"),
        "tags": f(seq, "Tags__c"),
        "external_id": f(seq, "External_Id__c"),
        "steps": out_steps,
    }


def _num(value: Any) -> int | float | None:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def cadence_sequence(
    cadence: Mapping[str, Any],
    steps: Sequence[Mapping[str, Any]],
    rules: Sequence[Mapping[str, Any]] = (),
    conditions: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """One Salesforce sales cadence, its step tree flattened depth-first with branch paths."""
    by_name = {s.get("StepName"): s for s in steps}
    children: dict[str | None, list[Mapping[str, Any]]] = {}
    for step in steps:
        children.setdefault(step.get("ParentStepName"), []).append(step)
    rule_by_step = {r.get("ActionCadenceStepId") or r.get("ActionCadenceStepID"): r for r in rules}
    cond_by_rule: dict[Any, list[Mapping[str, Any]]] = {}
    for cond in conditions:
        cond_by_rule.setdefault(cond.get("ActionCadenceRuleId"), []).append(cond)

    roots = [s for s in steps if s.get("Type") == "Root" or not s.get("ParentStepName")]
    out: list[dict[str, Any]] = []
    seen: set[Any] = set()
    warnings: list[str] = []

    def visit(step: Mapping[str, Any], path: str) -> None:
        if step.get("StepName") in seen:
            warnings.append(f"step {step.get('StepName')} reached twice (a loop); listed once")
            return
        seen.add(step.get("StepName"))
        kids = sorted(children.get(step.get("StepName"), []), key=lambda s: str(s.get("Id", "")))
        if step.get("Type") != "Root":
            channel, action = CADENCE_STEP_TYPES.get(
                str(step.get("Type")), ("", str(step.get("Type")))
            )
            parent = by_name.get(step.get("ParentStepName"))
            out.append(
                {
                    "order": len(out) + 1,
                    "id": step.get("Id"),
                    "name": step.get("StepTitle") or step.get("StepName"),
                    "step_name": step.get("StepName"),
                    "branch_path": path,
                    "parent_step": None
                    if parent is None or parent.get("Type") == "Root"
                    else parent.get("Id") or parent.get("StepName"),
                    "channel": channel,
                    "action_type": action,
                    "delay": {
                        "days": None,
                        "hours": None,
                        "rule": "Wait step: duration is set in Sales Engagement, not exposed by "
                        "the API"
                        if step.get("Type") == "Wait"
                        else None,
                        "send_time": None,
                    },
                    "subject": None,
                    "content_reference": None,
                    "template_name": None,
                    "notes": "; ".join(
                        n
                        for n in (
                            str(step.get("StepComments") or ""),
                            "email template not exposed by the API: see the cadence builder"
                            if channel == "Email"
                            else "",
                        )
                        if n
                    ),
                }
            )
        rule = rule_by_step.get(step.get("Id"))
        if rule is not None and kids:
            yes = rule.get("OutcomeNextStepName")
            label = _condition_label(cond_by_rule.get(rule.get("Id"), []), rule)
            kids.sort(key=lambda s: s.get("StepName") != yes)
            for kid in kids:
                branch = f"if {label}" if kid.get("StepName") == yes else f"otherwise (not {label})"
                visit(kid, f"{path} > {branch}".strip(" >"))
        else:
            for kid in kids:
                visit(kid, path)

    for root in roots:
        visit(root, "")
    orphans = [s for s in steps if s.get("StepName") not in seen]
    for step in orphans:
        warnings.append(f"step {step.get('StepTitle') or step.get('StepName')} is not reachable")
    return {
        "source": "salesforce_cadence",
        "id": cadence.get("Id"),
        "name": cadence.get("Name"),
        "status": cadence.get("State"),
        "owner_id": cadence.get("OwnerId"),
        "description": cadence.get("Description"),
        "activated": cadence.get("ActivatedDate"),
        "steps": out,
        "warnings": warnings,
    }


def _condition_label(conds: Sequence[Mapping[str, Any]], rule: Mapping[str, Any]) -> str:
    if not conds:
        return "branch condition"
    parts = [f"{c.get('Resource')} {c.get('Operator')} {c.get('Value')}" for c in conds]
    joiner = f" {str(rule.get('ConditionLogic') or 'and').upper()} "
    return joiner.join(parts)


def step_rows(sequence: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The CSV rows of one sequence (one per step, or one empty row if it has no steps)."""
    base = {
        "sequence_source": sequence["source"],
        "sequence_id": sequence["id"],
        "sequence_name": sequence["name"],
        "sequence_status": sequence.get("status"),
    }
    if not sequence["steps"]:
        return [{**base, "notes": "sequence has no steps"}]
    rows = []
    for step in sequence["steps"]:
        delay = step.get("delay") or {}
        rows.append(
            {
                **base,
                "step_order": step["order"],
                "step_id": step.get("id"),
                "step_name": step.get("name"),
                "branch_path": step.get("branch_path"),
                "parent_step": step.get("parent_step"),
                "channel": step.get("channel"),
                "action_type": step.get("action_type"),
                "delay_days": delay.get("days"),
                "delay_hours": delay.get("hours"),
                "delay_rule": delay.get("rule"),
                "send_time": delay.get("send_time"),
                "subject": step.get("subject"),
                "content_reference": step.get("content_reference"),
                "template_name": step.get("template_name"),
                "notes": step.get("notes"),
            }
        )
    return rows
