"""Durable history events, in the JSON shape the SDK's ``HistoryEvent`` expects, and their
persistence on the stage.

History is stored as numbered chunk objects (``<run>/history/<instance>/<seq:06d>.json``),
each written atomically, so appending never rewrites what is already durable and a crash
loses at most the step in flight.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from shared.stage.base import Stage

ORCHESTRATOR_STARTED = 12
ORCHESTRATOR_COMPLETED = 13
EXECUTION_STARTED = 0
TASK_SCHEDULED = 4
TASK_COMPLETED = 5
TASK_FAILED = 6
SUB_ORCHESTRATION_CREATED = 7
SUB_ORCHESTRATION_COMPLETED = 8
SUB_ORCHESTRATION_FAILED = 9
TIMER_CREATED = 10
TIMER_FIRED = 11
EVENT_RAISED = 15

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

Event = dict[str, Any]


def timestamp(moment: dt.datetime) -> str:
    """The history's timestamp format (UTC, microseconds, ``Z``)."""
    return moment.astimezone(dt.UTC).strftime(_TS_FORMAT)


def event(kind: int, moment: dt.datetime, event_id: int = -1, **fields: Any) -> Event:
    """One history event."""
    return {
        "EventType": kind,
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": timestamp(moment),
        **fields,
    }


def execution_started(moment: dt.datetime, name: str, instance_id: str, payload: Any) -> Event:
    """The event that carries the orchestration's name and input (``Version`` is required)."""
    return event(
        EXECUTION_STARTED,
        moment,
        Name=name,
        Input=json.dumps(payload),
        Version="",
        OrchestrationInstance={"InstanceId": instance_id},
    )


def instance_key(instance_id: str) -> str:
    """A stage-safe folder name for an instance id."""
    return "".join(ch if ch.isalnum() or ch in "_.@=+-" else "=" for ch in instance_id)


class HistoryStore:
    """Append-only history of one orchestration instance on the stage."""

    def __init__(self, stage: Stage, run_id: str, instance_id: str) -> None:
        self._stage = stage
        self._prefix = f"{run_id}/history/{instance_key(instance_id)}/"
        self._next = len(self._chunk_keys())

    def _chunk_keys(self) -> list[str]:
        return sorted(k for k in self._stage.list_keys(self._prefix) if k.endswith(".json"))

    def load(self) -> list[Event]:
        """Every event appended so far, in order."""
        events: list[Event] = []
        for key in self._chunk_keys():
            events.extend(json.loads(self._stage.get_bytes(key)))
        return events

    def append(self, events: Iterable[Event]) -> None:
        """Durably append events (one atomic chunk)."""
        batch = list(events)
        if not batch:
            return
        key = f"{self._prefix}{self._next:06d}.json"
        self._stage.put_bytes(key, json.dumps(batch).encode("utf-8"))
        self._next += 1
