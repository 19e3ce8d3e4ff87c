"""Login, TLS, retries and API usage, through simple-salesforce against the emulator."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from emulators.salesforce.testing import SalesforceEndpoint, run_salesforce
from shared.errors import (
    AuthenticationError,
    ThrottledError,
    TransientServiceError,
    UnreachableError,
)
from shared.salesforce.client import connect
from shared.settings import SalesforceSettings
from tests.shared.salesforce.conftest import settings_for


def test_password_login_over_tls_and_usage_reported(org_dir: Path, tmp_path: Path) -> None:
    with run_salesforce(org_dir, tls=True) as ep:
        settings = settings_for(ep, tmp_path)
        client = connect(settings.salesforce)
        assert client.count("Contact") == 6  # the deleted one only shows with queryAll
        assert client.count("Contact", include_deleted=True) == 7
        usage = client.usage.to_dict()
        assert usage["calls_this_run"] >= 2
        assert usage["org_daily_limit"] == 100_000
        assert usage["org_used_now"] is not None and usage["org_used_now"] >= 2
        client.session.close()  # lets the server stop at once instead of waiting on keep-alive


def test_tls_without_the_ca_is_a_clear_error(org_dir: Path, tmp_path: Path) -> None:
    with run_salesforce(org_dir, tls=True) as ep:
        settings = settings_for(ep, tmp_path, salesforce={"ca_cert": None})
        with pytest.raises(
            UnreachableError, match=r"TLS verification failed; set salesforce\.ca_cert"
        ):
            connect(settings.salesforce)


def test_bad_credentials_name_the_fix_not_the_secret(
    endpoint: SalesforceEndpoint, tmp_path: Path
) -> None:
    settings = settings_for(endpoint, tmp_path, salesforce={"password": "wrong-pass-123"})
    with pytest.raises(AuthenticationError, match="check the password credentials") as info:
        connect(settings.salesforce, endpoint.requests_session())
    assert "wrong-pass-123" not in str(info.value)


def test_bad_access_token(endpoint: SalesforceEndpoint, tmp_path: Path) -> None:
    settings = settings_for(
        endpoint, tmp_path, salesforce={"auth": "access_token", "access_token": "nope"}
    )
    client = connect(settings.salesforce, endpoint.requests_session())
    with pytest.raises(AuthenticationError, match="INVALID_SESSION_ID"):
        client.count("Contact")


def test_unreachable_org(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = settings_for_unreachable(port, tmp_path)
    with pytest.raises(UnreachableError, match="cannot connect"):
        connect(settings)


def settings_for_unreachable(port: int, tmp_path: Path) -> SalesforceSettings:
    from shared.settings import load_settings

    return load_settings(
        overrides={
            "salesforce": {
                "instance_url": f"https://127.0.0.1:{port}",
                "username": "u",
                "password": "p",
                "client_id": "c",
                "client_secret": "s",
            }
        }
    ).salesforce


def test_5xx_and_dropped_connections_are_retried(org_dir: Path, tmp_path: Path) -> None:
    with run_salesforce(org_dir, fault_5xx=0.3, fault_drop=0.2, fault_seed=3) as ep:
        settings = settings_for(ep, tmp_path, salesforce={"max_retries": 12})
        client = connect(settings.salesforce, ep.requests_session())
        counts = [client.count("Contact") for _ in range(8)]
        assert counts == [6] * 8
        faults = ep.emulator.usage
        assert faults.faults_5xx + faults.faults_dropped > 0


def test_gives_up_after_max_retries(org_dir: Path, tmp_path: Path) -> None:
    with run_salesforce(org_dir, fault_5xx=1.0, fault_seed=1) as ep:
        settings = settings_for(ep, tmp_path, salesforce={"max_retries": 2})
        client = connect(settings.salesforce, ep.requests_session())
        with pytest.raises(TransientServiceError, match="gave up after 3 attempts"):
            client.count("Contact")


def test_request_limit_exceeded_backs_off_then_reports(org_dir: Path, tmp_path: Path) -> None:
    with run_salesforce(org_dir, daily_limit=3) as ep:
        settings = settings_for(ep, tmp_path, salesforce={"max_retries": 1})
        slept: list[float] = []
        client = connect(settings.salesforce, ep.requests_session(), sleep=slept.append)
        with pytest.raises(ThrottledError, match="REQUEST_LIMIT_EXCEEDED"):
            for _ in range(5):
                client.count("Contact")
        assert slept, "the client should have backed off before giving up"


def test_client_credentials_login(endpoint: SalesforceEndpoint, tmp_path: Path) -> None:
    settings = settings_for(
        endpoint, tmp_path, salesforce={"auth": "client_credentials", "username": None}
    )
    client = connect(settings.salesforce, endpoint.requests_session())
    assert client.count("Account") == 2


def test_missing_credentials_are_config_errors(
    endpoint: SalesforceEndpoint, tmp_path: Path
) -> None:
    from shared.errors import ConfigError

    settings = settings_for(endpoint, tmp_path, salesforce={"password": None})
    with pytest.raises(
        ConfigError, match=r"salesforce\.password is required when auth is password"
    ):
        connect(settings.salesforce, endpoint.requests_session())


def test_hung_org_times_out_instead_of_hanging() -> None:
    from shared.settings import load_settings

    with socket.socket() as server:  # accepts connections (backlog) but never answers
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        settings = load_settings(
            overrides={
                "salesforce": {
                    "instance_url": f"http://127.0.0.1:{port}",
                    "auth": "access_token",
                    "access_token": "t",
                    "timeout_seconds": 0.3,
                    "max_retries": 1,
                    "retry_base_seconds": 0.01,
                }
            }
        ).salesforce
        client = connect(settings)
        with pytest.raises(TransientServiceError, match="gave up after 2 attempts"):
            client.count("Contact")


def test_expired_session_mid_run_logs_in_again(
    endpoint: SalesforceEndpoint, tmp_path: Path
) -> None:
    client = connect(settings_for(endpoint, tmp_path).salesforce, endpoint.requests_session())
    assert client.count("Contact") == 6
    endpoint.emulator.tokens.discard(client.sf.session_id)  # the org expires our session
    assert client.count("Contact") == 6
    assert client.sf.session_id in endpoint.emulator.tokens
