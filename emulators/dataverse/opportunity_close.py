"""``WinOpportunity`` and ``LoseOpportunity``: the only way to close an opportunity.

Body: ``{"Status": <statuscode or -1>, "OpportunityClose": {"opportunityid@odata.bind":
"/opportunities(<id>)", "subject", "actualrevenue", "actualend", "description"}}``. The
opportunity goes to Won (1) or Lost (2) with that status (``-1``: the state's default),
``actualvalue`` takes ``actualrevenue`` and ``actualclosedate`` takes ``actualend`` (or today).
The ``opportunityclose`` activity itself is not stored by the emulator.
"""

from __future__ import annotations

from typing import Any

from emulators.dataverse.activity_state import apply_state
from emulators.dataverse.addressing import parse_reference
from emulators.dataverse.environment import Environment
from emulators.dataverse.errors import bad_request, not_found
from emulators.dataverse.protocol import ApiReply, ApiRequest
from emulators.dataverse.records import describe_key, resolve_key, save
from emulators.dataverse.values import coerce

MESSAGES = {"WinOpportunity": 1, "LoseOpportunity": 2}


def handle(env: Environment, req: ApiRequest, message: str) -> ApiReply:
    """Close the opportunity named in ``OpportunityClose``."""
    body: dict[str, Any] = req.json()
    close = body.get("OpportunityClose")
    if not isinstance(close, dict) or not isinstance(close.get("opportunityid@odata.bind"), str):
        raise bad_request(
            f"{message} needs OpportunityClose with 'opportunityid@odata.bind' naming the "
            "opportunity."
        )
    table = env.tables["opportunity"]
    entity_set, key = parse_reference(close["opportunityid@odata.bind"])
    if env.table_by_set(entity_set).logical != "opportunity":
        raise bad_request("OpportunityClose.opportunityid must reference an opportunity.")
    rid = resolve_key(env, table, key)
    row = env.store.get("opportunity", rid) if rid else None
    if row is None or rid is None:
        raise not_found("opportunity", describe_key(key))
    state = MESSAGES[message]
    status = int(body.get("Status", -1))
    changes: dict[str, int] = {"statecode": state}
    if status != -1:
        changes["statuscode"] = status
    updated = dict(row)
    apply_state(table, updated, changes, rid, creating=False, via_message=True)
    if close.get("actualrevenue") is not None:
        updated["actualvalue"] = coerce(
            table.columns["actualvalue"], close["actualrevenue"], "opportunities"
        )
    end = close.get("actualend")
    updated["actualclosedate"] = (
        coerce(table.columns["actualclosedate"], end, "opportunities") if end else env.now_iso()
    )
    updated["modifiedon"] = env.now_iso()
    updated["modifiedby"] = req.caller
    updated["versionnumber"] = env.next_version()
    save(env, table, [(rid, updated)])
    return ApiReply(204)
