"""Replay loop of the local host.

Each step: rebuild a ``DurableOrchestrationContext`` over the stored history, let the SDK's
``TaskOrchestrationExecutor`` replay the generator, look at the tasks it left open, run the
new ones (activities in a thread pool, sub-orchestrations as nested local runs, timers on the
host's clock, external events from the stage), append what happened, persist, replay again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import datetime as dt
import inspect
import json
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.actions.CallActivityAction import CallActivityAction
from azure.durable_functions.models.actions.CallActivityWithRetryAction import (
    CallActivityWithRetryAction,
)
from azure.durable_functions.models.actions.CallSubOrchestratorAction import (
    CallSubOrchestratorAction,
)
from azure.durable_functions.models.actions.CreateTimerAction import CreateTimerAction
from azure.durable_functions.models.actions.NoOpAction import NoOpAction
from azure.durable_functions.models.actions.WaitForExternalEventAction import (
    WaitForExternalEventAction,
)
from azure.durable_functions.models.Task import RetryAbleTask
from azure.durable_functions.models.TaskOrchestrationExecutor import TaskOrchestrationExecutor

from orchestrators.local_host import history as h
from shared.stage.base import Stage

Clock = Callable[[], dt.datetime]
OrchestratorFn = Callable[[Any], Any]
ActivityFn = Callable[[Any], Any]
StatusListener = Callable[[str, dict[str, Any]], None]

_OUT_OF_PROC = "\n\n$OutOfProcData$:"


def utc_now() -> dt.datetime:
    """The real clock."""
    return dt.datetime.now(dt.UTC)


@dataclass
class FunctionRegistry:
    """Orchestrator and activity functions by the name the Functions host knows them by."""

    orchestrators: dict[str, OrchestratorFn] = field(default_factory=dict)
    activities: dict[str, ActivityFn] = field(default_factory=dict)

    @classmethod
    def from_blueprints(cls, blueprints: Iterable[Any]) -> FunctionRegistry:
        """Collect the user functions behind every orchestration and activity trigger."""
        registry = cls()
        for bp in blueprints:
            for builder in bp._function_builders:
                function = builder._function
                trigger = function._trigger
                name = function.get_function_name()
                user = builder.build().get_user_function()
                if trigger is None:
                    continue
                if trigger.type == "orchestrationTrigger":
                    registry.orchestrators[name] = user.orchestrator_function
                elif trigger.type == "activityTrigger":
                    registry.activities[name] = user
        return registry


@dataclass
class InstanceResult:
    """How an orchestration instance ended (or where it stands)."""

    instance_id: str
    runtime_status: str  # Running | Completed | Failed
    output: Any = None
    error: str | None = None
    custom_status: Any = None


@dataclass
class _Pending:
    kind: str  # activity | suborch
    future: cf.Future[Any]


@dataclass
class _Timer:
    task_id: int
    fire_at: dt.datetime


class LocalHost:
    """Runs orchestrations of one run on this machine, persisting history to the stage.

    Args:
        stage: Where histories, status and raised events are kept.
        run_id: The run these instances belong to (the stage prefix).
        registry: The functions to run.
        max_workers: Activities run at once.
        clock: Source of time (tests pass a virtual clock that jumps to the next timer).
        sleep: How to wait for time to pass (paired with ``clock``).
        on_status: Called with (instance id, status dict) after every step.
    """

    def __init__(
        self,
        stage: Stage,
        run_id: str,
        registry: FunctionRegistry,
        *,
        max_workers: int = 4,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        on_status: StatusListener | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.stage = stage
        self.run_id = run_id
        self.registry = registry
        self.clock = clock
        self.sleep = sleep
        self.on_status = on_status
        self.stop = stop or threading.Event()
        self._pool = cf.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="activity")
        self._sub_pool = cf.ThreadPoolExecutor(max_workers=16, thread_name_prefix="suborch")

    def close(self) -> None:
        """Release worker threads (running activities finish first)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._sub_pool.shutdown(wait=True, cancel_futures=True)

    # ---- public API -------------------------------------------------------------------------

    def start(self, name: str, instance_id: str, payload: Any) -> None:
        """Record a new instance (idempotent: an existing history is kept)."""
        store = h.HistoryStore(self.stage, self.run_id, instance_id)
        if store.load():
            return
        now = self.clock()
        store.append(
            [
                h.event(h.ORCHESTRATOR_STARTED, now),
                h.execution_started(now, name, instance_id, payload),
            ]
        )
        self._write_status(instance_id, name, "Pending", None, None, None)

    def raise_event(self, instance_id: str, name: str, data: Any) -> None:
        """Queue an external event; the next step of the instance delivers it."""
        key = f"{self.run_id}/events/{h.instance_key(instance_id)}/{time.time_ns():020d}.json"
        self.stage.put_bytes(key, json.dumps({"name": name, "data": data}).encode("utf-8"))

    def run(self, instance_id: str) -> InstanceResult:
        """Drive the instance until it completes, fails or the host is asked to stop."""
        store = h.HistoryStore(self.stage, self.run_id, instance_id)
        events = store.load()
        if not events:
            raise KeyError(f"no orchestration instance {instance_id!r} in run {self.run_id}")
        name = next(e["Name"] for e in events if e["EventType"] == h.EXECUTION_STARTED)
        fn = self.registry.orchestrators[name]
        pending: dict[int, _Pending] = {}
        timers: dict[int, _Timer] = {}
        delivered_events = self._delivered_event_keys(events)
        while True:
            state, ctx = self._replay(fn, instance_id, events)
            if state.runtime_status in {"Completed", "Failed"}:
                self._write_status(
                    instance_id,
                    name,
                    state.runtime_status,
                    state.output,
                    state.error,
                    state.custom_status,
                )
                return state
            self._write_status(instance_id, name, "Running", None, None, state.custom_status)
            new_events = self._dispatch(ctx, events, pending, timers, instance_id)
            if not events or events[-1]["EventType"] != h.ORCHESTRATOR_COMPLETED:
                new_events.append(h.event(h.ORCHESTRATOR_COMPLETED, self.clock()))
            store.append(new_events)
            events.extend(new_events)
            if self.stop.is_set():
                return InstanceResult(instance_id, "Running", custom_status=state.custom_status)
            progress = self._wait(ctx, pending, timers, delivered_events, instance_id)
            if progress:
                step = [h.event(h.ORCHESTRATOR_STARTED, self.clock()), *progress]
                store.append(step)
                events.extend(step)
            elif not pending and not timers and not self.stop.is_set():
                waiting = [k for k in ctx.open_tasks if not isinstance(k, int)]
                if not waiting:
                    raise RuntimeError(
                        f"orchestration {instance_id} is stuck: nothing is running or due"
                    )

    def status(self, instance_id: str) -> dict[str, Any] | None:
        """The last persisted status of an instance, or None."""
        key = self._status_key(instance_id)
        if not self.stage.exists(key):
            return None
        loaded: dict[str, Any] = json.loads(self.stage.get_bytes(key))
        return loaded

    # ---- replay -----------------------------------------------------------------------------

    def _replay(
        self, fn: OrchestratorFn, instance_id: str, events: list[h.Event]
    ) -> tuple[InstanceResult, Any]:
        started = next(e for e in events if e["EventType"] == h.EXECUTION_STARTED)
        ctx = df.DurableOrchestrationContext(
            history=events,
            instanceId=instance_id,
            isReplaying=False,
            parentInstanceId=None,
            input=started["Input"],
        )
        try:
            raw = TaskOrchestrationExecutor().execute(ctx, ctx.histories, fn)
        except Exception as exc:
            message = str(exc).split(_OUT_OF_PROC, 1)[0]
            custom = None
            if _OUT_OF_PROC in str(exc):
                custom = json.loads(str(exc).split(_OUT_OF_PROC, 1)[1]).get("customStatus")
            return InstanceResult(instance_id, "Failed", error=message, custom_status=custom), ctx
        state = json.loads(raw)
        custom = state.get("customStatus")
        if state.get("isDone"):
            return InstanceResult(
                instance_id, "Completed", output=state.get("output"), custom_status=custom
            ), ctx
        return InstanceResult(instance_id, "Running", custom_status=custom), ctx

    # ---- dispatch new work ------------------------------------------------------------------

    def _dispatch(
        self,
        ctx: Any,
        events: list[h.Event],
        pending: dict[int, _Pending],
        timers: dict[int, _Timer],
        instance_id: str,
    ) -> list[h.Event]:
        scheduled = {
            e["EventId"]
            for e in events
            if e["EventType"] in {h.TASK_SCHEDULED, h.TIMER_CREATED, h.SUB_ORCHESTRATION_CREATED}
        }
        now = self.clock()
        new: list[h.Event] = []
        for key, entry in list(ctx.open_tasks.items()):
            if not isinstance(key, int):
                continue  # external events are keyed by name
            for task in entry if isinstance(entry, list) else [entry]:
                if key in pending or key in timers:
                    continue
                action = (
                    task.action_repr[0] if isinstance(task.action_repr, list) else task.action_repr
                )
                if isinstance(action, (CallActivityAction, CallActivityWithRetryAction)):
                    self._submit_activity(key, action.function_name, action.input_, pending)
                    if key not in scheduled:
                        new.append(h.event(h.TASK_SCHEDULED, now, key, Name=action.function_name))
                elif isinstance(action, NoOpAction) and isinstance(task.parent, RetryAbleTask):
                    parent: RetryAbleTask = task.parent
                    if parent.is_waiting_on_timer:
                        interval = parent.retry_options.first_retry_interval_in_milliseconds
                        fire_at = self._retry_fire_at(events, key, now, interval)
                        timers[key] = _Timer(key, fire_at)
                        if key not in scheduled:
                            new.append(
                                h.event(h.TIMER_CREATED, now, key, FireAt=h.timestamp(fire_at))
                            )
                    else:
                        original = (
                            parent.actions[0]
                            if isinstance(parent.actions, list)
                            else parent.actions
                        )
                        self._submit_activity(key, original.function_name, original.input_, pending)
                        if key not in scheduled:
                            new.append(
                                h.event(h.TASK_SCHEDULED, now, key, Name=original.function_name)
                            )
                elif isinstance(action, CreateTimerAction):
                    if action.is_cancelled:
                        continue
                    fire_at = action.fire_at
                    if fire_at.tzinfo is None:
                        fire_at = fire_at.replace(tzinfo=dt.UTC)
                    timers[key] = _Timer(key, fire_at)
                    if key not in scheduled:
                        new.append(h.event(h.TIMER_CREATED, now, key, FireAt=h.timestamp(fire_at)))
                elif isinstance(action, CallSubOrchestratorAction):
                    child_id = action.instance_id or f"{instance_id}@{key}"
                    self._submit_suborchestration(
                        key, action.function_name, child_id, json.loads(action._input), pending
                    )
                    if key not in scheduled:
                        new.append(
                            h.event(
                                h.SUB_ORCHESTRATION_CREATED,
                                now,
                                key,
                                Name=action.function_name,
                                InstanceId=child_id,
                            )
                        )
                elif isinstance(action, WaitForExternalEventAction):
                    continue
                else:
                    raise NotImplementedError(
                        f"the local host does not run {type(action).__name__} actions"
                    )
        return new

    def _retry_fire_at(
        self, events: list[h.Event], key: int, now: dt.datetime, interval_ms: int
    ) -> dt.datetime:
        for e in events:
            if e["EventType"] == h.TIMER_CREATED and e["EventId"] == key:
                return dt.datetime.strptime(e["FireAt"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                    tzinfo=dt.UTC
                )
        return now + dt.timedelta(milliseconds=interval_ms)

    def _submit_activity(
        self, key: int, name: str, raw_input: str, pending: dict[int, _Pending]
    ) -> None:
        fn = self.registry.activities.get(name)
        if fn is None:
            raise KeyError(f"no activity named {name!r} is registered")
        payload = json.loads(raw_input) if raw_input is not None else None
        pending[key] = _Pending("activity", self._pool.submit(_call_activity, fn, payload))

    def _submit_suborchestration(
        self, key: int, name: str, child_id: str, payload: Any, pending: dict[int, _Pending]
    ) -> None:
        def run_child() -> InstanceResult:
            self.start(name, child_id, payload)
            return self.run(child_id)

        pending[key] = _Pending("suborch", self._sub_pool.submit(run_child))

    # ---- wait for progress ------------------------------------------------------------------

    def _wait(
        self,
        ctx: Any,
        pending: dict[int, _Pending],
        timers: dict[int, _Timer],
        delivered: set[str],
        instance_id: str,
    ) -> list[h.Event]:
        while True:
            progress = self._collect(pending, instance_id)
            progress += self._deliver_events(ctx, delivered, instance_id)
            progress += self._fire_due_timers(timers)
            if progress or self.stop.is_set():
                return progress
            if pending:
                futures = [p.future for p in pending.values()]
                cf.wait(futures, timeout=0.25, return_when=cf.FIRST_COMPLETED)
                continue
            waiting_for_events = any(not isinstance(k, int) for k in ctx.open_tasks)
            if timers:
                due = min(t.fire_at for t in timers.values())
                gap = (due - self.clock()).total_seconds()
                self.sleep(max(0.0, min(gap, 0.25 if waiting_for_events else gap)))
                continue
            if waiting_for_events:
                self.sleep(0.1)
                continue
            return []  # nothing can make progress: the replay will say why

    def _collect(self, pending: dict[int, _Pending], instance_id: str) -> list[h.Event]:
        done = [k for k, p in pending.items() if p.future.done()]
        if done:
            # Let siblings finishing at the same moment join this step.
            cf.wait([p.future for p in pending.values()], timeout=0.02)
            done = [k for k, p in pending.items() if p.future.done()]
        out: list[h.Event] = []
        now = self.clock()
        for key in sorted(done):
            item = pending.pop(key)
            exc = item.future.exception()
            if item.kind == "activity":
                if exc is None:
                    out.append(
                        h.event(
                            h.TASK_COMPLETED,
                            now,
                            TaskScheduledId=key,
                            Result=json.dumps(item.future.result()),
                        )
                    )
                else:
                    trace_key = f"{self.run_id}/errors/{h.instance_key(instance_id)}-{key}.txt"
                    self.stage.put_bytes(
                        trace_key, "".join(traceback.format_exception(exc)).encode("utf-8")
                    )
                    out.append(
                        h.event(
                            h.TASK_FAILED,
                            now,
                            TaskScheduledId=key,
                            Reason=f"{type(exc).__name__}: {exc}",
                            Details=f"(traceback on the stage: {trace_key})",
                        )
                    )
            else:
                result: InstanceResult | None = None if exc else item.future.result()
                if result is not None and result.runtime_status == "Completed":
                    out.append(
                        h.event(
                            h.SUB_ORCHESTRATION_COMPLETED,
                            now,
                            TaskScheduledId=key,
                            Result=json.dumps(result.output),
                        )
                    )
                elif result is not None and result.runtime_status == "Running":
                    continue  # host stopping: the child resumes with the parent
                else:
                    reason = str(exc) if exc else (result.error if result else "failed")
                    out.append(
                        h.event(
                            h.SUB_ORCHESTRATION_FAILED,
                            now,
                            TaskScheduledId=key,
                            Reason=reason,
                            Details=reason,
                        )
                    )
        return out

    def _fire_due_timers(self, timers: dict[int, _Timer]) -> list[h.Event]:
        now = self.clock()
        out = []
        for key in sorted(k for k, t in timers.items() if t.fire_at <= now):
            timer = timers.pop(key)
            out.append(h.event(h.TIMER_FIRED, now, TimerId=key, FireAt=h.timestamp(timer.fire_at)))
        return out

    def _deliver_events(self, ctx: Any, delivered: set[str], instance_id: str) -> list[h.Event]:
        waiting = {k for k in ctx.open_tasks if not isinstance(k, int)}
        if not waiting:
            return []
        prefix = f"{self.run_id}/events/{h.instance_key(instance_id)}/"
        out = []
        for key in self.stage.list_keys(prefix):
            if key in delivered:
                continue
            body = json.loads(self.stage.get_bytes(key))
            if body["name"] not in waiting:
                continue
            delivered.add(key)
            out.append(
                h.event(
                    h.EVENT_RAISED,
                    self.clock(),
                    Name=body["name"],
                    Input=json.dumps(body["data"]),
                    SourceKey=key,
                )
            )
        return out

    def _delivered_event_keys(self, events: list[h.Event]) -> set[str]:
        return {e["SourceKey"] for e in events if e["EventType"] == h.EVENT_RAISED}

    # ---- status ---------------------------------------------------------------------------------

    def _status_key(self, instance_id: str) -> str:
        return f"{self.run_id}/status/{h.instance_key(instance_id)}.json"

    def _write_status(
        self,
        instance_id: str,
        name: str,
        runtime_status: str,
        output: Any,
        error: str | None,
        custom_status: Any,
    ) -> None:
        status = {
            "instanceId": instance_id,
            "name": name,
            "runtimeStatus": runtime_status,
            "output": output,
            "error": error,
            "customStatus": custom_status,
            "lastUpdatedTime": h.timestamp(self.clock()),
        }
        self.stage.put_bytes(self._status_key(instance_id), json.dumps(status).encode("utf-8"))
        if self.on_status is not None:
            self.on_status(instance_id, status)


def _call_activity(fn: ActivityFn, payload: Any) -> Any:
    """Run one activity function (sync or async) and return its JSON-safe result."""
    if inspect.iscoroutinefunction(fn):
        return asyncio.run(fn(payload))
    result = fn(payload)
    json.dumps(result)  # fail here, visibly, rather than at serialisation time
    return result
