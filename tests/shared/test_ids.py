"""Deterministic ids: the same record always lands on the same Dataverse key."""

from __future__ import annotations

import uuid

import pytest

from shared.ids import derived_id, org_namespace, target_id, to_18


def test_to_18_matches_salesforce_case_safe_suffix() -> None:
    # Known pair from Salesforce documentation examples.
    assert to_18("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    assert to_18("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC"


@pytest.mark.parametrize("bad", ["", "001", "001A0000006Vm9r!", "001A0000006Vm9rIA"])
def test_to_18_rejects_non_ids(bad: str) -> None:
    with pytest.raises(ValueError, match="Salesforce id"):
        to_18(bad)


def test_target_ids_are_stable_and_distinct() -> None:
    ns = org_namespace("00D000000000001EAA")
    a = target_id(ns, "Contact", "003000000000001AAA")
    assert a == target_id(ns, "Contact", "003000000000001AAA")
    assert a == target_id(ns, "Contact", "003000000000001")  # 15-char form, same record
    assert a != target_id(ns, "Lead", "003000000000001AAA")
    assert a != target_id(org_namespace("00D000000000002EAA"), "Contact", "003000000000001AAA")
    assert uuid.UUID(a).version == 5


def test_case_sensitive_ids_do_not_collide() -> None:
    # Salesforce ids differ only by case; Dataverse compares strings case-insensitively,
    # so the GUID (not the raw id) must separate them.
    ns = org_namespace("00D000000000001EAA")
    assert target_id(ns, "Contact", "003000000000abc") != target_id(
        ns, "Contact", "003000000000ABC"
    )


def test_derived_ids_differ_by_role() -> None:
    ns = org_namespace("00D000000000001EAA")
    base = target_id(ns, "leadfwd__Sequence_Enrollment__c", "a01000000000001AAA")
    note = derived_id(ns, "leadfwd__Sequence_Enrollment__c", "a01000000000001AAA", "note")
    assert note != base
