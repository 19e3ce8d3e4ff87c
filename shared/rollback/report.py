"""``reports/rollback.{json,md}``: every journalled row and what the rollback did with it."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from shared.dataverse.journal import JournalEntry
from shared.rollback.execute import created_by_run, outcome_key
from shared.stage.base import Stage


def build_report(
    stage: Stage,
    entries: list[JournalEntry],
    *,
    target_run_id: str,
    rollback_id: str,
    dry_run: bool,
) -> dict[str, Any]:
    """Collect every entry's outcome; count per table and outcome; list what was kept.

    ``unaccounted`` lists journalled ids with no outcome: it must be empty for a rollback to
    be complete (a resumed rollback fills it in).
    """
    created = created_by_run(entries)
    counts: dict[str, Counter[str]] = {}
    kept: list[dict[str, Any]] = []
    accounted: set[tuple[str, str]] = set()
    journalled: set[tuple[str, str]] = set()
    pending: list[str] = []
    for entry in entries:
        ids = set(entry.created) | {i for i in entry.pre_images if i.lower() not in created}
        journalled |= {(entry.table, i.lower()) for i in ids}
        key = outcome_key(rollback_id, entry)
        if not stage.exists(key):
            pending.append(key)
            continue
        record = json.loads(stage.get_bytes(key))
        for row in record["rows"]:
            counts.setdefault(entry.table, Counter())[row["outcome"]] += 1
            accounted.add((entry.table, row["id"].lower()))
            if row["outcome"] == "kept":
                kept.append({"table": entry.table, "id": row["id"], "reason": row.get("reason")})
    unaccounted = sorted(f"{t}:{i}" for t, i in journalled - accounted)
    return {
        "target_run_id": target_run_id,
        "rollback_id": rollback_id,
        "dry_run": dry_run,
        "complete": not pending and not unaccounted,
        "entries": len(entries),
        "pending_entries": pending,
        "counts": {table: dict(c) for table, c in sorted(counts.items())},
        "kept": kept,
        "unaccounted": unaccounted,
    }


def render_markdown(report: dict[str, Any]) -> str:
    """A person-readable summary of :func:`build_report`."""
    title = "Rollback (dry run)" if report["dry_run"] else "Rollback"
    lines = [
        f"# {title} of run {report['target_run_id']}",
        "",
        f"Complete: **{'yes' if report['complete'] else 'no'}** — "
        f"{report['entries']} journal entries.",
        "",
        "| Table | Outcome | Rows |",
        "|---|---|---|",
    ]
    for table, counts in report["counts"].items():
        for outcome, n in sorted(counts.items()):
            lines.append(f"| {table} | {outcome} | {n} |")
    if report["kept"]:
        lines += ["", "## Kept: changed by a person after the load (not overwritten)", ""]
        lines += [f"- {k['table']} {k['id']}: {k['reason']}" for k in report["kept"]]
    if report.get("sync_state"):
        lines += ["", f"Delta sync: {report['sync_state']}."]
    if report["unaccounted"] or report["pending_entries"]:
        lines += ["", "## Not yet processed (resume the rollback)", ""]
        lines += [f"- {x}" for x in report["pending_entries"] + report["unaccounted"]]
    return "\n".join(lines) + "\n"
