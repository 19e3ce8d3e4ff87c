"""Show a proposal to the people who check it: in the terminal, and as a static HTML page.

The terminal view is for the engineer working through the list: grouped by object pair, lowest
confidence first, so the decisions that need a human come first. ``mapping-review.html`` is for
the person who signs off: every decision with its confidence and evidence, the fields that get
new columns or are skipped, picklist values with no destination, anything the mapping file
could not express, and where the mapping file now differs from what was proposed. The page is
self-contained (no scripts, no external assets) so it can be mailed or archived with the run.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shared.errors import ConfigError
from shared.mapping.loader import load_mapping
from shared.mapping.models import Mapping
from shared.mapping_review.gate import sha256_of, status
from shared.mapping_review.matcher import LOW_CONFIDENCE

Entry = dict[str, Any]


@dataclass
class ReviewInput:
    """What a review shows: the proposal entries and the mapping file's current state."""

    mapping_path: Path
    entries: list[Entry]
    state: str = "proposed"
    confirmed_by: str | None = None
    confirmed_at: str | None = None
    sha256: str = ""
    in_file: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    mapping_error: str | None = None
    unresolved: list[str] = field(default_factory=list)


def _targets_in_file(mapping: Mapping) -> dict[tuple[str, str], set[str]]:
    """(source object, source field) → every target the mapping file now gives it."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    tables = {o.target for o in mapping.objects}
    for obj in mapping.objects:
        key = obj.source
        for fm in obj.fields:
            for src in [fm.source] if fm.source else list(fm.sources or []):
                out[(key, src)].add(f"{obj.target}.{fm.target}")
        for lk in obj.lookups:
            # Customer lookups bind through a per-table navigation (parentcustomerid_account).
            head, _, tail = lk.nav.rpartition("_")
            out[(key, lk.source)].add(f"{obj.target}.{head if head and tail in tables else lk.nav}")
        if obj.parent is not None:
            col = "regardingobjectid" if obj.parent.binding == "regarding" else "objectid"
            for cand in obj.parent.candidates:
                out[(key, cand.source)].add(f"{obj.target}.{col}")
        if obj.parties:
            roles = obj.parties.model_dump(by_alias=True)
            for party, given in roles.items():
                for who in [given] if isinstance(given, str) else list(given or []):
                    if not who.startswith("$"):
                        out[(key, who)].add(f"{obj.target}.{party}")
        if obj.owner:
            out[(key, obj.owner.email.split(".")[0] + "Id")].add(f"{obj.target}.ownerid")
    return dict(out)


def load_review(mapping_path: Path, entries: list[Entry]) -> ReviewInput:
    """Gather the proposal and the mapping file's state (confirmation, hash, current targets)."""
    review = ReviewInput(mapping_path=mapping_path, entries=entries)
    if not mapping_path.is_file():
        review.mapping_error = f"mapping file {mapping_path} does not exist"
        return review
    review.sha256 = sha256_of(mapping_path)
    state, record = status(mapping_path)
    review.state = state
    if record is not None:
        review.confirmed_by = record.by
        review.confirmed_at = record.at.strftime("%Y-%m-%d %H:%M UTC")
    try:
        review.in_file = _targets_in_file(load_mapping(mapping_path))
    except ConfigError as exc:
        review.mapping_error = str(exc)
    text = mapping_path.read_text(encoding="utf-8")
    review.unresolved = [line[4:].strip() for line in text.splitlines() if line.startswith("#   ")]
    return review


def file_note(review: ReviewInput, e: Entry) -> str | None:
    """How the mapping file now differs from this proposed decision, if it does."""
    if review.mapping_error or not review.in_file:
        return None
    now = review.in_file.get((e["source_object"], e["source_field"]), set())
    here = {t for t in now if t.split(".")[0] == e["target_table"]}
    proposed = f"{e['target_table']}.{e['target_column']}" if e["action"] != "skip" else None
    if proposed and proposed not in here:
        return "not in the mapping file" if not here else "file says " + ", ".join(sorted(here))
    if not proposed and here:
        return "file maps it to " + ", ".join(sorted(here))
    return None


def grouped(entries: Iterable[Entry]) -> dict[str, list[Entry]]:
    """Entries by ``Object → table``, each group lowest confidence first."""
    groups: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        groups[f"{e['source_object']} → {e['target_table'] or '(no table)'}"].append(e)
    return {
        k: sorted(v, key=lambda e: (e["confidence"], e["source_field"]))
        for k, v in sorted(groups.items())
    }


def _target_text(e: Entry) -> str:
    if e["action"] == "map":
        return str(e["target_column"])
    if e["action"] == "new_column":
        col = e.get("new_column") or {}
        return f"NEW {e['target_column']} ({col.get('attribute_type', '?')})"
    return "(skip)"


def _why(e: Entry) -> str:
    ev = e.get("evidence") or []
    strongest = sorted(ev, key=lambda x: -abs(float(x.get("weight", 0))))[:2]
    return "; ".join(str(x["detail"]) for x in strongest)


def unmatched_values(e: Entry) -> list[str]:
    """Source picklist values with no destination option."""
    return [str(c["source_value"]) for c in e.get("choices") or [] if c["how"] == "unmatched"]


def print_review(review: ReviewInput, console: Console, *, limit: int | None = None) -> None:
    """The terminal view: a header with the gate state, then one table per object pair."""
    head = f"{review.mapping_path}: {review.state}"
    if review.confirmed_by:
        head += f" (confirmed by {review.confirmed_by} at {review.confirmed_at})"
    console.print(head, highlight=False)
    if review.mapping_error:
        console.print(f"mapping file problem: {review.mapping_error}", highlight=False)
    for title, entries in grouped(review.entries).items():
        low = sum(1 for e in entries if e["confidence"] < LOW_CONFIDENCE)
        table = Table(
            title=f"{title}  ({len(entries)} fields, {low} low confidence)",
            title_justify="left",
            show_lines=False,
        )
        for col in ("conf", "field", "type", "target", "why"):
            table.add_column(col, overflow="fold")
        for e in entries[:limit] if limit else entries:
            why = _why(e)
            missing = unmatched_values(e)
            if missing:
                why += f"; UNMATCHED VALUES: {', '.join(missing)}"
            note = file_note(review, e)
            if note:
                why += f"; EDITED: {note}"
            table.add_row(
                f"{e['confidence']:.2f}", e["source_field"], e["source_type"], _target_text(e), why
            )
        console.print(table)
    if review.unresolved:
        console.print("Unresolved (settle by hand before confirming):", highlight=False)
        for line in review.unresolved:
            console.print(f"  {line}", highlight=False)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:2em}
th,td{border:1px solid #ccc;padding:4px 6px;vertical-align:top;font-size:13px;text-align:left}
th{background:#f2f2f2}.low{background:#fff3cd}.new{color:#0b5394}.skip{color:#777}
.warn{color:#a61c00;font-weight:bold}code{font-size:12px}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _row(review: ReviewInput, e: Entry) -> str:
    cls = "low" if e["confidence"] < LOW_CONFIDENCE else ""
    evidence = "".join(
        f"<li><b>{_e(x['kind'])}</b> {_e(x['detail'])}</li>" for x in e.get("evidence") or []
    )
    alts = ", ".join(f"{_e(a['column'])} ({a['score']:.2f})" for a in e.get("alternatives") or [])
    choices = ""
    if e.get("choices"):
        items = "".join(
            f"<li class='{'warn' if c['how'] == 'unmatched' else ''}'>{_e(c['source_label'])} → "
            f"{_e(c['target_label'] if c['target_value'] is not None else 'NO OPTION')}"
            f" <small>({_e(c['how'])})</small></li>"
            for c in e["choices"]
        )
        choices = f"<details><summary>values</summary><ul>{items}</ul></details>"
    note = file_note(review, e)
    note_html = f"<div class='warn'>edited: {_e(note)}</div>" if note else ""
    target_cls = {"new_column": "new", "skip": "skip"}.get(e["action"], "")
    return (
        f"<tr class='{cls}'><td>{e['confidence']:.2f}</td><td><code>{_e(e['source_field'])}</code>"
        f"<br><small>{_e(e['source_label'])} · {_e(e['source_type'])}</small></td>"
        f"<td class='{target_cls}'><code>{_e(_target_text(e))}</code>{note_html}</td>"
        f"<td><ul>{evidence}</ul>{choices}</td><td>{alts}</td></tr>"
    )


def render_html(review: ReviewInput) -> str:
    """The whole ``mapping-review.html`` page."""
    groups = grouped(review.entries)
    state = _e(review.state)
    if review.confirmed_by:
        state += f" — confirmed by {_e(review.confirmed_by)} at {_e(review.confirmed_at)}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Mapping review: {_e(review.mapping_path.name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Mapping review: {_e(review.mapping_path.name)}</h1>",
        f"<p>Status: <b>{state}</b><br>sha256 of the file reviewed: <code>{_e(review.sha256)}"
        "</code></p>",
        "<p>Confirm with <code>./migrate confirm-map "
        f"{_e(review.mapping_path)} --by NAME</code>. "
        "Any edit after confirming invalidates it.</p>",
    ]
    if review.mapping_error:
        parts.append(
            f"<p class='warn'>The mapping file does not load: {_e(review.mapping_error)}</p>"
        )
    if review.unresolved:
        items = "".join(f"<li>{_e(u)}</li>" for u in review.unresolved)
        parts.append(f"<h2>Unresolved</h2><ul class='warn'>{items}</ul>")
    summary = "".join(
        f"<tr><td>{_e(t)}</td><td>{len(es)}</td>"
        f"<td>{sum(e['action'] == 'map' for e in es)}</td>"
        f"<td>{sum(e['action'] == 'new_column' for e in es)}</td>"
        f"<td>{sum(e['action'] == 'skip' for e in es)}</td>"
        f"<td>{sum(e['confidence'] < LOW_CONFIDENCE for e in es)}</td>"
        f"<td>{sum(len(unmatched_values(e)) for e in es)}</td></tr>"
        for t, es in groups.items()
    )
    parts.append(
        "<h2>Summary</h2><table><tr><th>object → table</th><th>fields</th><th>mapped</th>"
        "<th>new columns</th><th>skipped</th><th>low confidence</th>"
        f"<th>unmatched picklist values</th></tr>{summary}</table>"
    )
    for title, es in groups.items():
        parts.append(f"<h2>{_e(title)}</h2><p>Lowest confidence first.</p>")
        parts.append(
            "<table><tr><th>confidence</th><th>source field</th><th>target</th>"
            "<th>evidence</th><th>alternatives</th></tr>"
            + "".join(_row(review, e) for e in es)
            + "</table>"
        )
    unmapped = [e for e in review.entries if e["action"] != "map"]
    items = "".join(
        f"<li><code>{_e(e['source_object'])}.{_e(e['source_field'])}</code> → "
        f"{_e(_target_text(e))}: {_e(_why(e))}</li>"
        for e in sorted(unmapped, key=lambda e: (e["source_object"], e["source_field"]))
    )
    parts.append(f"<h2>Fields with no existing column ({len(unmapped)})</h2><ul>{items}</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)
