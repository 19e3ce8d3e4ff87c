"""What the reviewer sees: the terminal list and the static mapping-review.html page."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from shared.mapping_review.gate import confirm
from shared.mapping_review.mapping_file import build_mapping, render_mapping
from shared.mapping_review.metadata import read_source_dir, read_target_dir
from shared.mapping_review.propose import propose, read_proposal_json, write_proposal_json
from shared.mapping_review.review import (
    file_note,
    grouped,
    load_review,
    print_review,
    render_html,
)


@pytest.fixture
def proposed(vendor_dirs: tuple[Path, Path], tmp_path: Path) -> Path:
    sources = read_source_dir(vendor_dirs[0])
    proposal = propose(sources, read_target_dir(vendor_dirs[1]))
    out = tmp_path / "map.yaml"
    out.write_text(render_mapping(build_mapping(proposal, sources), str(out)), encoding="utf-8")
    write_proposal_json(proposal, out)
    return out


def _entries(path: Path) -> list[dict[str, Any]]:
    return read_proposal_json(path.with_name(path.name + ".proposal.json"))


def test_groups_by_object_lowest_confidence_first(proposed: Path) -> None:
    groups = grouped(_entries(proposed))
    assert "Contact → contact" in groups and "Task → phonecall" in groups
    for entries in groups.values():
        confidences = [e["confidence"] for e in entries]
        assert confidences == sorted(confidences)


def test_terminal_view_shows_state_groups_and_unresolved(proposed: Path) -> None:
    buf = io.StringIO()
    print_review(load_review(proposed, _entries(proposed)), Console(file=buf, width=220))
    text = buf.getvalue()
    assert text.startswith(f"{proposed}: proposed")
    assert "Contact → contact" in text and "low confidence" in text
    assert "UNMATCHED VALUES: Phone Inquiry" in text
    assert "contact.ReportsToId: needs a new lookup column" in text


def test_page_lists_every_decision_with_confidence_and_evidence(proposed: Path) -> None:
    entries = _entries(proposed)
    page = render_html(load_review(proposed, entries))
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert page.count("<tr class=") == len(entries)
    assert "Status: <b>proposed</b>" in page
    assert "known correspondence: job title" in page
    assert "Fields with no existing column" in page
    assert "NO OPTION" in page  # picklist values without a destination are visible
    assert re.search(r"sha256 of the file reviewed: <code>[0-9a-f]{64}</code>", page)


def test_page_escapes_what_came_from_metadata(proposed: Path) -> None:
    entries = _entries(proposed)
    entries[0]["source_label"] = "<img src=x onerror=alert(1)>"
    page = render_html(load_review(proposed, entries))
    assert "<img src=x" not in page and "&lt;img src=x" in page


def test_page_shows_edits_made_after_the_proposal_and_the_confirmation(proposed: Path) -> None:
    text = proposed.read_text(encoding="utf-8")
    edited = text.replace("target: emailaddress1\n", "target: emailaddress2\n", 1)
    assert edited != text
    proposed.write_text(edited, encoding="utf-8")
    confirm(proposed, "Dana Admin")
    review = load_review(proposed, _entries(proposed))
    email = next(
        e
        for e in review.entries
        if e["target_column"] == "emailaddress1" and e["target_table"] == "account"
    )
    assert file_note(review, email) == "file says account.emailaddress2"
    page = render_html(review)
    assert "confirmed by Dana Admin" in page
    assert "edited: file says account.emailaddress2" in page
