"""A delta's context: the previous run's facts, with what changed taken out and put back."""

from __future__ import annotations

import uuid

from shared.delta.context import merge_context
from shared.ids import target_id
from shared.mapping.context import Flag, ResolutionContext

NS = uuid.uuid5(uuid.NAMESPACE_URL, "org")
A1, A2, A3 = "001000000000001AAA", "001000000000002AAA", "001000000000003AAA"
C1, C2 = "003000000000001AAA", "003000000000002AAA"


def previous() -> ResolutionContext:
    return ResolutionContext(
        namespace=NS,
        run_id="m1",
        migrated={"Account": frozenset({A1, A2}), "Contact": frozenset({C1})},
        present={"Account": frozenset({A1, A2}), "Contact": frozenset({C1})},
        flags={("Contact", C1): (Flag("NO_EXTERNAL_ID", "old"),)},
        cut_links=frozenset({("Account", A2, "ParentId")}),
        addresses={"ann@example.com": ("contacts", target_id(NS, "Contact", C1))},
    )


def test_changed_and_deleted_records_replace_their_old_facts() -> None:
    own = ResolutionContext(
        namespace=NS,
        run_id="d1",
        migrated={"Account": frozenset({A3}), "Contact": frozenset({C2})},
        present={"Account": frozenset({A3}), "Contact": frozenset({C2})},
        addresses={"bob@example.com": ("contacts", target_id(NS, "Contact", C2))},
    )
    merged = merge_context(
        previous(),
        own,
        changed={"Account": {A3, A2}, "Contact": {C1, C2}},
        deleted={"Account": {A2}, "Contact": {C1}},
    )
    assert merged.run_id == "d1"
    assert merged.migrated["Account"] == {A1, A3}  # A2 deleted, A3 new, A1 untouched
    assert merged.migrated["Contact"] == {C2}
    assert merged.present["Account"] == {A1, A3}
    assert ("Contact", C1) not in merged.flags  # the changed record's old flag is gone
    assert merged.cut_links == frozenset()  # A2's cut link went with it
    assert set(merged.addresses) == {"bob@example.com"}  # the deleted person's address too


def test_a_changed_person_sharing_an_earlier_persons_email_is_reported_not_merged() -> None:
    own = ResolutionContext(
        namespace=NS,
        run_id="d1",
        migrated={"Contact": frozenset({C2})},
        present={"Contact": frozenset({C2})},
    )
    merged = merge_context(
        previous(),
        own,
        changed={"Contact": {C2}},
        deleted={},
        email_of={("Contact", C2): "ann@example.com"},
        email_field="Email",
    )
    (flag,) = merged.flags[("Contact", C2)]
    assert flag.reason_code == "DUPLICATE_EMAIL" and flag.field == "Email"
    assert flag.outcome == "written_with_fallback"
    assert merged.migrated["Contact"] == {C1, C2}  # both kept
    # The earlier person keeps the address (parties resolve to the first one).
    assert merged.addresses["ann@example.com"][1] == target_id(NS, "Contact", C1)
