"""``reports/delta.md``: what one delta read, wrote and deleted, for the person running it."""

from __future__ import annotations

from typing import Any

__all__ = ["render_delta_report"]

_SHOWN = 200


def render_delta_report(report: dict[str, Any]) -> str:
    """A person-readable account of a delta (the JSON beside it holds every id)."""
    kind = "Cutover delta" if report["cutover"] else "Delta"
    lines = [
        f"# {kind} {report['run_id']}: {report['status']}",
        "",
        f"Continues from run **{report['continues_from']}** (migration {report['base_run']}); "
        f"changes read since each object's watermark minus {report['overlap_minutes']} min. "
        f"Full id comparison: {'yes' if report['full_compare'] else 'no'}. "
        f"Deletion policy: `{report['delete_policy']}`.",
        "",
    ]
    advanced = report.get("sync_state_advanced_to")
    lines.append(
        f"The next delta continues from **{advanced}**."
        if advanced
        else "The sync state was **not** advanced: the next delta reads this window again."
    )
    lines += ["", "## Read from Salesforce", "", "| Object | Since | Changed | Deleted |"]
    lines.append("|---|---|---|---|")
    for name, row in report["extraction"].items():
        lines.append(
            f"| {name} | {row['since'] or 'everything (no watermark)'} | {row['changed']} "
            f"| {row['deleted_in_window']} |"
        )
    lines += ["", "## Written (per phase)", ""]
    for phase in report.get("phases", []):
        rec = phase.get("reconciliation", {})
        lines.append(
            f"- phase {phase.get('phase')}: reconciled {rec.get('reconciled')}, "
            f"unexplained differences {rec.get('unexplained', 0)}"
        )
        for obj in phase.get("objects", []):
            lines.append(f"  - {obj.get('entry')}: {obj.get('counts')}")
    lines += ["", "## Deleted in Salesforce", ""]
    dels = report.get("deletions", [])
    if not dels:
        lines.append("No deletions.")
    else:
        lines += [
            "| Entry | Table | Requested | Deleted | Deactivated | Not in target | Cascade | "
            "Not applied |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for d in dels:
            lines.append(
                f"| {d['entry']} | {d['table']} | {d['requested']} | {d['deleted']} | "
                f"{d['deactivated']} | {d['already_gone']} | {d['cascade_deleted']} | "
                f"{len(d['not_applied'])} |"
            )
        not_applied = [(d["entry"], n) for d in dels for n in d["not_applied"]]
        if not_applied:
            lines += ["", "### Not applied", ""]
            lines += [f"- {e} {n['id']}: {n['reason']}" for e, n in not_applied[:_SHOWN]]
            if len(not_applied) > _SHOWN:
                lines.append(f"- … {len(not_applied) - _SHOWN} more in delta.json")
    cert = report.get("certificate")
    if cert:
        lines += [
            "",
            "## Cutover certificate",
            "",
            f"Identical: **{cert.get('identical')}**, certified: **{cert.get('certified')}** "
            f"({cert.get('differences')} differences, {cert.get('known_exceptions')} known "
            "exceptions). See cutover-certificate.md.",
        ]
    return "\n".join(lines) + "\n"
