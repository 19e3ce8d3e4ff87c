"""Render the discovery document as ``discovery.md`` and ``discovery.json`` (pure + write)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.salesforce.reports import write_text

_MAX_ROWS = 50


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out


def _count_cell(obj: dict[str, Any]) -> str:
    if obj.get("count") is None:
        return "n/a"
    extra = obj.get("count_with_archived")
    if extra is not None and extra != obj["count"]:
        return f"{obj['count']} (+{extra - obj['count']} archived or deleted, via queryAll)"
    return str(obj["count"])


def render_markdown(doc: dict[str, Any]) -> str:
    """A scope report a person reads top to bottom: grade first, details after."""
    grade = doc["complexity"]
    lines = [
        "# Discovery report",
        "",
        f"Org: {doc['instance_url']} — generated {doc['generated_at']}",
        "",
        f"## Complexity: **{grade['grade']}**",
        "",
        *_table(
            ["factor", "finding", "effect"],
            [[r["factor"], r["finding"], r["effect"]] for r in grade["reasons"]],
        ),
        "",
        "## Objects",
        "",
    ]
    rows = []
    for obj in doc["objects"]:
        hidden = obj.get("hidden_fields")
        rows.append(
            [
                obj["name"],
                _count_cell(obj),
                obj.get("standard_fields", 0),
                obj.get("custom_fields", 0),
                "not checked" if hidden is None else len(hidden),
                "; ".join(obj.get("errors", [])),
            ]
        )
    lines += _table(
        ["object", "records (COUNT())", "standard fields", "custom fields", "FLS-hidden", "notes"],
        rows,
    )
    lines += ["", "## Fields hidden by field-level security", ""]
    hidden_rows = [
        [o["name"], h["name"], h["type"]]
        for o in doc["objects"]
        for h in o.get("hidden_fields") or []
    ]
    if hidden_rows:
        lines += [
            "These fields exist but the integration user cannot read them; they would silently "
            "be missing from the migration. Grant Read access in a permission set, or confirm "
            "they are out of scope.",
            "",
            *_table(["object", "field", "type"], hidden_rows),
        ]
    else:
        lines.append("None found.")
    lines += ["", "## Custom fields", ""]
    custom_rows = [
        [o["name"], f["name"], f["type"], f.get("label")]
        for o in doc["objects"]
        for f in o.get("fields", [])
        if f["custom"]
    ]
    lines += _table(["object", "field", "type", "label"], custom_rows) if custom_rows else ["None."]
    lf = doc["leadfwd"]
    lines += ["", "## Leadfwd package", ""]
    if lf["package_found"]:
        lines.append(f"Objects: {', '.join(lf['objects']) or 'none'}")
        for obj, fields in lf["fields_on_standard_objects"].items():
            lines.append(f"- fields on {obj}: {', '.join(fields)}")
    else:
        lines.append(f"No objects or fields with the namespace `{doc['namespace']}` were found.")
    lines += ["", "## Users", ""]
    users = doc["users"]
    if "error" in users:
        lines.append(f"Users could not be read: {users['error']}")
    else:
        lines.append(
            f"{users['total']} users: {users['active']} active, {users['inactive']} inactive."
        )
        if users["dynamics_checked"]:
            lines.append(
                f"{users['matched_in_dynamics']} have a Dynamics user with the same email "
                f"(source: {users.get('dynamics_source') or 'given list'}). Records owned by the "
                "others get the fallback owner and are reported."
            )
            unmatched = [u for u in users["users"] if not u["dynamics_match"]]
            if unmatched:
                lines += ["", "Users without a Dynamics match:", ""]
                lines += _table(
                    ["id", "name", "email", "active"],
                    [[u["id"], u["name"], u["email"], u["active"]] for u in unmatched[:_MAX_ROWS]],
                )
                if len(unmatched) > _MAX_ROWS:
                    lines.append(f"... and {len(unmatched) - _MAX_ROWS} more in discovery.json")
        else:
            why = users.get("dynamics_source") or "no list given"
            lines.append(
                f"Dynamics users were not checked ({why}): configure `dataverse.url`, or pass "
                "`--dynamics-users FILE` (a JSON list of emails or of systemuser rows), to "
                "match owners by email."
            )
    owners = doc.get("fallback_owners") or {}
    if owners.get("checked") and owners["objects"]:
        lines += [
            "",
            f"Records owned by {owners['basis']} (they get `dataverse.fallback_owner_email` "
            "and are reported, unless the users are created or mapped first):",
            "",
        ]
        lines += _table(
            ["object", "records"],
            [[o, v.get("count", v.get("error"))] for o, v in owners["objects"].items()],
        )
    lines += ["", "## De-duplication candidates", ""]
    if doc["dedup_candidates"]:
        for obj, info in doc["dedup_candidates"].items():
            if "error" in info:
                lines.append(f"- {obj}: not checked ({info['error']})")
            else:
                lines.append(
                    f"- {obj}: {info['count']} records created by the sync without an "
                    f"originating external id (`{info['criteria']}`); flagged before writing."
                )
    else:
        lines.append("The sync flag and external id fields were not found; nothing to check.")
    est = doc["estimate"]
    lines += ["", "## Estimates", ""]
    lines += _table(
        ["object", "records", "method", "SF calls", "SF seconds", "DV calls", "DV seconds"],
        [
            [
                r["object"],
                r["records"],
                r["method"],
                r["salesforce_calls"],
                r["salesforce_seconds"],
                r["dataverse_calls"],
                r["dataverse_seconds"],
            ]
            for r in est["objects"]
        ],
    )
    t = est["total"]
    api = doc["api"]
    lines += [
        "",
        f"Total: {t['records']} records, about {t['salesforce_calls']} Salesforce calls "
        f"(~{t['salesforce_seconds']} s) and {t['dataverse_calls']} Dataverse calls "
        f"(~{t['dataverse_seconds']} s with one application user).",
        f"Daily API allocation: {api.get('daily_remaining')} of {api.get('daily_max')} remaining; "
        f"discovery itself used {api.get('calls_this_run')} calls.",
        "",
        "Assumptions: " + ", ".join(f"{k} = {v}" for k, v in est["assumptions"].items()),
        "",
    ]
    return "\n".join(lines)


def write_discovery(doc: dict[str, Any], reports: Path) -> list[Path]:
    """Write ``discovery.md`` and ``discovery.json`` atomically; return their paths."""
    md, js = reports / "discovery.md", reports / "discovery.json"
    write_text(js, json.dumps(doc, indent=1, ensure_ascii=False, default=str))
    write_text(md, render_markdown(doc))
    return [md, js]
