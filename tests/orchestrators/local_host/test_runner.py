"""The local host replays real orchestrator generators with the Durable SDK's executor.

The orchestrators here are small but use every construct the migration orchestrators use:
fan-out with task_all, activities with retry, sub-orchestrations, an external approval event
raced against a timer, custom status, and failure.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import pytest

from orchestrators.local_host.runner import FunctionRegistry, LocalHost
from shared.stage.local import LocalStage

bp = df.Blueprint()
CALLS: Counter[str] = Counter()
LOCK = threading.Lock()
FLAKY: dict[str, int] = {}
STOP = threading.Event()


def count(name: str) -> None:
    with LOCK:
        CALLS[name] += 1


@bp.activity_trigger(input_name="payload")
def double(payload: dict[str, Any]) -> dict[str, Any]:
    count(f"double:{payload['n']}")
    if payload.get("stop_at") == payload["n"]:
        STOP.set()
    return {"n": payload["n"] * 2}


@bp.activity_trigger(input_name="payload")
def flaky(payload: dict[str, Any]) -> str:
    count("flaky")
    key = payload["key"]
    FLAKY[key] = FLAKY.get(key, 0) + 1
    if FLAKY[key] <= payload["failures"]:
        raise RuntimeError(f"Dataverse 503 (attempt {FLAKY[key]})")
    return "ok"


@bp.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext) -> Any:
    data = context.get_input()
    results = []
    for level in data["levels"]:
        context.set_custom_status({"level": level})
        tasks = [
            context.call_activity("double", {"n": n, "stop_at": data.get("stop_at")}) for n in level
        ]
        results.append([r["n"] for r in (yield context.task_all(tasks))])
    return results


@bp.orchestration_trigger(context_name="context")
def with_retry(context: df.DurableOrchestrationContext) -> Any:
    data = context.get_input()
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)
    return (yield context.call_activity_with_retry("flaky", retry, data))


@bp.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext) -> Any:
    context.set_custom_status({"phase": "awaiting_mapping_approval"})
    event = context.wait_for_external_event("MappingApproved")
    timeout = context.create_timer(context.current_utc_datetime + dt.timedelta(hours=24))
    winner = yield context.task_any([event, timeout])
    if winner == timeout:
        return {"status": "rejected", "reason": "approval timeout"}
    timeout.cancel()
    return {"status": "approved", "by": winner.result["by"]}


@bp.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext) -> Any:
    children = [
        context.call_sub_orchestrator("fan_out", {"levels": [[n]]}, f"child-{n}") for n in (1, 2, 3)
    ]
    return (yield context.task_all(children))


@bp.orchestration_trigger(context_name="context")
def failing(context: df.DurableOrchestrationContext) -> Any:
    yield context.call_activity("double", {"n": 1})
    raise ValueError("phase Contact did not reconcile: 3 unexplained mismatches")


class VirtualClock:
    """Time that jumps forward when the host sleeps, so a 24 h timer takes no time."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=max(seconds, 0.001))


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()
    FLAKY.clear()
    STOP.clear()


def host(tmp_path: Path, **kw: Any) -> LocalHost:
    registry = FunctionRegistry.from_blueprints([bp])
    return LocalHost(LocalStage(tmp_path / "stage"), "run1", registry, **kw)


def test_fan_out_levels_run_in_order_and_return_results(tmp_path: Path) -> None:
    seen: list[Any] = []
    h = host(tmp_path, on_status=lambda _i, s: seen.append(s["customStatus"]))
    h.start("fan_out", "i1", {"levels": [[1, 2, 3], [10, 20]]})
    result = h.run("i1")
    h.close()
    assert result.runtime_status == "Completed"
    assert result.output == [[2, 4, 6], [20, 40]]
    assert {"level": [10, 20]} in seen
    assert h.status("i1")["runtimeStatus"] == "Completed"  # type: ignore[index]


def test_retry_then_success_and_retries_exhausted(tmp_path: Path) -> None:
    clock = VirtualClock()
    h = host(tmp_path, clock=clock, sleep=clock.sleep)
    h.start("with_retry", "ok", {"key": "a", "failures": 2})
    assert h.run("ok").output == "ok"
    h.start("with_retry", "bad", {"key": "b", "failures": 5})
    failed = h.run("bad")
    h.close()
    assert failed.runtime_status == "Failed"
    assert "Dataverse 503" in (failed.error or "")
    assert FLAKY == {"a": 3, "b": 3}


def test_approval_event_is_delivered(tmp_path: Path) -> None:
    clock = VirtualClock()
    h = host(tmp_path, clock=clock, sleep=clock.sleep)
    h.start("approval", "a1", None)
    h.raise_event("a1", "MappingApproved", {"approved": True, "by": "ana"})
    result = h.run("a1")
    h.close()
    assert result.output == {"status": "approved", "by": "ana"}


def test_approval_times_out_without_running_anything(tmp_path: Path) -> None:
    clock = VirtualClock()
    h = host(tmp_path, clock=clock, sleep=clock.sleep)
    h.start("approval", "a2", None)
    result = h.run("a2")
    h.close()
    assert result.output == {"status": "rejected", "reason": "approval timeout"}
    assert clock.now >= dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
    assert not CALLS


def test_sub_orchestrations_each_keep_their_own_history(tmp_path: Path) -> None:
    h = host(tmp_path)
    h.start("parent", "p", None)
    result = h.run("p")
    h.close()
    assert result.output == [[[2]], [[4]], [[6]]]
    assert h.status("child-2")["runtimeStatus"] == "Completed"  # type: ignore[index]


def test_orchestrator_failure_is_reported_with_its_message(tmp_path: Path) -> None:
    h = host(tmp_path)
    h.start("failing", "f", None)
    result = h.run("f")
    h.close()
    assert result.runtime_status == "Failed"
    assert "did not reconcile" in (result.error or "")


def test_interrupted_run_resumes_by_replay_without_re_executing(tmp_path: Path) -> None:
    levels = [[1, 2], [3, 4], [5, 6]]
    h1 = host(tmp_path, stop=STOP)
    h1.start("fan_out", "r", {"levels": levels, "stop_at": 3})
    first = h1.run("r")
    h1.close()
    assert first.runtime_status == "Running"
    done_before = Counter(CALLS)
    assert done_before["double:1"] == 1 and done_before["double:5"] == 0

    STOP.clear()
    h2 = host(tmp_path)  # a new process would start exactly like this
    result = h2.run("r")
    h2.close()
    assert result.output == [[2, 4], [6, 8], [10, 12]]
    # Level one finished before the stop: never run again.
    assert CALLS["double:1"] == 1 and CALLS["double:2"] == 1
    assert CALLS["double:5"] == 1 and CALLS["double:6"] == 1


def test_starting_twice_keeps_the_existing_history(tmp_path: Path) -> None:
    h = host(tmp_path)
    h.start("fan_out", "same", {"levels": [[1]]})
    h.start("fan_out", "same", {"levels": [[99]]})
    assert h.run("same").output == [[2]]
    h.close()
