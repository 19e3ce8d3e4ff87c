"""State and status rules: valid statecode/statuscode pairs, closed activities read-only.

``statecode`` is not valid for create (it is ignored and the row starts in state 0 with the
default status, or the given statuscode if it belongs to state 0). An update may send
statecode and statuscode together, statecode alone (the state's default status is used) or
statuscode alone (the row moves to the state that status belongs to). A completed or
canceled activity refuses every change except reopening it (statecode 0).
An opportunity is closed only by the ``WinOpportunity``/``LoseOpportunity`` actions (see
``opportunity_close.py``), as in real Dataverse; PATCHing it to Won or Lost is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulators.dataverse.errors import bad_request
from emulators.dataverse.metadata import Table
from emulators.dataverse.store import Row

if TYPE_CHECKING:
    from emulators.dataverse.records import Prepared


# Closing these needs a dedicated message; Update/SetState to these states is refused.
CLOSE_MESSAGES = {("opportunity", 1): "WinOpportunity", ("opportunity", 2): "LoseOpportunity"}


def apply_state(
    table: Table,
    row: Row,
    state: dict[str, int],
    row_id: str,
    creating: bool,
    *,
    via_message: bool = False,
) -> None:
    """Set statecode/statuscode on ``row`` or raise the error Dataverse raises.

    ``via_message`` is set by the WinOpportunity/LoseOpportunity actions, the only way to
    close an opportunity.
    """
    if not table.states:
        return
    current = int(row.get("statecode", 0))
    if creating:
        status = state.get("statuscode", table.states[0][1])
        target_state = 0
    else:
        target_state = state.get("statecode", current)
        if "statecode" not in state:
            owners = [s for s, entry in table.states.items() if state["statuscode"] in entry[2]]
            target_state = owners[0] if owners and current not in owners else current
        status = state.get(
            "statuscode", table.states[target_state][1] if target_state in table.states else 0
        )
    message = CLOSE_MESSAGES.get((table.logical, target_state))
    if message and not via_message and target_state != current:
        label = table.states[target_state][0]
        raise bad_request(
            f"This message can not be used to set the state of {table.logical} to {label}. In "
            f"order to set the state of {table.logical} to {label}, use the {message}Request "
            f"message instead (Web API: POST {message}).",
            "0x80040203",
        )
    if status not in table.status_for(target_state):
        label = table.states.get(target_state, ("?", 0, {}))[0]
        raise bad_request(
            f"{status} is not a valid status code for state code {table.schema}State.{label} "
            f"on {table.logical} with Id {row_id}.",
            "0x8004431A",
        )
    row["statecode"], row["statuscode"] = target_state, status


def check_closed(table: Table, row: Row, prepared: Prepared) -> None:
    """Completed or canceled activities refuse every change except reopening."""
    if not table.is_activity or int(row.get("statecode", 0)) == 0:
        return
    if prepared.state.get("statecode") == 0 and not prepared.values and prepared.parties is None:
        return  # reopening is allowed
    label = table.states[int(row["statecode"])][0].lower()
    raise bad_request(
        f"This {table.logical} ({row[table.primary_id]}) is {label} and cannot be modified. "
        "Reopen it (statecode 0) first, or set every column before closing it.",
        "0x80040203",
    )
