"""Activity fidelity: regarding/object navigations, activity parties and closing state.

Salesforce's polymorphic ``WhoId``/``WhatId`` become the per-relationship navigation
Dataverse needs (``regardingobjectid_contact_email``); notes bind ``objectid_<table>``.
Parties are resolved to the migrated contact, lead or Dynamics user by id or address, else
kept as ``addressused``. Activities are created open; ``TargetRow.close`` carries the state
the loader PATCHes afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.ids import target_id
from shared.mapping.context import DynamicsUser, ResolutionContext
from shared.mapping.models import CloseRule, RouteMap

KEY_PREFIXES: dict[str, str] = {
    "001": "Account",
    "003": "Contact",
    "00Q": "Lead",
    "006": "Opportunity",
    "005": "User",
    "500": "Case",
    "701": "Campaign",
}
"""Standard key prefixes, used when a polymorphic reference comes without its ``.Type``."""

PARTY_MASKS: dict[str, int] = {"from_": 1, "to": 2, "cc": 3, "bcc": 4}
_SPLIT = re.compile(r"[;,]")
_SF_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")


def sobject_of(sf_id: str, type_value: Any) -> str | None:
    """The Salesforce object of a polymorphic reference (``Who.Type``, else its key prefix)."""
    if isinstance(type_value, str) and type_value:
        return type_value
    return KEY_PREFIXES.get(sf_id[:3])


def parent_nav(binding: str, parent_table: str, own_table: str) -> str:
    """``regardingobjectid_<parent>_<activity>`` for activities, ``objectid_<parent>`` for notes."""
    if binding == "regarding":
        return f"regardingobjectid_{parent_table}_{own_table}"
    return f"objectid_{parent_table}"


def matches(rule: RouteMap, record: Mapping[str, Any]) -> bool:
    """True when the record's ``rule.field`` is one of ``rule.in_``.

    ``null``, ``true`` and ``false`` match only themselves; other values compare as text, so
    a picklist label or a number written in the YAML matches the staged value.
    """
    value = record.get(rule.field)
    for wanted in rule.in_:
        if wanted is None or isinstance(wanted, bool):
            if value is wanted:
                return True
        elif value is not None and not isinstance(value, bool) and str(value) == str(wanted):
            return True
    return False


def close_state(rules: list[CloseRule], record: Mapping[str, Any]) -> dict[str, int] | None:
    """The first rule whose conditions all hold; None leaves the row open."""
    for rule in rules:
        if all(matches(w, record) for w in rule.when):
            if rule.statecode == 0:
                return None
            return {"statecode": rule.statecode, "statuscode": rule.statuscode}
    return None


def party_for_user(user: DynamicsUser, mask: int) -> dict[str, Any]:
    """A party bound to a Dynamics user."""
    return {
        "partyid_systemuser@odata.bind": f"/systemusers({user.id})",
        "participationtypemask": mask,
    }


def party_references(
    spec: Mapping[str, str | list[str] | None],
    record: Mapping[str, Any],
    ids: set[str],
    emails: set[str],
) -> None:
    """Add what :func:`resolve_parties` will ask the context about one record.

    Every field a role may read (not only the first one set): ids as written, and lowercase
    addresses. A superset is harmless; a missing one would change a party.
    """
    for source in spec.values():
        if not source or source == "$owner":
            continue
        for name in [source] if isinstance(source, str) else source:
            value = record.get(name)
            if not isinstance(value, str) or not value.strip():
                continue
            if _SF_ID.match(value):
                ids.add(value)
                continue
            emails.update(a.strip().lower() for a in _SPLIT.split(value) if a.strip())


def resolve_parties(
    spec: Mapping[str, str | list[str] | None],
    record: Mapping[str, Any],
    ctx: ResolutionContext,
    owner: DynamicsUser | None,
    people: Mapping[str, tuple[str, str, str]],
) -> list[dict[str, Any]]:
    """Activity parties for one activity.

    Args:
        spec: Role (``from_``, ``to``, ``cc``, ``bcc``) → ``$owner`` or a source field holding
            addresses (``a@x.com; b@y.com``) or a record id.
        record: The staged source record.
        ctx: Migrated ids, users and known addresses.
        owner: The resolved owner (for ``$owner``).
        people: Salesforce object → (target table, entity set, Salesforce object of its ids)
            for ids that are people (Contact, Lead).
    """
    parties: list[dict[str, Any]] = []
    for role, source in spec.items():
        if not source:
            continue
        mask = PARTY_MASKS[role]
        if source == "$owner":
            if owner is not None:
                parties.append(party_for_user(owner, mask))
            continue
        names = [source] if isinstance(source, str) else source
        value = next((record.get(n) for n in names if record.get(n)), None)
        if not isinstance(value, str) or not value.strip():
            continue
        if _SF_ID.match(value):
            sobject = KEY_PREFIXES.get(value[:3])
            target = people.get(sobject or "")
            if target and ctx.is_migrated(sobject or "", value):
                table, entity_set, _ = target
                parties.append(
                    {
                        f"partyid_{table}@odata.bind": f"/{entity_set}("
                        f"{target_id(ctx.namespace, sobject or '', value)})",
                        "participationtypemask": mask,
                    }
                )
            continue
        for address in (a.strip() for a in _SPLIT.split(value)):
            if not address:
                continue
            key = address.lower()
            user = ctx.users.get(key)
            if user is not None and not user.disabled:
                parties.append(party_for_user(user, mask))
            elif key in ctx.addresses:
                entity_set, tid = ctx.addresses[key]
                table = entity_set[:-1]
                parties.append(
                    {
                        f"partyid_{table}@odata.bind": f"/{entity_set}({tid})",
                        "participationtypemask": mask,
                    }
                )
            else:
                parties.append({"addressused": address, "participationtypemask": mask})
    return parties
