"""Salesforce owner → Dynamics ``systemuser``, never a disabled one.

Owners are matched by email (``internalemailaddress``, case-insensitive). An inactive Salesforce
owner, a disabled Dynamics user or no match at all gives the configured fallback owner and a
report entry; Dataverse silently mishandles activities owned by disabled users, so a record is
never written owned by one. Without a usable fallback owner the record is quarantined with a
hint to set ``dataverse.fallback_owner_email``.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.mapping.context import DynamicsUser, ResolutionContext

FALLBACK_HINT = (
    "set dataverse.fallback_owner_email to an enabled Dynamics user, or create/enable the user"
)


@dataclass(frozen=True)
class OwnerResolution:
    """The user to own the record, and why it is not the Salesforce owner (if it is not)."""

    user: DynamicsUser | None
    reason_code: str | None = None
    message: str | None = None
    hint: str | None = None


def resolve_owner(email: object, active: object, ctx: ResolutionContext) -> OwnerResolution:
    """Pick the Dynamics user that owns a migrated record.

    Args:
        email: The Salesforce owner's email (``Owner.Email``); None for queues without one.
        active: ``Owner.IsActive``; None when unknown (treated as active).
        ctx: Users by lowercase email and the fallback owner.

    Returns:
        ``user`` None means: no usable owner at all; quarantine with ``reason_code``.
    """
    address = email.strip() if isinstance(email, str) else ""
    user = ctx.users.get(address.lower()) if address else None
    if active is False:
        code, why = "OWNER_INACTIVE", f"Salesforce owner {address or '(no email)'} is inactive"
    elif user is None:
        code, why = (
            "OWNER_UNMAPPED",
            (f"owner {address} matches no Dynamics user" if address else "owner has no email"),
        )
    elif user.disabled:
        code, why = "OWNER_INACTIVE", f"Dynamics user {user.email} is disabled"
    else:
        return OwnerResolution(user)
    fallback = ctx.fallback_owner
    if fallback is None or fallback.disabled:
        state = "is disabled" if fallback else "is not configured"
        return OwnerResolution(None, code, f"{why} and the fallback owner {state}", FALLBACK_HINT)
    return OwnerResolution(
        fallback,
        code,
        f"{why}; owned by the fallback owner {fallback.email}",
        "reassign in Dynamics after cutover"
        if code == "OWNER_INACTIVE"
        else "create the user in Dynamics or map the email, then reassign",
    )
