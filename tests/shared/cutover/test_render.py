"""The certificate document and its markdown: verdict first, table, then the differences."""

from __future__ import annotations

from typing import Any

from shared.cutover.compare import EntryResult
from shared.cutover.render import MARKDOWN_LIMIT, CertificateFacts, build, render_markdown

FACTS = CertificateFacts(
    run_id="run-1",
    runs=["run-1"],
    generated_at="2026-11-28T12:00:00+00:00",
    source_org_id="00D000000000001AAA",
    source_url="https://acme.my.salesforce.com",
    target_url="https://acme.crm.dynamics.com",
    mapping_sha256="ab" * 32,
    source_stage_run="run-1.certify",
)


def result(name: str = "contact", **lists: list[dict[str, Any]]) -> EntryResult:
    r = EntryResult(name, "Contact", "contact", "lfwd_sfcontactid", 3, 2, 2, "a" * 64, "a" * 64)
    r.expected_fields_sha256 = r.target_fields_sha256 = "f" * 64
    for key, items in lists.items():
        setattr(r, key, items)
    return r


def field_diff(i: int, actual: str = "Byron") -> dict[str, Any]:
    return {
        "entry": "contact",
        "table": "contact",
        "source_object": "Contact",
        "source_id": f"003{i:015d}",
        "target_id": f"id-{i}",
        "column": "lastname",
        "kind": "value_mismatch",
        "expected": "Lovelace",
        "actual": actual,
    }


KNOWN = {
    "entry": "contact",
    "source_object": "Contact",
    "source_id": "003000000000000009",
    "target_id": "id-9",
    "reason_code": "INVALID_EMAIL",
    "origin": "quarantine:run-1",
    "in_target": False,
}


def test_identical_when_nothing_differs_and_nothing_is_excepted() -> None:
    doc = build(FACTS, [result(), result("account")])
    assert doc["identical"] and doc["certified"]
    assert doc["verdict"].startswith("IDENTICAL:")
    assert doc["totals"]["objects"] == 2 and doc["totals"]["expected_count"] == 4
    assert doc["source"]["org_id"] == FACTS.source_org_id
    assert doc["target"]["url"] == FACTS.target_url
    assert doc["objects"]["contact"]["scope"] == "rows with lfwd_sfcontactid"


def test_certified_with_known_exceptions_is_not_identical() -> None:
    doc = build(FACTS, [result(known_exceptions=[KNOWN])])
    assert doc["certified"] and not doc["identical"]
    assert doc["verdict"].startswith("CERTIFIED:") and "1 known exceptions" in doc["verdict"]
    assert doc["known_exceptions"] == [KNOWN]


def test_any_difference_voids_the_certificate_and_every_one_is_in_the_json() -> None:
    missing = {k: field_diff(1)[k] for k in ("entry", "table", "source_object", "source_id")}
    missing["target_id"] = "id-m"
    doc = build(
        FACTS,
        [result(field_differences=[field_diff(1), field_diff(2)], missing_in_target=[missing])],
    )
    assert not doc["certified"] and not doc["identical"]
    assert doc["verdict"] == (
        "NOT CERTIFIED: 3 unexplained differences (1 missing in the target, 0 extra in the "
        "target, 2 field differences)."
    )
    assert len(doc["differences"]["field_differences"]) == 2
    assert doc["differences"]["missing_in_target"] == [missing]
    assert doc["objects"]["contact"]["differences"] == 3


def test_markdown_opens_with_the_verdict_then_the_table() -> None:
    doc = build(FACTS, [result(known_exceptions=[KNOWN])])
    lines = render_markdown(doc).splitlines()
    assert lines[0] == "# Cutover certificate — run run-1"
    assert lines[2] == f"**{doc['verdict']}**"
    table = lines.index("## Objects")
    row = next(line for line in lines[table:] if line.startswith("| contact |"))
    assert "| contact | contact | 3 | 2 | 2 | 1 | 0 |" in row
    assert "`aaaaaaaaaaaa` = `aaaaaaaaaaaa`" in row
    assert "| contact | INVALID_EMAIL | 1 |" in lines
    assert lines[lines.index("## Differences") + 2] == "None."


def test_markdown_lists_the_first_differences_and_points_to_the_json() -> None:
    diffs = [field_diff(i, actual="a|b") for i in range(MARKDOWN_LIMIT + 5)]
    text = render_markdown(build(FACTS, [result(field_differences=diffs)]))
    assert f"The first {MARKDOWN_LIMIT} of {MARKDOWN_LIMIT + 5}" in text
    assert "cutover-certificate.json" in text
    rows = [line for line in text.splitlines() if line.startswith("| field differs")]
    assert len(rows) == MARKDOWN_LIMIT
    assert "a\\|b" in rows[0]  # a pipe in a value does not break the table


def test_markdown_shows_unequal_digests() -> None:
    r = result()
    r.target_ids_sha256 = "b" * 64
    text = render_markdown(build(FACTS, [r]))
    assert "`aaaaaaaaaaaa` ≠ `bbbbbbbbbbbb`" in text
