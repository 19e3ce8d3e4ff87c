"""Where a sync stands: the last run the target reflects and the source watermarks after it.

One object on the stage, ``sync/state.json``, written only when a migration or a delta
completes with every phase reconciled, and put back as it was when the run it names is rolled
back. A delta reads it to know which run to continue from and where to start reading changes.

Watermarks are per Salesforce object: the newest ``SystemModstamp`` in the source (deleted
rows included) read *before* that object's extraction began, so any change made during or
after the extraction has a later stamp and is read by the next delta. The delta subtracts
``delta.overlap_minutes`` from it to catch rows committed late (a transaction's stamp is taken
when it starts, its rows become visible when it commits).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from shared.salesforce.client import SalesforceClient
from shared.stage.base import Stage

STATE_KEY = "sync/state.json"
FORMAT = 1


@dataclass
class SyncState:
    """The chain of runs the target reflects, newest last.

    Attributes:
        base_run: The migration the chain starts from (its mapping snapshot is used by every
            delta, so a delta writes rows exactly as the migration did).
        last_run: The newest completed run (the migration or a delta); its resolution context
            is the starting point of the next delta.
        runs: Every run of the chain, oldest first.
        watermarks: Salesforce object → ISO datetime (None: read the object in full).
        last_full_compare: When a delta last compared the full id sets (purged rows).
        previous: The state before ``last_run`` completed (restored if it is rolled back).
    """

    base_run: str
    last_run: str
    runs: list[str]
    watermarks: dict[str, str | None]
    last_full_compare: str | None = None
    previous: dict[str, Any] | None = None
    updated: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())
    format: int = FORMAT

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyncState:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def load_state(stage: Stage) -> SyncState | None:
    """The current sync state, or None before the first completed migration."""
    if not stage.exists(STATE_KEY):
        return None
    return SyncState.from_dict(json.loads(stage.get_bytes(STATE_KEY)))


def save_state(stage: Stage, state: SyncState) -> None:
    """Store the state (atomically: the stage writes whole objects)."""
    state.updated = dt.datetime.now(dt.UTC).isoformat()
    stage.put_bytes(STATE_KEY, state.to_json())


def watermark_key(run_id: str, sobject: str) -> str:
    """Where a run keeps one object's watermark (taken before it was extracted)."""
    return f"{run_id}/watermarks/{sobject}.json"


def capture_watermark(
    client: SalesforceClient, stage: Stage, run_id: str, sobject: str, *, queryable: bool
) -> str | None:
    """Read and keep the newest ``SystemModstamp`` of ``sobject`` unless already kept.

    Called before the object is extracted. A resumed extraction keeps the first value (the
    earliest, so nothing changed in between is missed). ``queryable`` is False for objects
    that cannot be queried without a parent filter (``ContentDocumentLink``): they get no
    watermark and every delta reads them by their parents.
    """
    key = watermark_key(run_id, sobject)
    if stage.exists(key):
        value: str | None = json.loads(stage.get_bytes(key))["watermark"]
        return value
    stamp: str | None = None
    if queryable:
        soql = f"SELECT SystemModstamp FROM {sobject} ORDER BY SystemModstamp DESC LIMIT 1"
        page = next(client.query_pages(soql, include_deleted=True, sobject=sobject), {})
        rows = page.get("records", [])
        stamp = str(rows[0]["SystemModstamp"]) if rows else "1970-01-01T00:00:00.000Z"
    stage.put_bytes(key, json.dumps({"object": sobject, "watermark": stamp}).encode())
    return stamp


def run_watermarks(stage: Stage, run_id: str) -> dict[str, str | None]:
    """Every watermark a run kept, by object."""
    out: dict[str, str | None] = {}
    for key in stage.list_keys(f"{run_id}/watermarks/"):
        data = json.loads(stage.get_bytes(key))
        out[str(data["object"])] = data["watermark"]
    return out


def advance(
    stage: Stage, run_id: str, *, base_run: str | None = None, full_compare: bool = False
) -> SyncState:
    """Record that ``run_id`` completed: it becomes the run the next delta continues from.

    Args:
        base_run: Set for a migration (it starts a new chain); None for a delta.
        full_compare: The run compared the full id sets.
    """
    current = load_state(stage)
    marks = run_watermarks(stage, run_id)
    now = dt.datetime.now(dt.UTC).isoformat()
    if base_run is not None or current is None:
        state = SyncState(
            base_run=base_run or run_id,
            last_run=run_id,
            runs=[run_id],
            watermarks=marks,
            last_full_compare=now,
            previous=asdict(current) if current else None,
        )
    else:
        state = SyncState(
            base_run=current.base_run,
            last_run=run_id,
            runs=[*current.runs, run_id],
            watermarks={**current.watermarks, **marks},
            last_full_compare=now if full_compare else current.last_full_compare,
            previous=asdict(current),
        )
    save_state(stage, state)
    return state


def on_rollback(stage: Stage, run_id: str) -> str | None:
    """After ``run_id`` was rolled back: put back the state from before it, if it was last.

    Returns what happened, for the rollback report (None when the sync state did not name
    the run).
    """
    current = load_state(stage)
    if current is None or current.last_run != run_id:
        if current is not None and run_id in current.runs:
            return (
                f"{run_id} is not the newest run of the sync chain ({current.last_run} is): "
                "the sync state was left as it is; roll back the newer runs first"
            )
        return None
    if current.previous is None:
        stage.delete(STATE_KEY)
        return "the sync state was removed: the next delta needs a new migration first"
    save_state(stage, SyncState.from_dict(current.previous))
    return f"the sync state again continues from {current.previous['last_run']}"
