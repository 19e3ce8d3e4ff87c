"""The HTTP API and the delta timer, called as the Functions host calls them.

Each test builds a real ``func.HttpRequest`` and calls the function's user code with the SDK's
real Durable client over an in-memory task hub (``durable_double``); reports are read from a
real local stage.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest

from orchestrators import http_api
from shared.errors import ConfigError
from shared.stage.local import LocalStage
from tests.orchestrators.durable_double import HOST, SYSTEM_KEY, FakeTaskHub

SF_SECRET = "sf-client-secret-Zq81"
SHA = "ab" * 32
AZURE_ENV = {
    "MIGRATION__STAGE__BACKEND": "blob",
    "MIGRATION__STAGE__ACCOUNT_URL": "https://stmigration.blob.core.windows.net",
    "MIGRATION__DATAVERSE__URL": "https://contoso.crm.dynamics.com",
    "MIGRATION__SALESFORCE__INSTANCE_URL": "https://acme.my.salesforce.com",
    "MIGRATION__SALESFORCE__AUTH": "client_credentials",
    "MIGRATION__SALESFORCE__CLIENT_ID": "3MVG9-consumer-key",
    "MIGRATION__SALESFORCE__CLIENT_SECRET": SF_SECRET,
}
CONTRACT_KEYS = {"run_id", "config", "mapping", "require_approval", "approval_timeout_hours"}


@pytest.fixture(autouse=True)
def azure_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """App settings as the Bicep template sets them (and nothing else from this machine)."""
    for name in list(os.environ):
        if name.upper().startswith("MIGRATION__"):
            monkeypatch.delenv(name)
    for name, value in AZURE_ENV.items():
        monkeypatch.setenv(name, value)
    return AZURE_ENV


@pytest.fixture
def hub() -> FakeTaskHub:
    return FakeTaskHub()


def request(
    method: str,
    route: str,
    body: Any = None,
    route_params: dict[str, str] | None = None,
) -> func.HttpRequest:
    raw = (
        body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    )
    return func.HttpRequest(
        method,
        f"{HOST}/api/{route}?code=USERKEY",
        headers={"Content-Type": "application/json"},
        route_params=route_params or {},
        body=raw,
    )


def call(fn: Any, req: func.HttpRequest, hub: FakeTaskHub | None = None) -> func.HttpResponse:
    user = fn.build().get_user_function()
    if hub is None:
        return user(req)  # type: ignore[no-any-return]
    return asyncio.run(user.client_function(req, hub.client()))  # type: ignore[no-any-return]


def body_of(resp: func.HttpResponse) -> Any:
    return json.loads(resp.get_body())


# -- POST /api/migrations ------------------------------------------------------------


def test_start_returns_202_with_status_urls_and_starts_migrate(hub: FakeTaskHub) -> None:
    resp = call(http_api.start_migration, request("POST", "migrations", {}), hub)

    assert resp.status_code == 202
    body = body_of(resp)
    run_id = body["run_id"]
    assert run_id.startswith("run-")
    assert body["resumed"] is False
    assert resp.headers["Location"] == body["statusQueryGetUri"]
    assert f"/instances/{run_id}?" in body["statusQueryGetUri"]
    assert body["sendEventPostUri"].endswith(
        f"raiseEvent/{{eventName}}?taskHub=LeadfwdMigration&connection=Storage&code={SYSTEM_KEY}"
    )
    assert body["links"]["status"] == f"{HOST}/api/migrations/{run_id}"
    assert "USERKEY" not in json.dumps(body["links"])
    [(name, instance_id, given)] = hub.starts
    assert (name, instance_id) == ("migrate", run_id)
    assert set(given) == CONTRACT_KEYS
    assert given["run_id"] == run_id
    assert given["require_approval"] is True
    assert given["approval_timeout_hours"] == 72.0
    assert given["mapping"] == {"file": "mappings/leadfwd-to-dynamics365.yaml", "sha256": None}
    assert given["config"]["dataverse"]["url"] == "https://contoso.crm.dynamics.com"


def test_start_never_puts_a_secret_into_the_orchestration_input(hub: FakeTaskHub) -> None:
    call(http_api.start_migration, request("POST", "migrations", {}), hub)

    [(_, _, given)] = hub.starts
    text = json.dumps(given)
    assert SF_SECRET not in text
    assert "client_secret" not in given["config"]["salesforce"]
    assert "password" not in given["config"]["salesforce"]
    assert "connection_string" not in given["config"]["stage"]


def test_start_applies_the_request_body(hub: FakeTaskHub) -> None:
    body = {
        "run_id": "acme-prod-1",
        "mapping": {"file": "mappings/acme.yaml", "sha256": SHA},
        "require_approval": False,
        "approval_timeout_hours": 2,
        "config": {"extract": {"objects": ["Account", "Contact"]}, "reconcile": {"tolerance": 3}},
    }
    resp = call(http_api.start_migration, request("POST", "migrations", body), hub)

    assert resp.status_code == 202, resp.get_body()
    [(_, instance_id, given)] = hub.starts
    assert instance_id == "acme-prod-1"
    assert given["mapping"] == {"file": "mappings/acme.yaml", "sha256": SHA}
    assert given["require_approval"] is False
    assert given["approval_timeout_hours"] == 2.0
    assert given["config"]["extract"]["objects"] == ["Account", "Contact"]
    assert given["config"]["reconcile"]["tolerance"] == 3
    assert given["config"]["reconcile"]["spot_check"] == 30  # untouched keys keep app values


def test_bad_body_gets_one_message_per_problem(hub: FakeTaskHub) -> None:
    body = {
        "run_id": "../etc",
        "mapping": {"file": "/etc/passwd", "sha256": "xyz"},
        "approval_timeout_hours": 0,
        "colour": "blue",
    }
    resp = call(http_api.start_migration, request("POST", "migrations", body), hub)

    assert resp.status_code == 400
    answer = body_of(resp)
    assert answer["error"] == "invalid_request"
    problems = answer["problems"]
    assert len(problems) == 5, problems
    fields = sorted(p.split(":")[0] for p in problems)
    assert fields == [
        "approval_timeout_hours",
        "colour",
        "mapping.file",
        "mapping.sha256",
        "run_id",
    ]
    assert any("'/etc/passwd'" in p and "relative path" in p for p in problems)
    assert any(p.startswith("colour: unknown field") for p in problems)
    assert hub.starts == []


def test_body_that_is_not_json_names_the_position(hub: FakeTaskHub) -> None:
    resp = call(http_api.start_migration, request("POST", "migrations", b'{"run_id": }'), hub)

    assert resp.status_code == 400
    assert "line 1, column 12" in body_of(resp)["message"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b'{"run_id": "\xff"}', "not UTF-8"), (b"[1, 2]", "must be a JSON object")],
)
def test_body_must_be_a_utf8_json_object(hub: FakeTaskHub, raw: bytes, expected: str) -> None:
    resp = call(http_api.start_migration, request("POST", "migrations", raw), hub)

    assert resp.status_code == 400
    assert expected in body_of(resp)["message"]


def test_secrets_in_config_are_refused_without_echoing_them(hub: FakeTaskHub) -> None:
    body = {"config": {"salesforce": {"client_secret": "hunter2-value"}, "stage": {"path": "x"}}}
    resp = call(http_api.start_migration, request("POST", "migrations", body), hub)

    assert resp.status_code == 400
    problems = body_of(resp)["problems"]
    assert problems[0].startswith("config.salesforce.client_secret: secrets are not accepted")
    assert "MIGRATION__SALESFORCE__CLIENT_SECRET" in problems[0]
    assert problems[1].startswith("config.stage: cannot be set per request")
    assert "hunter2-value" not in resp.get_body().decode()
    assert hub.starts == []


def test_invalid_config_value_names_section_key_and_value(hub: FakeTaskHub) -> None:
    body = {"config": {"dataverse": {"batch_size": 5000, "colour": 1}}}
    resp = call(http_api.start_migration, request("POST", "migrations", body), hub)

    assert resp.status_code == 400
    problems = body_of(resp)["problems"]
    assert any(p.startswith("config.dataverse.batch_size: 5000 is not valid") for p in problems)
    assert any(p.startswith("config.dataverse.colour: unknown field") for p in problems)


@pytest.mark.parametrize("status", ["Running", "Pending", "Suspended", "ContinuedAsNew"])
def test_a_live_run_is_never_replaced(hub: FakeTaskHub, status: str) -> None:
    hub.put("acme-1", status)
    resp = call(http_api.start_migration, request("POST", "migrations", {"run_id": "acme-1"}), hub)

    assert resp.status_code == 409
    assert f"already {status}" in body_of(resp)["message"]
    assert hub.starts == []


def test_a_completed_run_is_not_started_again(hub: FakeTaskHub) -> None:
    hub.put("acme-1", "Completed")
    resp = call(http_api.start_migration, request("POST", "migrations", {"run_id": "acme-1"}), hub)

    assert resp.status_code == 409
    assert hub.starts == []


@pytest.mark.parametrize("status", ["Failed", "Terminated"])
def test_a_failed_or_stopped_run_is_resumed_under_its_id(hub: FakeTaskHub, status: str) -> None:
    hub.put("acme-1", status)
    resp = call(http_api.start_migration, request("POST", "migrations", {"run_id": "acme-1"}), hub)

    assert resp.status_code == 202
    assert body_of(resp)["resumed"] is True
    assert [(n, i) for n, i, _ in hub.starts] == [("migrate", "acme-1")]


def test_missing_app_settings_are_named_before_anything_starts(
    hub: FakeTaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIGRATION__DATAVERSE__URL")
    monkeypatch.setenv("MIGRATION__STAGE__BACKEND", "local")
    resp = call(http_api.start_migration, request("POST", "migrations", {}), hub)

    assert resp.status_code == 500
    answer = body_of(resp)
    assert answer["error"] == "app_not_configured"
    assert any("MIGRATION__DATAVERSE__URL" in p for p in answer["problems"])
    assert any("MIGRATION__STAGE__BACKEND=blob" in p for p in answer["problems"])
    assert hub.starts == []


def test_invalid_app_setting_is_reported_as_configuration(
    hub: FakeTaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGRATION__DATAVERSE__BATCH_SIZE", "lots")
    resp = call(http_api.start_migration, request("POST", "migrations", {}), hub)

    assert resp.status_code == 500
    assert any("dataverse.batch_size" in p for p in body_of(resp)["problems"])


def test_orchestrator_missing_from_the_app_is_a_clear_502() -> None:
    hub = FakeTaskHub(orchestrators=frozenset())
    resp = call(http_api.start_migration, request("POST", "migrations", {"run_id": "r1"}), hub)

    assert resp.status_code == 502
    assert "function 'migrate' doesn't exist" in body_of(resp)["message"]


# -- GET /api/migrations/{id} --------------------------------------------------------


def test_status_unknown_run_is_404(hub: FakeTaskHub) -> None:
    req = request("GET", "migrations/nope", route_params={"id": "nope"})
    resp = call(http_api.get_migration, req, hub)

    assert resp.status_code == 404
    assert "no migration nope" in body_of(resp)["message"]


def test_status_shows_progress_from_custom_status(hub: FakeTaskHub) -> None:
    progress = {
        "phase": "contacts",
        "object": "Contact",
        "batches_done": 3,
        "batches_total": 8,
        "written": 1450,
        "quarantined": 2,
        "throttled": 5,
    }
    hub.put("acme-1", "Running", custom_status=progress)
    req = request("GET", "migrations/acme-1", route_params={"id": "acme-1"})
    resp = call(http_api.get_migration, req, hub)

    assert resp.status_code == 200
    body = body_of(resp)
    assert body["runtime_status"] == "Running"
    assert body["progress"] == progress
    assert body["orchestrator"] == "migrate"
    assert body["awaiting_approval"] is False
    assert body["created_time"].endswith("Z")


def test_status_says_when_the_run_waits_for_approval(hub: FakeTaskHub) -> None:
    progress = {"run_id": "acme-1", "step": "awaiting_mapping_approval", "phases": []}
    hub.put("acme-1", "Running", custom_status=progress)
    req = request("GET", "migrations/acme-1", route_params={"id": "acme-1"})
    body = body_of(call(http_api.get_migration, req, hub))

    assert body["awaiting_approval"] is True
    assert "approve-mapping" in body["next_step"]
    assert body["links"]["approve_mapping"] == f"{HOST}/api/migrations/acme-1/approve-mapping"


def test_status_shows_the_failure_output(hub: FakeTaskHub) -> None:
    hub.put("acme-1", "Failed", output="ReconciliationGateError: accounts did not reconcile")
    req = request("GET", "migrations/acme-1", route_params={"id": "acme-1"})
    body = body_of(call(http_api.get_migration, req, hub))

    assert body["runtime_status"] == "Failed"
    assert "did not reconcile" in body["output"]
    assert "same run_id" in body["next_step"]


def test_status_rejects_a_malformed_run_id(hub: FakeTaskHub) -> None:
    req = request("GET", "migrations/x", route_params={"id": "a/../b"})
    assert call(http_api.get_migration, req, hub).status_code == 400


# -- POST /api/migrations/{id}/approve-mapping ---------------------------------------


def approve(hub: FakeTaskHub, run_id: str, body: Any) -> func.HttpResponse:
    req = request("POST", f"migrations/{run_id}/approve-mapping", body, {"id": run_id})
    return call(http_api.approve_mapping, req, hub)


def test_approval_raises_the_event_with_the_contract_data(hub: FakeTaskHub) -> None:
    hub.put("acme-1", "Running", custom_status={"phase": "awaiting_mapping_approval"})
    resp = approve(hub, "acme-1", {"by": " ana@contoso.com ", "sha256": SHA})

    assert resp.status_code == 202
    assert hub.events == [
        ("acme-1", "MappingApproved", {"approved": True, "by": "ana@contoso.com", "sha256": SHA})
    ]


def test_rejection_is_delivered_too(hub: FakeTaskHub) -> None:
    hub.put("acme-1", "Running")
    approve(hub, "acme-1", {"approved": False, "by": "ana", "sha256": SHA})

    assert hub.events[0][2]["approved"] is False


def test_approval_needs_who_and_which_mapping(hub: FakeTaskHub) -> None:
    hub.put("acme-1", "Running")
    resp = approve(hub, "acme-1", {"approved": True})

    assert resp.status_code == 400
    assert body_of(resp)["problems"] == [
        "by: required field is missing",
        "sha256: required field is missing",
    ]
    assert hub.events == []


def test_approval_of_unknown_or_finished_run(hub: FakeTaskHub) -> None:
    assert approve(hub, "ghost", {"by": "ana", "sha256": SHA}).status_code == 404
    hub.put("done-1", "Completed")
    resp = approve(hub, "done-1", {"by": "ana", "sha256": SHA})
    assert resp.status_code == 409
    assert "is Completed" in body_of(resp)["message"]
    assert hub.events == []


# -- POST /api/migrations/{id}/rollback ----------------------------------------------


def rollback(hub: FakeTaskHub, run_id: str, body: Any = None) -> func.HttpResponse:
    req = request("POST", f"migrations/{run_id}/rollback", body, {"id": run_id})
    return call(http_api.rollback_migration, req, hub)


def test_rollback_is_a_dry_run_unless_asked(hub: FakeTaskHub) -> None:
    hub.put("acme-1", "Completed")
    resp = rollback(hub, "acme-1")

    assert resp.status_code == 202
    body = body_of(resp)
    [(name, instance_id, given)] = hub.starts
    assert name == "rollback"
    assert instance_id == body["run_id"]
    assert instance_id.startswith("acme-1.rollback.")
    assert given == {"run_id": instance_id, "target_run_id": "acme-1", "dry_run": True}
    assert "dry run" in body["note"]
    assert resp.headers["Location"] == body["statusQueryGetUri"]


def test_rollback_for_real(hub: FakeTaskHub) -> None:
    hub.put("acme-1", "Failed")
    assert rollback(hub, "acme-1", {"dry_run": False}).status_code == 202
    assert hub.starts[0][2]["dry_run"] is False


def test_rollback_refuses_a_running_run_and_a_second_rollback(hub: FakeTaskHub) -> None:
    hub.put("acme-1", "Running")
    assert rollback(hub, "acme-1").status_code == 409
    hub.put("acme-1", "Completed")
    hub.put("acme-1.rollback.20261128-120000", "Running", name="rollback")
    resp = rollback(hub, "acme-1")
    assert resp.status_code == 409
    assert "acme-1.rollback.20261128-120000" in body_of(resp)["message"]
    assert hub.starts == []


def test_rollback_of_unknown_run_and_bad_body(hub: FakeTaskHub) -> None:
    assert rollback(hub, "ghost").status_code == 404
    hub.put("acme-1", "Completed")
    resp = rollback(hub, "acme-1", {"dry_run": "maybe"})
    assert resp.status_code == 400
    assert body_of(resp)["problems"][0].startswith("dry_run: 'maybe' is not valid")


# -- GET /api/migrations/{id}/reports[/{name}] ---------------------------------------


@pytest.fixture
def stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalStage:
    monkeypatch.setenv("MIGRATION__STAGE__BACKEND", "local")
    monkeypatch.setenv("MIGRATION__STAGE__PATH", str(tmp_path / "stage"))
    st = LocalStage(tmp_path / "stage")
    st.put_bytes("acme-1/reports/reconciliation.json", b'{"phases": []}')
    st.put_bytes("acme-1/reports/sequence-inventory.csv", b"sequence,step\nWelcome,1\n")
    st.put_bytes("acme-2/reports/other.json", b"{}")
    (tmp_path / "secret.txt").write_text("do not serve")
    return st


def report(run_id: str, name: str) -> func.HttpResponse:
    req = request("GET", "migrations/x/reports/y", route_params={"id": run_id, "name": name})
    return call(http_api.get_report, req)


def test_reports_are_listed_with_urls(stage: LocalStage) -> None:
    req = request("GET", "migrations/acme-1/reports", route_params={"id": "acme-1"})
    resp = call(http_api.list_reports, req)

    assert resp.status_code == 200
    reports = body_of(resp)["reports"]
    assert [r["name"] for r in reports] == ["reconciliation.json", "sequence-inventory.csv"]
    assert reports[0]["url"] == f"{HOST}/api/migrations/acme-1/reports/reconciliation.json"


def test_a_report_is_served_with_its_type(stage: LocalStage) -> None:
    resp = report("acme-1", "sequence-inventory.csv")

    assert resp.status_code == 200
    assert resp.get_body() == b"sequence,step\nWelcome,1\n"
    assert resp.mimetype == "text/csv"
    assert 'filename="sequence-inventory.csv"' in resp.headers["Content-Disposition"]
    assert report("acme-1", "reconciliation.json").mimetype == "application/json"


def test_a_missing_report_is_404(stage: LocalStage) -> None:
    resp = report("acme-1", "nope.json")
    assert resp.status_code == 404
    assert "reports" in body_of(resp)["message"]


@pytest.mark.parametrize(
    ("run_id", "name"),
    [
        ("acme-1", ".."),
        ("acme-1", "../../secret.txt"),
        ("acme-1", "..%2F..%2Fsecret.txt"),
        ("acme-1", "sub/other.json"),
        ("acme-1", "/etc/passwd"),
        ("acme-1", ".hidden"),
        ("..", "secret.txt"),
        ("acme-1/../acme-2", "other.json"),
    ],
)
def test_report_paths_cannot_leave_the_reports_folder(
    stage: LocalStage, run_id: str, name: str
) -> None:
    resp = report(run_id, name)

    assert resp.status_code == 400
    assert b"do not serve" not in resp.get_body()


# -- the delta timer -----------------------------------------------------------------


def run_timer(hub: FakeTaskHub, past_due: bool = False) -> None:
    user = http_api.delta_sync_timer.build().get_user_function()
    asyncio.run(user.client_function(TimerRequest(past_due=past_due), hub.client()))


def test_timer_starts_the_delta_singleton(hub: FakeTaskHub) -> None:
    run_timer(hub)

    [(name, instance_id, given)] = hub.starts
    assert (name, instance_id) == ("delta", "delta-sync")
    assert set(given) == {"run_id", "config", "cutover"}
    assert given["run_id"].startswith("delta-")
    assert given["cutover"] is False
    assert SF_SECRET not in json.dumps(given)


@pytest.mark.parametrize("status", ["Running", "Pending", "ContinuedAsNew", "Suspended"])
def test_timer_skips_while_a_delta_is_still_running(hub: FakeTaskHub, status: str) -> None:
    hub.put("delta-sync", status, name="delta")
    run_timer(hub)

    assert hub.starts == []
    assert hub.instances["delta-sync"]["runtimeStatus"] == status


@pytest.mark.parametrize("status", ["Completed", "Failed", "Terminated"])
def test_timer_starts_again_after_the_previous_delta_ended(hub: FakeTaskHub, status: str) -> None:
    hub.put("delta-sync", status, name="delta")
    run_timer(hub, past_due=True)

    assert [(n, i) for n, i, _ in hub.starts] == [("delta", "delta-sync")]


def test_timer_fails_visibly_when_the_app_is_not_configured(
    hub: FakeTaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIGRATION__SALESFORCE__CLIENT_SECRET")
    with pytest.raises(ConfigError, match="MIGRATION__SALESFORCE__CLIENT_SECRET"):
        run_timer(hub)
    assert hub.starts == []


# -- POST /api/delta-sync ------------------------------------------------------------


def start_delta(hub: FakeTaskHub, body: Any = None) -> func.HttpResponse:
    return call(http_api.start_delta_sync, request("POST", "delta-sync", body), hub)


def test_cutover_delta_starts_the_singleton(hub: FakeTaskHub) -> None:
    hub.put("delta-sync", "Completed", name="delta")
    resp = start_delta(hub, {"cutover": True, "config": {"delta": {"overlap_minutes": 30}}})

    assert resp.status_code == 202
    body = body_of(resp)
    assert body["instance_id"] == "delta-sync"
    assert resp.headers["Location"] == body["statusQueryGetUri"]
    [(name, instance_id, given)] = hub.starts
    assert (name, instance_id) == ("delta", "delta-sync")
    assert given["cutover"] is True
    assert given["run_id"] == body["run_id"]
    assert given["config"]["delta"]["overlap_minutes"] == 30


def test_manual_delta_waits_for_the_running_one(hub: FakeTaskHub) -> None:
    hub.put("delta-sync", "Running", name="delta")
    resp = start_delta(hub)

    assert resp.status_code == 409
    assert "still Running" in body_of(resp)["message"]
    assert hub.starts == []


def test_manual_delta_validates_its_body(hub: FakeTaskHub) -> None:
    resp = start_delta(hub, {"cutover": "soon", "config": {"stage": {}}})

    assert resp.status_code == 400
    assert body_of(resp)["problems"][0].startswith("cutover: 'soon' is not valid")
    assert hub.starts == []
