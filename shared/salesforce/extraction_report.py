"""``reports/extraction.json`` and ``.md``: per object, what was staged and if it reconciles."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from shared.salesforce.reconcile import ObjectResult
from shared.salesforce.reports import write_text
from shared.stage.base import Stage
from shared.stage.keys import report_key


def render_markdown(results: list[ObjectResult], usage: dict[str, Any]) -> str:
    """One row per object, unexplained differences called out first."""
    bad = [r for r in results if r.status == "unexplained"]
    lines = ["# Extraction report", ""]
    if bad:
        lines += [
            f"**{len(bad)} object(s) do not reconcile:** " + ", ".join(r.object for r in bad),
            "",
        ]
    else:
        lines += ["Every object reconciles with the source's COUNT().", ""]
    lines += [
        "| object | method | source COUNT() at start | at end | extracted | batches | files "
        "| status | explanation |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        resumed = f" (resumed at batch {r.resumed_at_batch})" if r.resumed_at_batch else ""
        lines.append(
            f"| {r.object} | {r.method}{resumed} | {r.source_count} | {r.source_count_end} "
            f"| {r.extracted} | {r.batches} | {r.files} | {r.status} "
            f"| {r.explanation.replace('|', '/')} |"
        )
    errors = [(r.object, e) for r in results for e in r.file_errors]
    if errors:
        lines += ["", "## File bodies not downloaded", ""]
        lines += [f"- {obj} {e['id']}: {e['error']}" for obj, e in errors]
    lines += [
        "",
        f"Salesforce API calls this run: {usage.get('calls_this_run')}; org usage now "
        f"{usage.get('org_used_now')} of {usage.get('org_daily_limit')} per day.",
        "",
    ]
    return "\n".join(lines)


def write_extraction_report(
    results: list[ObjectResult], usage: dict[str, Any], reports: Path, stage: Stage, run_id: str
) -> list[Path]:
    """Write the report to the reports directory and copy it to the stage."""
    doc = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "run_id": run_id,
        "objects": [r.to_dict() for r in results],
        "api_usage": usage,
    }
    js = json.dumps(doc, indent=1, ensure_ascii=False)
    md = render_markdown(results, usage)
    write_text(reports / "extraction.json", js)
    write_text(reports / "extraction.md", md)
    stage.put_bytes(report_key(run_id, "extraction.json"), js.encode())
    stage.put_bytes(report_key(run_id, "extraction.md"), md.encode())
    return [reports / "extraction.md", reports / "extraction.json"]
