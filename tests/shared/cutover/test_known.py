"""Known exceptions: what the runs quarantined, the latest run deciding."""

from __future__ import annotations

from typing import Any

from shared.cutover.known import RunOutcomes, fold_runs

A1, A2 = "001000000000001AAA", "001000000000002AAA"


def q(sid: str, code: str, outcome: str = "quarantined", obj: str = "Account") -> dict[str, Any]:
    return {
        "source_object": obj,
        "source_id": sid,
        "reason_code": code,
        "outcome": outcome,
        "message": f"{obj} {sid}: {code}",
    }


def test_a_run_s_quarantine_is_its_known_exceptions_with_reason_and_origin() -> None:
    known = fold_runs(
        [
            RunOutcomes(
                "run1",
                [
                    ("account", q(A1, "TEXT_TOO_LONG")),
                    ("lead", q(A2, "CONVERTED_LEAD", "skipped_by_policy", "Lead")),
                ],
            )
        ]
    )
    assert set(known) == {("Account", A1), ("Lead", A2)}
    item = known[("Account", A1)]
    assert (item.reason_code, item.origin, item.unit, item.outcome) == (
        "TEXT_TOO_LONG",
        "quarantine:run1",
        "account",
        "quarantined",
    )
    assert known[("Lead", A2)].outcome == "skipped_by_policy"
    assert item.to_dict()["message"] == f"Account {A1}: TEXT_TOO_LONG"


def test_one_exception_per_record_with_the_first_reason_the_run_gave() -> None:
    known = fold_runs(
        [RunOutcomes("r", [("account", q(A1, "TARGET_REJECTED")), ("account", q(A1, "LINK_X"))])]
    )
    assert [k.reason_code for k in known.values()] == ["TARGET_REJECTED"]


def test_fifteen_character_ids_are_widened_like_the_transform_does() -> None:
    known = fold_runs([RunOutcomes("r", [("account", q(A1[:15], "TEXT_TOO_LONG"))])])
    assert set(known) == {("Account", A1)}


def test_a_later_run_that_wrote_the_record_clears_the_exception() -> None:
    known = fold_runs(
        [
            RunOutcomes("migration", [("account", q(A1, "TEXT_TOO_LONG"))]),
            RunOutcomes("delta", [], written=[("Account", A1)]),
        ]
    )
    assert known == {}


def test_a_later_run_s_quarantine_replaces_the_earlier_reason() -> None:
    known = fold_runs(
        [
            RunOutcomes("migration", [("account", q(A1, "TEXT_TOO_LONG"))]),
            RunOutcomes("delta", [("account", q(A1, "SOURCE_DELETED", "skipped_by_policy"))]),
        ]
    )
    assert known[("Account", A1)].origin == "quarantine:delta"
    assert known[("Account", A1)].reason_code == "SOURCE_DELETED"


def test_within_one_run_a_quarantined_link_wins_over_the_written_row() -> None:
    # The second pass refused the link of a row the load wrote: the row is not as the source.
    known = fold_runs(
        [
            RunOutcomes("m", []),
            RunOutcomes("d", [("account", q(A1, "LINK_REJECTED"))], written=[("Account", A1)]),
        ]
    )
    assert known[("Account", A1)].reason_code == "LINK_REJECTED"


def test_rows_without_a_record_reference_are_ignored() -> None:
    assert fold_runs([RunOutcomes("r", [("account", {"reason_code": "X"})])]) == {}
