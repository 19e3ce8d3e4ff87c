"""Sessions, OAuth flows, the daily API allocation and injected faults, as a client sees them."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from emulators.salesforce.testing import SalesforceEndpoint, run_salesforce
from tests.emulators.salesforce.conftest import make_org


def _token(ep: SalesforceEndpoint, **form: str) -> requests.Response:
    return ep.requests_session().post(f"{ep.instance_url}/services/oauth2/token", data=form)


def test_username_password_flow_issues_a_working_session(writable: SalesforceEndpoint) -> None:
    res = _token(
        writable,
        grant_type="password",
        client_id=writable.client_id,
        client_secret=writable.client_secret,
        username=writable.username,
        password=writable.password,
    )
    assert res.status_code == 200
    body = res.json()
    assert body["instance_url"] == writable.instance_url
    assert body["token_type"] == "Bearer"
    from simple_salesforce.api import Salesforce

    sf = Salesforce(
        instance_url=body["instance_url"], session_id=body["access_token"],
        session=writable.requests_session(),
    )  # fmt: skip
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 2


def test_client_credentials_flow(writable: SalesforceEndpoint) -> None:
    res = _token(writable, grant_type="client_credentials", client_id=writable.client_id,
                 client_secret=writable.client_secret)  # fmt: skip
    assert res.status_code == 200 and res.json()["access_token"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "password": "wrong"}, "invalid_grant"),
        ({"grant_type": "password", "client_id": "nope"}, "invalid_client_id"),
        ({"grant_type": "password", "client_secret": "nope"}, "invalid_client"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
    ],
)
def test_bad_logins_are_refused(
    writable: SalesforceEndpoint, form: dict[str, str], error: str
) -> None:
    full = {"client_id": writable.client_id, "client_secret": writable.client_secret,
            "username": writable.username, "password": writable.password, **form}  # fmt: skip
    res = _token(writable, **full)
    assert res.status_code == 400
    assert res.json()["error"] == error
    assert writable.password not in res.text


def test_missing_or_unknown_session_is_invalid_session_id(writable: SalesforceEndpoint) -> None:
    from simple_salesforce.api import Salesforce

    sf = Salesforce(instance_url=writable.instance_url.replace("http:", "https:"),
                    session_id="00Dxx!bogus", session=writable.requests_session())  # fmt: skip
    with pytest.raises(SalesforceExpiredSession) as err:
        sf.query("SELECT Id FROM Account")
    assert err.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_daily_allocation_refuses_with_request_limit_exceeded(tmp_path: Path) -> None:
    with run_salesforce(make_org(tmp_path / "org", n_contacts=5), daily_limit=3) as ep:
        sf = ep.client()
        for _ in range(3):
            sf.query("SELECT Id FROM Account")
        assert sf.api_usage["api-usage"].used == 3
        with pytest.raises(SalesforceRefusedRequest) as err:
            sf.query("SELECT Id FROM Account")
        assert err.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
        assert (
            ep.requests_session().get(f"{ep.admin_url}/state").json()["api_requests"]["refused"]
            == 1
        )


def test_injected_5xx_and_dropped_connections(tmp_path: Path) -> None:
    with run_salesforce(make_org(tmp_path / "org", n_contacts=5), fault_5xx=1.0) as ep:
        with pytest.raises(SalesforceGeneralError) as err:
            ep.client().query("SELECT Id FROM Account")
        assert err.value.status == 503
        session = ep.requests_session()
        session.post(f"{ep.admin_url}/faults", json={"rate_5xx": 0, "rate_drop": 1.0})
        dropped = (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
        with pytest.raises(dropped):
            ep.client().query("SELECT Id FROM Account")
        session.post(f"{ep.admin_url}/faults", json={"rate_5xx": 0, "rate_drop": 0})
        assert ep.client().query("SELECT COUNT() FROM Account")["totalSize"] == 2
        faults = session.get(f"{ep.admin_url}/state").json()["faults"]
        assert faults["injected_5xx"] == 1 and faults["injected_drop"] >= 1


def test_versions_resource_and_unknown_paths(writable: SalesforceEndpoint) -> None:
    session = writable.requests_session()
    versions = session.get(f"{writable.instance_url}/services/data").json()
    assert {"label", "url", "version"} <= set(versions[-1])
    assert "59.0" in {v["version"] for v in versions}
    auth = {"Authorization": f"Bearer {writable.access_token}"}
    res = session.get(f"{writable.instance_url}/services/data/v20.0/sobjects", headers=auth)
    assert res.status_code == 404 and res.json()[0]["errorCode"] == "NOT_FOUND"
    res = session.get(f"{writable.base_url}/sobjects/Nope/describe", headers=auth)
    assert res.status_code == 404
    res = session.get(f"{writable.base_url}/query/01gAAAAAAAAAAAAAAA-2000", headers=auth)
    assert res.status_code == 400 and res.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
