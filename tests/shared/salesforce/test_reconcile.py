"""Counts reconcile, or the difference is explained, or a person is told to look."""

from __future__ import annotations

from shared.salesforce.reconcile import ObjectResult, reconcile


def _result(start: int, end: int, got: int) -> ObjectResult:
    r = ObjectResult("Contact", "rest", ["Id"], None, False)
    r.source_count, r.source_count_end, r.extracted = start, end, got
    return reconcile(r)


def test_equal_counts_reconcile() -> None:
    r = _result(10, 10, 10)
    assert (r.status, r.explanation) == ("reconciled", "10 extracted = 10 in source")


def test_changes_during_extraction_are_explained() -> None:
    r = _result(10, 12, 11)
    assert r.status == "explained"
    assert "moved from 10 to 12" in r.explanation and "delta" in r.explanation
    assert _result(10, 8, 9).status == "explained"


def test_anything_else_is_unexplained_and_says_what_to_do() -> None:
    r = _result(10, 10, 9)
    assert r.status == "unexplained"
    assert "(-1)" in r.explanation and "re-run extraction" in r.explanation


def test_file_errors_are_mentioned() -> None:
    r = ObjectResult("ContentVersion", "rest", ["Id"], None, False, 1, 1, 1)
    r.file_errors.append({"object": "ContentVersion", "id": "068", "error": "NOT_FOUND"})
    assert "1 file bodies could not be downloaded" in reconcile(r).explanation


def test_round_trip_ignores_unknown_keys() -> None:
    r = _result(3, 3, 3)
    data = {**r.to_dict(), "added_by_a_newer_version": 1}
    assert ObjectResult.from_dict(data) == r
