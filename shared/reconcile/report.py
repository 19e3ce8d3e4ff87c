"""Write ``reports/reconciliation.{json,md,csv}`` and the spot-check sheet.

The JSON holds every phase reconciled so far (a rerun of a phase replaces its entry); the
Markdown is for the person who signs the phase off; the CSV lists every missing row and every
field mismatch, one per line, for filtering in a spreadsheet. The spot-check sheet shows
25–50 records side by side — the source record, what the mapping made of it, and what
Dataverse holds — for a person to review field by field.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from shared.reconcile.model import PhaseReconciliation
from shared.reconcile.normalise import actual_column, compare_value
from shared.reconcile.readback import expected_fields

__all__ = ["choose_spot_checks", "write_reports", "write_spot_check"]

CSV_COLUMNS = [
    "phase",
    "object",
    "source_id",
    "table",
    "target_id",
    "column",
    "kind",
    "expected",
    "actual",
    "explained",
    "explanation",
]


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def write_reports(reports_dir: Path, phase: PhaseReconciliation) -> dict[str, Any]:
    """Add (or replace) ``phase`` in the reconciliation reports; return the whole JSON."""
    json_path = reports_dir / "reconciliation.json"
    data: dict[str, Any] = {"run_id": phase.run_id, "phases": []}
    if json_path.exists():
        data = json.loads(json_path.read_text(encoding="utf-8"))
    data["phases"] = [p for p in data.get("phases", []) if p["phase"] != phase.phase]
    data["phases"].append(phase.to_dict())
    data["passed"] = all(p["passed"] for p in data["phases"])
    _atomic_write(json_path, json.dumps(data, indent=2, default=str, ensure_ascii=False))
    _atomic_write(reports_dir / "reconciliation.md", _markdown(data))
    _atomic_write(reports_dir / "reconciliation.csv", _csv(data))
    return data


def _markdown(data: dict[str, Any]) -> str:
    lines = [f"# Reconciliation — run {data['run_id']}", ""]
    verdict = "PASSED" if data["passed"] else "STOPPED: unexplained differences"
    lines += [f"Overall: **{verdict}**", ""]
    for phase in data["phases"]:
        state = "passed" if phase["passed"] else "FAILED"
        lines += [
            f"## Phase {phase['phase']} — {state} "
            f"({phase['unexplained']} unexplained, tolerance {phase['tolerance']})",
            "",
            "| Object | Staged | Extracted | Written | With fallback | Quarantined | Skipped "
            "| Balanced | Present | Missing | Read back | Fields | Mismatches (unexplained) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for o in phase["objects"]:
            unexplained = sum(1 for m in o["mismatches"] if not m["explained"])
            lines.append(
                f"| {o['object']} | {o['staged']} | {o['extracted']} | {o['written']} | "
                f"{o['written_with_fallback']} | {o['quarantined']} | {o['skipped_by_policy']} | "
                f"{'yes' if o['balanced'] else '**no**'} | {o['present']} | "
                f"{len(o['missing_ids'])} | {o['readback_records']}"
                f"{' (sample)' if o['sampled'] else ''} | {o['readback_fields']} | "
                f"{len(o['mismatches'])} ({unexplained}) |"
            )
        lines.append("")
        shown = [
            (o["object"], m)
            for o in phase["objects"]
            for m in o["mismatches"]
            if not m["explained"]
        ][:50]
        if shown:
            lines += ["Unexplained field mismatches (first 50; all in the CSV):", ""]
            lines += [
                "| Object | Source id | Column | Kind | Expected | Actual |",
                "|---|---|---|---|---|---|",
            ]
            for obj, m in shown:
                lines.append(
                    f"| {obj} | {m['source_id']} | {m['column']} | {m['kind']} | "
                    f"{_cell(m['expected'])[:80]} | {_cell(m['actual'])[:80]} |"
                )
            lines.append("")
    return "\n".join(lines) + "\n"


def _csv(data: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for phase in data["phases"]:
        for o in phase["objects"]:
            for rid in o["missing_ids"]:
                writer.writerow(
                    {
                        "phase": phase["phase"],
                        "object": o["object"],
                        "target_id": rid,
                        "kind": "missing_row",
                        "explained": False,
                    }
                )
            for m in o["mismatches"]:
                writer.writerow(
                    {
                        "phase": phase["phase"],
                        "object": o["object"],
                        "source_id": m["source_id"],
                        "table": m["table"],
                        "target_id": m["id"],
                        "column": m["column"],
                        "kind": m["kind"],
                        "expected": _cell(m["expected"]),
                        "actual": _cell(m["actual"]),
                        "explained": m["explained"],
                        "explanation": m["explanation"] or "",
                    }
                )
    return buf.getvalue()


def choose_spot_checks(readback: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """A deterministic spread of ``count`` read-back records (same choice on every rerun)."""
    ranked = sorted(
        readback, key=lambda r: hashlib.sha256(str(r["record"]["id"]).encode()).hexdigest()
    )
    return ranked[:count]


def write_spot_check(
    reports_dir: Path,
    phase: str,
    chosen: list[dict[str, Any]],
    sources: dict[tuple[str, str], dict[str, Any]],
) -> Path:
    """Write ``spot-check-<phase>.md`` and ``.csv``: source, mapped and target values."""
    lines = [
        f"# Spot check — phase {phase}",
        "",
        f"{len(chosen)} records. Tick each line after comparing it with Salesforce.",
        "",
    ]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        [
            "object",
            "source_id",
            "table",
            "target_id",
            "column",
            "expected",
            "target",
            "match",
            "reviewed",
        ]
    )
    for item in chosen:
        rec, row = item["record"], item["row"]
        src = sources.get((rec["source_object"], rec["source_id"]), {})
        lines += [f"## {rec['source_object']} {rec['source_id']} → {rec['table']} {rec['id']}", ""]
        lines += ["| Column | Expected (from source) | In Dataverse | Match |", "|---|---|---|---|"]
        for key, expected in expected_fields(rec).items():
            column = "createdon" if key == "overriddencreatedon" else actual_column(row, key)
            actual = row.get(column) if column else None
            ok = compare_value(key, expected, actual).matches
            lines.append(
                f"| {key} | {_cell(expected)[:80]} | {_cell(actual)[:80]} | "
                f"{'yes' if ok else '**NO**'} |"
            )
            writer.writerow(
                [
                    rec["source_object"],
                    rec["source_id"],
                    rec["table"],
                    rec["id"],
                    key,
                    _cell(expected),
                    _cell(actual),
                    "yes" if ok else "NO",
                    "",
                ]
            )
        if src:
            lines += ["", "Source record:", "", "| Field | Value |", "|---|---|"]
            lines += [f"| {k} | {_cell(v)[:80]} |" for k, v in sorted(src.items())]
        lines.append("")
    md = reports_dir / f"spot-check-{phase}.md"
    _atomic_write(md, "\n".join(lines) + "\n")
    _atomic_write(reports_dir / f"spot-check-{phase}.csv", buf.getvalue())
    return md
