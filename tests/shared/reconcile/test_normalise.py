"""Field comparison after normalisation, and the class of each difference."""

from __future__ import annotations

import pytest

from shared.reconcile.normalise import actual_column, compare_value

NAV = "@Microsoft.Dynamics.CRM.associatednavigationproperty"
G = "6f1f3c52-2a4b-5d43-9b0e-8f2d7c1a4e10"


@pytest.mark.parametrize(
    "key,expected,actual",
    [
        ("revenue", 5000000, "5000000.0000"),
        ("revenue", 1000.25, 1000.25),
        ("name", "  Acme  ", "Acme"),
        ("description", "a\r\nb", "a\nb"),
        ("description", "", None),
        ("actualstart", "2024-05-01T12:00:00.000+0000", "2024-05-01T12:00:00Z"),
        ("actualstart", "2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z"),
        ("actualstart", "2024-05-01T12:00:00.450Z", "2024-05-01T12:00:00Z"),
        ("birthdate", "1980-02-29", "1980-02-29"),
        ("overriddencreatedon", "2024-05-01", "2024-05-01T00:00:00Z"),
        ("industrycode", 7, 7),
        ("lfwd_tags", "727000000,727000002", "727000000,727000002"),
        ("donotemail", True, True),
        ("parentaccountid@odata.bind", f"/accounts({G.upper()})", G),
        ("parentaccountid@odata.bind", None, None),
    ],
)
def test_equal_after_normalisation(key: str, expected: object, actual: object) -> None:
    verdict = compare_value(key, expected, actual)
    assert verdict.matches, verdict


@pytest.mark.parametrize(
    "key,expected,actual,kind",
    [
        ("name", "Acme Corporation", "Acme Corp", "truncated"),
        ("name", "Acme", "ACME", "case_changed"),
        ("name", "Acme  Corp", "Acme Corp", "whitespace_changed"),
        ("name", "Acme", "Other", "value_mismatch"),
        ("name", "Acme", None, "missing_value"),
        ("name", None, "Acme", "unexpected_value"),
        ("revenue", 1000.25, "1000.2000", "rounded"),
        ("revenue", 1000, 2000, "value_mismatch"),
        ("actualstart", "2024-05-01T12:00:00Z", "2024-05-01T10:00:00Z", "timezone_shift"),
        ("actualstart", "2024-05-01T12:00:00Z", "2024-05-03T12:00:07Z", "value_mismatch"),
        ("parentaccountid@odata.bind", f"/accounts({G})", None, "lookup_missing"),
        ("parentaccountid@odata.bind", f"/accounts({G})", G.replace("6f", "00"), "lookup_mismatch"),
        ("industrycode", 7, "seven", "type_mismatch"),
    ],
)
def test_differences_are_classified(key: str, expected: object, actual: object, kind: str) -> None:
    verdict = compare_value(key, expected, actual)
    assert not verdict.matches
    assert verdict.kind == kind


def test_lookup_column_found_by_navigation_annotation_or_name() -> None:
    row = {
        "_parentcustomerid_value": G,
        "_parentcustomerid_value" + NAV: "parentcustomerid_account",
        "_ownerid_value": G,
    }
    assert actual_column(row, "parentcustomerid_account@odata.bind") == "_parentcustomerid_value"
    assert actual_column(row, "ownerid@odata.bind") == "_ownerid_value"
    assert (
        actual_column({"_regardingobjectid_value": G}, "regardingobjectid_account_task@odata.bind")
        == "_regardingobjectid_value"
    )
    assert actual_column(row, "name") is None
