"""The certificate document (``cutover-certificate.json``) and its markdown for a CRM admin.

The JSON holds everything (every difference, every known exception); the markdown opens with
the verdict, then one table line per mapping entry, then the first differences with a pointer
to the JSON. Pure: built from the per-entry results and a few facts about the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.cutover.compare import EntryResult

__all__ = ["FORMAT", "MARKDOWN_LIMIT", "SCOPE", "CertificateFacts", "build", "render_markdown"]

FORMAT = 1
MARKDOWN_LIMIT = 200
JSON_NAME = "cutover-certificate.json"

SCOPE = [
    "Source: every record of every mapped Salesforce object, read again when the certificate "
    "was made, transformed with the run's mapping snapshot and resolution context.",
    "Target, tables with a Salesforce id column (id_column in the mapping): every row where "
    "that column is set. Rows without it (rows that existed before the migration, rows people "
    "created in Dynamics) are out of scope.",
    "Target, tables without an id column (activities, notes): the rows whose deterministic id "
    "the source expects now, the mapping rejects now, or the certified runs wrote. Other rows "
    "of those tables are out of scope.",
    "Columns: every column the migration writes (payload, second-pass links, closing state), "
    "compared as reconciliation compares them; overriddencreatedon against createdon.",
    "Not compared: activity parties (senders and recipients are a collection resolved by email "
    "at load time; reconciliation does not compare them either) and file bodies (a note's file "
    "is compared by its size, filesize).",
    "Records created in Salesforce after the run's resolution context was built are compared "
    "too: they are missing in the target until a delta writes them; their children are "
    "resolved against the run's context and may show as rejected (ORPHAN_RECORD).",
]


@dataclass(frozen=True)
class CertificateFacts:
    """What the certificate was made of, for its header."""

    run_id: str
    runs: Sequence[str]
    generated_at: str
    source_org_id: str
    source_url: str | None
    target_url: str | None
    mapping_sha256: str
    source_stage_run: str
    notes: Sequence[str] = field(default_factory=tuple)


def _verdict(identical: bool, certified: bool, totals: dict[str, int]) -> str:
    if identical:
        return (
            f"IDENTICAL: the target matches the source exactly ({totals['expected_count']} "
            f"records in {totals['objects']} objects)."
        )
    if certified:
        return (
            f"CERTIFIED: the target matches the source ({totals['expected_count']} records in "
            f"{totals['objects']} objects) apart from {totals['known_exceptions']} known "
            "exceptions (quarantined or not migrated by design), listed below."
        )
    return (
        f"NOT CERTIFIED: {totals['differences']} unexplained differences "
        f"({totals['missing_in_target']} missing in the target, {totals['extra_in_target']} "
        f"extra in the target, {totals['field_differences']} field differences)."
    )


def build(facts: CertificateFacts, results: Sequence[EntryResult]) -> dict[str, Any]:
    """The certificate as JSON-safe data."""
    totals = {
        "objects": len(results),
        "source_count": sum(r.source_count for r in results),
        "expected_count": sum(r.expected_count for r in results),
        "target_count": sum(r.target_count for r in results),
        "known_exceptions": sum(len(r.known_exceptions) for r in results),
        "differences": sum(r.differences for r in results),
        "missing_in_target": sum(len(r.missing_in_target) for r in results),
        "extra_in_target": sum(len(r.extra_in_target) for r in results),
        "field_differences": sum(len(r.field_differences) for r in results),
    }
    certified = totals["differences"] == 0
    identical = certified and totals["known_exceptions"] == 0
    return {
        "format": FORMAT,
        "kind": "cutover-certificate",
        "verdict": _verdict(identical, certified, totals),
        "identical": identical,
        "certified": certified,
        "run_id": facts.run_id,
        "runs": list(facts.runs),
        "generated_at": facts.generated_at,
        "source": {
            "org_id": facts.source_org_id,
            "url": facts.source_url,
            "read_into": facts.source_stage_run,
        },
        "target": {"url": facts.target_url},
        "mapping_sha256": facts.mapping_sha256,
        "scope": [*SCOPE, *facts.notes],
        "totals": totals,
        "objects": {r.entry: r.summary() for r in results},
        "differences": {
            "missing_in_target": [d for r in results for d in r.missing_in_target],
            "extra_in_target": [d for r in results for d in r.extra_in_target],
            "field_differences": [d for r in results for d in r.field_differences],
        },
        "known_exceptions": [k for r in results for k in r.known_exceptions],
    }


def _cell(value: Any, width: int = 60) -> str:
    text = "(empty)" if value is None else str(value)
    text = " ".join(text.split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.replace("|", "\\|")


def _pair(a: str, b: str) -> str:
    return f"`{a[:12]}` = `{b[:12]}`" if a == b else f"`{a[:12]}` ≠ `{b[:12]}`"


def _difference_lines(doc: dict[str, Any]) -> list[str]:
    diffs = doc["differences"]
    rows: list[str] = []
    for d in diffs["missing_in_target"]:
        rows.append(
            f"| missing in target | {d['entry']} | {d['source_id']} | {d['target_id']} | | | |"
        )
    for d in diffs["extra_in_target"]:
        rows.append(
            f"| extra in target | {d['entry']} | {_cell(d.get('salesforce_id'))} | "
            f"{d['target_id']} | | | {_cell(d.get('reason'))} |"
        )
    for d in diffs["field_differences"]:
        rows.append(
            f"| field differs ({d['kind']}) | {d['entry']} | {d['source_id']} | {d['target_id']} "
            f"| {_cell(d['column'], 40)} | {_cell(d['expected'])} | {_cell(d['actual'])} |"
        )
    return rows


def render_markdown(doc: dict[str, Any]) -> str:
    """The certificate for a person: verdict first, then the table, then the differences."""
    totals = doc["totals"]
    out = [
        f"# Cutover certificate — run {doc['run_id']}",
        "",
        f"**{doc['verdict']}**",
        "",
        f"- Generated at: {doc['generated_at']}",
        f"- Source: Salesforce org {doc['source']['org_id']} ({doc['source']['url'] or 'n/a'})",
        f"- Target: {doc['target']['url'] or 'n/a'}",
        f"- Mapping sha256: `{doc['mapping_sha256']}`",
        f"- Runs whose quarantine counts as known exceptions: {', '.join(doc['runs'])}",
        f"- Identical: {'yes' if doc['identical'] else 'no'}; certified: "
        f"{'yes' if doc['certified'] else 'no'}",
        "",
        "## Objects",
        "",
        "Ids and fields: sha256 of the source side (expected rows) and of the target side; equal "
        "digests mean equal id sets and equal values. Full digests are in the JSON.",
        "",
        "| Object | Table | Source | Expected | Target | Known exceptions | Differences | Ids "
        "| Fields |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, o in doc["objects"].items():
        out.append(
            f"| {name} | {o['table']} | {o['source_count']} | {o['expected_count']} | "
            f"{o['target_count']} | {o['known_exceptions']} | {o['differences']} | "
            f"{_pair(o['expected_ids_sha256'], o['target_ids_sha256'])} | "
            f"{_pair(o['expected_fields_sha256'], o['target_fields_sha256'])} |"
        )
    out.append(
        f"| **total** | | {totals['source_count']} | {totals['expected_count']} | "
        f"{totals['target_count']} | {totals['known_exceptions']} | {totals['differences']} "
        "| | |"
    )
    out += ["", "## Differences", ""]
    lines = _difference_lines(doc)
    if not lines:
        out.append("None.")
    else:
        if len(lines) > MARKDOWN_LIMIT:
            out.append(
                f"The first {MARKDOWN_LIMIT} of {len(lines)}; every one is in {JSON_NAME} "
                "(`differences`)."
            )
            out.append("")
        out += [
            "| Difference | Object | Salesforce id | Target id | Column | Expected | Actual |",
            "|---|---|---|---|---|---|---|",
            *lines[:MARKDOWN_LIMIT],
        ]
    out += ["", "## Known exceptions", ""]
    known = doc["known_exceptions"]
    if not known:
        out.append("None.")
    else:
        out.append(
            f"{len(known)} records are not (as) in the target for a known, reported reason; "
            f"each is listed in {JSON_NAME} (`known_exceptions`) and in the runs' quarantine "
            "reports."
        )
        out += ["", "| Object | Reason code | Records |", "|---|---|---:|"]
        counts = Counter((k["entry"], k["reason_code"]) for k in known)
        for (entry, code), n in sorted(counts.items()):
            out.append(f"| {entry} | {code} | {n} |")
    out += ["", "## Scope", ""]
    out += [f"- {line}" for line in doc["scope"]]
    return "\n".join(out) + "\n"
