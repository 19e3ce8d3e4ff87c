"""The run summary a person reads first: per phase and object, what happened."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import IO, Any

QUARANTINE_COLUMNS = [
    "source_object",
    "source_id",
    "reason_code",
    "field",
    "value",
    "message",
    "hint",
    "outcome",
]


def write_quarantine(
    rows: Iterable[Mapping[str, Any]], json_out: IO[str], csv_out: IO[str]
) -> Counter[str]:
    """Write ``quarantine.json`` and ``quarantine.csv`` row by row; return counts by reason.

    Streamed: a run of a million contacts skips or quarantines hundreds of thousands of
    records (superseded task emails, converted leads...), which are never all in memory.
    """
    writer = csv.DictWriter(csv_out, QUARANTINE_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    by_code: Counter[str] = Counter()
    json_out.write("[")
    for n, row in enumerate(rows):
        json_out.write(("," if n else "") + "\n " + json.dumps(row, default=str))
        writer.writerow({k: _cell(row.get(k)) for k in QUARANTINE_COLUMNS})
        by_code[str(row.get("reason_code"))] += 1
    json_out.write("\n]\n")
    return by_code


def quarantine_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """Every record that did not land, one line each, for a spreadsheet."""
    out = io.StringIO()
    write_quarantine(rows, io.StringIO(), out)
    return out.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 500 else text[:497] + "..."


def render_summary(
    params: dict[str, Any], by_code: Mapping[str, int]
) -> tuple[dict[str, Any], str, list[str]]:
    """The summary document, its Markdown, and one line per phase for the terminal.

    Args:
        by_code: Records not written, by reason code (:func:`write_quarantine` counts them).
    """
    phases = params.get("phases", [])
    table: list[str] = []
    md = [f"# Run {params['run_id']}: {params['status']}", ""]
    md += ["| Phase | Object | Extracted | Written | With fallback | Quarantined | Skipped |"]
    md += ["|---|---|---|---|---|---|---|"]
    for phase in phases:
        rec = phase.get("reconciliation", {})
        state = "reconciled" if rec.get("reconciled") else "NOT reconciled"
        parts = []
        for obj in phase.get("objects", []):
            c = obj.get("counts", {})
            md.append(
                f"| {phase['phase']} | {obj['entry']} | {c.get('extracted', 0)} | "
                f"{c.get('written', 0)} | {c.get('written_with_fallback', 0)} | "
                f"{c.get('quarantined', 0)} | {c.get('skipped_by_policy', 0)} |"
            )
            extra = [
                f"{c[k]} {label}"
                for k, label in (("quarantined", "quarantined"), ("skipped_by_policy", "skipped"))
                if c.get(k)
            ]
            parts.append(
                f"{obj['entry']} {c.get('written', 0) + c.get('written_with_fallback', 0)}"
                f"/{c.get('extracted', 0)}" + (f" ({', '.join(extra)})" if extra else "")
            )
        table.append(
            f"phase {phase['phase']}: {state} ({rec.get('unexplained', 0)} unexplained) — "
            + ", ".join(parts)
        )
    if by_code:
        md += ["", "## Not written, by reason", "", "| Reason code | Records |", "|---|---|"]
        md += [f"| {code} | {n} |" for code, n in sorted(by_code.items())]
        md += ["", "Every record is listed in quarantine.csv with the field, value and hint."]
    summary = {
        "run_id": params["run_id"],
        "status": params["status"],
        "phases": phases,
        "not_written_by_reason": dict(by_code),
    }
    return summary, "\n".join(md) + "\n", table
