"""Owners by email, never a disabled user; fallback owner with a report entry."""

from __future__ import annotations

import uuid
from typing import Any

from shared.mapping.context import DynamicsUser, ResolutionContext, users_by_email
from shared.mapping.owners import resolve_owner

ANA = DynamicsUser("u-ana", "ana@acme.example")
OLD = DynamicsUser("u-old", "old@acme.example", disabled=True)
FALLBACK = DynamicsUser("u-fb", "fallback@acme.example")


def ctx(fallback: DynamicsUser | None = FALLBACK) -> ResolutionContext:
    return ResolutionContext(
        namespace=uuid.uuid4(),
        users={u.email: u for u in (ANA, OLD)},
        fallback_owner=fallback,
    )


def test_owner_matched_case_insensitively() -> None:
    res = resolve_owner("ANA@Acme.Example ", True, ctx())
    assert res.user == ANA and res.reason_code is None


def test_inactive_salesforce_owner_gets_fallback_even_if_dynamics_user_exists() -> None:
    res = resolve_owner("ana@acme.example", False, ctx())
    assert res.user == FALLBACK and res.reason_code == "OWNER_INACTIVE"


def test_disabled_dynamics_user_is_never_the_owner() -> None:
    res = resolve_owner("old@acme.example", True, ctx())
    assert res.user == FALLBACK and res.reason_code == "OWNER_INACTIVE"
    assert "disabled" in (res.message or "")


def test_unknown_email_and_queue_without_email_are_unmapped() -> None:
    assert resolve_owner("nobody@acme.example", True, ctx()).reason_code == "OWNER_UNMAPPED"
    assert resolve_owner(None, None, ctx()).reason_code == "OWNER_UNMAPPED"


def test_without_fallback_the_record_cannot_be_owned() -> None:
    res = resolve_owner("nobody@acme.example", True, ctx(fallback=None))
    assert res.user is None and res.reason_code == "OWNER_UNMAPPED"
    assert "dataverse.fallback_owner_email" in (res.hint or "")
    disabled_fallback = resolve_owner("old@acme.example", True, ctx(fallback=OLD))
    assert disabled_fallback.user is None


def test_users_by_email_prefers_the_enabled_duplicate() -> None:
    rows: list[dict[str, Any]] = [
        {"systemuserid": "a", "internalemailaddress": "X@acme.example", "isdisabled": True},
        {"systemuserid": "b", "internalemailaddress": "x@acme.example", "isdisabled": False},
        {"systemuserid": "c", "internalemailaddress": None},
    ]
    users = users_by_email(rows)
    assert users == {"x@acme.example": DynamicsUser("b", "x@acme.example", False)}
