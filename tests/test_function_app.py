"""The Functions app indexes every function with the trigger, route, method and auth it needs.

This is what the Functions host reads at start-up (``app.get_functions()`` and each
function's bindings); a wrong route or a missing key requirement shows up here, offline.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from typing import Any

import azure.functions as func

import function_app

EXPECTED_HTTP = {
    "start_migration": ("migrations", "POST", True),
    "get_migration": ("migrations/{id}", "GET", True),
    "approve_mapping": ("migrations/{id}/approve-mapping", "POST", True),
    "rollback_migration": ("migrations/{id}/rollback", "POST", True),
    "list_reports": ("migrations/{id}/reports", "GET", False),
    "get_report": ("migrations/{id}/reports/{name}", "GET", False),
    "start_delta_sync": ("delta-sync", "POST", True),
}
ORCHESTRATOR_MODULES = {
    "orchestrators.migrate": "migrate",
    "orchestrators.rollback": "rollback",
    "orchestrators.delta": "delta",
}


def indexed() -> dict[str, list[dict[str, Any]]]:
    """Function name -> its bindings as the host receives them (function.json shape)."""
    out = {}
    fresh_app, _ = function_app.build_app()
    for fn in fresh_app.get_functions():
        out[fn.get_function_name()] = json.loads(fn.get_function_json())["bindings"]
    return out


def trigger_of(bindings: list[dict[str, Any]]) -> dict[str, Any]:
    [trigger] = [b for b in bindings if b["type"].endswith("Trigger")]
    return trigger


def test_every_http_function_has_its_route_method_and_function_key() -> None:
    functions = indexed()
    for name, (route, method, uses_durable) in EXPECTED_HTTP.items():
        bindings = functions[name]
        trigger = trigger_of(bindings)
        assert trigger["type"] == "httpTrigger", name
        assert trigger["route"] == route, name
        assert [m.upper() for m in trigger["methods"]] == [method], name
        assert trigger["authLevel"].lower() == "function", name
        assert any(b["type"] == "http" and b["direction"] == "OUT" for b in bindings), name
        has_client = any(b["type"] == "durableClient" for b in bindings)
        assert has_client is uses_durable, name


def test_no_http_function_is_anonymous() -> None:
    for name, bindings in indexed().items():
        for b in bindings:
            if b["type"] == "httpTrigger":
                assert b["authLevel"].lower() != "anonymous", name


def test_delta_timer_reads_its_schedule_from_app_settings_and_never_runs_on_start() -> None:
    bindings = indexed()["delta_sync_timer"]
    trigger = trigger_of(bindings)

    assert trigger["type"] == "timerTrigger"
    assert trigger["schedule"] == "%MIGRATION__DELTA__SCHEDULE%"
    assert trigger.get("runOnStartup") in (None, False)
    assert trigger["useMonitor"] is True
    assert any(b["type"] == "durableClient" for b in bindings)


def test_app_requires_function_keys_by_default() -> None:
    assert function_app.app.auth_level == func.AuthLevel.FUNCTION


def test_routes_do_not_collide() -> None:
    routes = [
        (trigger_of(b).get("route"), tuple(trigger_of(b).get("methods", [])))
        for b in indexed().values()
        if trigger_of(b)["type"] == "httpTrigger"
    ]
    assert len(routes) == len(set(routes))


def test_written_orchestrators_are_registered_under_the_contract_names() -> None:
    functions = indexed()
    for module, orchestrator in ORCHESTRATOR_MODULES.items():
        assert module in function_app.BLUEPRINT_MODULES
        if module in function_app.MISSING_BLUEPRINTS:
            continue
        importlib.import_module(module)
        assert trigger_of(functions[orchestrator])["type"] == "orchestrationTrigger"


def test_missing_blueprints_are_exactly_the_modules_not_written_yet() -> None:
    for module in function_app.BLUEPRINT_MODULES:
        spec = importlib.util.find_spec(module)
        assert (spec is None) == (module in function_app.MISSING_BLUEPRINTS), module
