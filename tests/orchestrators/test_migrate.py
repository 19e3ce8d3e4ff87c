"""The migrate orchestrator, driven through real replay by the local host.

Activities here are recording stand-ins with the real names and input/output shapes (the
orchestrator's contract); the end-to-end tests run the real activities against the emulators.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import azure.durable_functions as df
import pytest

from orchestrators import migrate as migrate_module
from orchestrators.local_host.runner import FunctionRegistry, LocalHost
from shared.stage.local import LocalStage

acts = df.Blueprint()
LOG: list[tuple[str, Any]] = []
LOCK = threading.Lock()
SCRIPT: dict[str, Any] = {}


def log(name: str, payload: Any) -> None:
    with LOCK:
        LOG.append((name, payload))


@acts.activity_trigger(input_name="p")
def plan_run(p: dict[str, Any]) -> dict[str, Any]:
    log("plan_run", p)
    return {
        "confirmed": SCRIPT.get("confirmed", True),
        "detail": "mapping.yaml was never confirmed; run ./migrate confirm-map",
        "mapping": {"file": "m.yaml", "sha256": "abc"},
        "extraction": [["Account", "User"], ["Contact"], ["Task"]],
        "phases": [
            {"index": 1, "objects": ["account"], "sources": {"account": "Account"}},
            {
                "index": 2,
                "objects": ["contact", "task"],
                "sources": {"contact": "Contact", "task": "Task"},
            },
        ],
    }


@acts.activity_trigger(input_name="p")
def record_approval(p: dict[str, Any]) -> None:
    log("record_approval", p)


@acts.activity_trigger(input_name="p")
def check_schema(p: dict[str, Any]) -> dict[str, Any]:
    log("check_schema", p)
    return {"missing": []}


@acts.activity_trigger(input_name="p")
def extract_object(p: dict[str, Any]) -> dict[str, Any]:
    log("extract_object", p["object"])
    failures = SCRIPT.setdefault("extract_failures", {})
    if failures.get(p["object"], 0) > 0:
        failures[p["object"]] -= 1
        raise ConnectionError(f"dropped connection while extracting {p['object']}")
    return {"object": p["object"], "count": 10, "batches": 2}


@acts.activity_trigger(input_name="p")
def prepare_context(p: dict[str, Any]) -> dict[str, Any]:
    log("prepare_context", p)
    return {}


@acts.activity_trigger(input_name="p")
def list_batches(p: dict[str, Any]) -> list[str]:
    return [f"run/raw/{p['source']}/{i:05d}" for i in range(SCRIPT.get("batches", 3))]


@acts.activity_trigger(input_name="p")
def load_batch(p: dict[str, Any]) -> dict[str, int]:
    log("load_batch", (p["entry"], p["batch"]))
    return {"extracted": 5, "written": 4, "quarantined": 1, "skipped": 0}


@acts.activity_trigger(input_name="p")
def needs_second_pass(p: dict[str, Any]) -> bool:
    return bool(p["entry"] == "account")


@acts.activity_trigger(input_name="p")
def second_pass_batch(p: dict[str, Any]) -> dict[str, int]:
    log("second_pass_batch", (p["entry"], p["batch"]))
    return {"linked": 2}


@acts.activity_trigger(input_name="p")
def reconcile_phase(p: dict[str, Any]) -> dict[str, Any]:
    log("reconcile_phase", p["phase"])
    ok = p["phase"] not in SCRIPT.get("bad_phases", ())
    return {"reconciled": ok, "unexplained": 0 if ok else 3}


@acts.activity_trigger(input_name="p")
def write_inventories(p: dict[str, Any]) -> dict[str, Any]:
    log("write_inventories", p)
    return {}


@acts.activity_trigger(input_name="p")
def write_summary(p: dict[str, Any]) -> dict[str, Any]:
    log("write_summary", p["status"])
    return {"run_id": p["run_id"], "status": p["status"], "phases": len(p["phases"])}


class VirtualClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=max(seconds, 0.001))


@pytest.fixture(autouse=True)
def _reset() -> None:
    LOG.clear()
    SCRIPT.clear()


def run(tmp_path: Path, payload: dict[str, Any], events: list[Any] | None = None) -> Any:
    clock = VirtualClock()
    registry = FunctionRegistry.from_blueprints([migrate_module.bp, acts])
    host = LocalHost(
        LocalStage(tmp_path / "stage"), "run", registry, clock=clock, sleep=clock.sleep
    )
    host.start("migrate", "run", {"run_id": "run", **payload})
    for name, data in events or []:
        host.raise_event("run", name, data)
    try:
        return host.run("run")
    finally:
        host.close()


def names() -> list[str]:
    return [n for n, _ in LOG]


def test_phases_run_in_dependency_order_with_a_gate_after_each(tmp_path: Path) -> None:
    result = run(tmp_path, {})
    assert result.runtime_status == "Completed", result.error
    assert result.output == {"run_id": "run", "status": "completed", "phases": 2}
    order = names()
    extracts = [p for n, p in LOG if n == "extract_object"]
    assert extracts.index("Contact") > max(extracts.index("Account"), extracts.index("User"))
    assert extracts.index("Task") > extracts.index("Contact")
    assert order.index("prepare_context") > order.index("extract_object")
    first_contact_load = next(
        i for i, (n, p) in enumerate(LOG) if n == "load_batch" and p[0] == "contact"
    )
    reconcile_1 = LOG.index(("reconcile_phase", 1))
    assert reconcile_1 < first_contact_load, "phase 2 started before phase 1 reconciled"
    loads = [p for n, p in LOG if n == "load_batch"]
    assert len(loads) == 9  # 3 entries x 3 batches, none twice
    assert len(set(loads)) == 9
    seconds = [p for n, p in LOG if n == "second_pass_batch"]
    assert {e for e, _ in seconds} == {"account"}
    assert LOG.index(("reconcile_phase", 1)) > max(
        i for i, (n, _) in enumerate(LOG) if n == "second_pass_batch"
    )
    assert order[-2:] == ["write_inventories", "write_summary"]


def test_a_phase_that_does_not_reconcile_stops_the_run(tmp_path: Path) -> None:
    SCRIPT["bad_phases"] = [1]
    result = run(tmp_path, {})
    assert result.output["status"] == "stopped_at_gate"
    assert not [p for n, p in LOG if n == "load_batch" and p[0] in {"contact", "task"}]
    assert "write_inventories" not in names()


def test_extraction_retries_a_dropped_connection(tmp_path: Path) -> None:
    SCRIPT["extract_failures"] = {"Contact": 2}
    result = run(tmp_path, {})
    assert result.runtime_status == "Completed"
    assert [p for n, p in LOG if n == "extract_object"].count("Contact") == 3


def test_extraction_failing_every_retry_fails_the_run_with_the_cause(tmp_path: Path) -> None:
    SCRIPT["extract_failures"] = {"User": 5}
    result = run(tmp_path, {})
    assert result.runtime_status == "Failed"
    assert "dropped connection while extracting User" in (result.error or "")
    assert "load_batch" not in names()


def test_unconfirmed_mapping_stops_before_anything_moves(tmp_path: Path) -> None:
    SCRIPT["confirmed"] = False
    result = run(tmp_path, {"require_approval": False})
    assert result.output["status"] == "mapping_not_confirmed"
    assert "confirm-map" in result.output["detail"]
    assert names() == ["plan_run"]


def test_http_started_run_waits_for_the_approval_event(tmp_path: Path) -> None:
    SCRIPT["confirmed"] = False
    approval = {"approved": True, "by": "ana@acme.com", "sha256": "abc"}
    result = run(tmp_path, {"require_approval": True}, [("MappingApproved", approval)])
    assert result.output["status"] == "completed"
    assert (
        "record_approval",
        {"run_id": "run", "by": "ana@acme.com", "file": "m.yaml", "sha256": "abc"},
    ) in LOG


def test_approval_for_another_mapping_version_is_refused(tmp_path: Path) -> None:
    SCRIPT["confirmed"] = False
    approval = {"approved": True, "by": "ana", "sha256": "edited-since"}
    result = run(tmp_path, {"require_approval": True}, [("MappingApproved", approval)])
    assert result.output["status"] == "mapping_changed"
    assert "extract_object" not in names()


def test_approval_timeout_moves_nothing(tmp_path: Path) -> None:
    SCRIPT["confirmed"] = False
    result = run(tmp_path, {"require_approval": True, "approval_timeout_hours": 1})
    assert result.output == {"run_id": "run", "status": "approval_timed_out", "hours": 1.0}
    assert names() == ["plan_run"]


def test_a_delta_with_no_completed_migration_fails_plainly(tmp_path: Path) -> None:
    from activities.delta import bp as delta_activities
    from orchestrators import delta as delta_module
    from shared.run import runtime as rt
    from shared.settings import Settings

    stage = LocalStage(tmp_path / "stage")
    rt.install(rt.Runtime(settings=Settings(), stage=stage))
    try:
        registry = FunctionRegistry.from_blueprints([delta_module.bp, delta_activities])
        host = LocalHost(stage, "d", registry)
        host.start("delta", "d", {"run_id": "d"})
        result = host.run("d")
        host.close()
    finally:
        rt.install(None)
    assert result.runtime_status == "Failed"
    assert "nothing to sync from" in (result.error or "")
    assert "./migrate run" in (result.error or "")
