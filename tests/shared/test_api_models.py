"""The pure rules behind the HTTP API: validation messages, overrides, readiness, ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import SecretStr, ValidationError

from shared.api_models import (
    ApproveMappingRequest,
    StartMigrationRequest,
    apply_overrides,
    azure_readiness_problems,
    describe_errors,
    is_valid_report_name,
    public_config,
    report_content_type,
    rollback_instance_id,
    status_view,
)
from shared.run.layout import is_valid_run_id, new_run_id
from shared.settings import Settings

READY = {
    "stage": {"backend": "blob", "account_url": "https://st.blob.core.windows.net/"},
    "dataverse": {"url": "https://contoso.crm.dynamics.com"},
    "salesforce": {
        "instance_url": "https://acme.my.salesforce.com",
        "auth": "client_credentials",
        "client_id": "3MVG9",
        "client_secret": "s3cret-value",
    },
}


def settings(**sections: dict[str, object]) -> Settings:
    data: dict[str, dict[str, object]] = {k: dict(v) for k, v in READY.items()}
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return Settings.model_validate(data)


def test_ready_settings_have_no_problems() -> None:
    assert azure_readiness_problems(settings()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"stage": {"backend": "local"}}, "MIGRATION__STAGE__BACKEND=blob"),
        ({"stage": {"account_url": None}}, "set MIGRATION__STAGE__ACCOUNT_URL"),
        ({"dataverse": {"url": None}}, "set MIGRATION__DATAVERSE__URL"),
        ({"dataverse": {"auth": "static_token"}}, "only the local emulator"),
        ({"dataverse": {"auth": "client_secret"}}, "set MIGRATION__DATAVERSE__TENANT_ID"),
        ({"salesforce": {"instance_url": None}}, "set MIGRATION__SALESFORCE__INSTANCE_URL"),
        ({"salesforce": {"client_secret": None}}, "MIGRATION__SALESFORCE__CLIENT_SECRET (a Key"),
        ({"salesforce": {"auth": "password"}}, "set MIGRATION__SALESFORCE__USERNAME"),
    ],
)
def test_readiness_names_the_app_setting_to_fix(
    change: dict[str, dict[str, object]], expected: str
) -> None:
    problems = azure_readiness_problems(settings(**change))
    assert any(expected in p for p in problems), problems


def test_public_config_holds_every_section_and_no_secret() -> None:
    s = settings(
        stage={"connection_string": "AccountKey=abc"},
        dataverse={"token": "tok-123", "client_secret": "dv-secret"},
        salesforce={"password": "pw-1", "security_token": "st-1", "access_token": "at-1"},
    )
    config = public_config(s)
    text = json.dumps(config)

    assert set(config) == set(Settings.model_fields)
    for secret in ("s3cret-value", "AccountKey", "tok-123", "dv-secret", "pw-1", "st-1", "at-1"):
        assert secret not in text
    assert config["salesforce"]["client_id"] == "3MVG9"
    assert config["mapping"]["file"] == "mappings/leadfwd-to-dynamics365.yaml"


def test_public_config_round_trips_into_settings() -> None:
    config = public_config(settings())
    rebuilt = Settings.model_validate(config)
    assert rebuilt.dataverse.url == "https://contoso.crm.dynamics.com"
    assert rebuilt.salesforce.client_secret is None


def test_overrides_merge_over_app_settings_and_keep_secrets() -> None:
    merged = apply_overrides(settings(), {"extract": {"objects": ["Lead"]}})
    assert merged.extract.objects == ["Lead"]
    assert merged.extract.batch_size == 2000
    assert merged.salesforce.client_secret == SecretStr("s3cret-value")


def test_overrides_list_every_problem() -> None:
    with pytest.raises(ValueError) as exc:
        apply_overrides(
            settings(),
            {
                "run": {"workdir": "/tmp"},
                "colour": {},
                "dataverse": {"client_secret": "x"},
                "reconcile": {"spot_check": 5},
            },
        )
    problems = exc.value.args[0]
    assert len(problems) == 4
    assert problems[0].startswith("config.run: cannot be set per request")
    assert problems[1].startswith("config.colour: unknown settings section")
    assert problems[2].startswith("config.dataverse.client_secret: secrets are not accepted")
    assert problems[3].startswith("config.reconcile.spot_check: 5 is not valid")


def test_describe_errors_hides_secret_values() -> None:
    with pytest.raises(ValidationError) as exc:
        ApproveMappingRequest.model_validate({"by": "", "sha256": "ABC", "approved": "perhaps"})
    problems = describe_errors(exc.value)
    assert [p.split(":")[0] for p in problems] == ["approved", "by", "sha256"]
    assert "'ABC' is not valid" in problems[2]


def test_mapping_file_must_stay_inside_the_app() -> None:
    for bad in ("/etc/passwd", "../secrets.yaml", "mappings/../../x.yaml", "C:\\m.yaml"):
        with pytest.raises(ValidationError):
            StartMigrationRequest.model_validate({"mapping": {"file": bad}})
    ok = StartMigrationRequest.model_validate({"mapping": {"file": "mappings/acme.yaml"}})
    assert ok.mapping is not None and ok.mapping.sha256 is None


def test_run_ids() -> None:
    now = datetime(2026, 11, 28, 19, 15, 0, tzinfo=timezone(timedelta(hours=1)))
    assert new_run_id(now, "1A2B3C4D") == "run-20261128-181500-1a2b3c"
    assert rollback_instance_id("acme-1", now) == "acme-1.rollback.20261128-181500"
    for good in ("acme-1", "run-20261128-181500-1a2b3c", "a.rollback.2026", "A_b"):
        assert is_valid_run_id(good), good
    for bad in ("", "-x", "a/b", "..", "a..b", "a b", "x" * 81, "a?b", "a#b"):
        assert not is_valid_run_id(bad), bad


def test_report_names() -> None:
    for good in ("reconciliation.json", "sequence-inventory.csv", "spot_check.md"):
        assert is_valid_report_name(good)
    for bad in ("", ".", "..", ".env", "a/b", "..\\x", "a..b", "%2e%2e", " x"):
        assert not is_valid_report_name(bad), bad
    assert report_content_type("x.csv") == "text/csv; charset=utf-8"
    assert report_content_type("x.JSON") == "application/json"
    assert report_content_type("x.bin") == "application/octet-stream"


def test_status_view_next_steps() -> None:
    created = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
    view = status_view(
        "r1",
        name="migrate",
        runtime_status="Completed",
        created=created,
        updated=None,
        custom_status={"step": "done"},
        output={"status": "completed"},
    )
    assert view.created_time == "2026-11-28T18:00:00Z"
    assert view.awaiting_approval is False
    assert view.next_step is not None and "reports" in view.next_step
