from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from emulators.dataverse.limits import MAX_CONCURRENT, request_cost
from emulators.dataverse.testing import run_dataverse


def test_request_limit_gives_429_with_retry_after_and_per_user_accounting(tmp_path: Path) -> None:
    # scaled:20 → window 15 s, 300 requests per window: wide enough that a loaded CI machine
    # sends all 301 inside one window (at scaled:100 a 3 s window rolled over mid-test).
    with run_dataverse(tmp_path, limits="scaled:20") as dv:
        api = httpx.Client(base_url=dv.url, headers=dv.headers())
        codes = [api.get("WhoAmI").status_code for _ in range(301)]
        assert codes[:300] == [200] * 300 and codes[300] == 429
        r = api.get("WhoAmI")
        assert r.json()["error"]["code"] == "0x80072322"
        assert (
            r.json()["error"]["message"]
            == "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
        )
        assert int(r.headers["Retry-After"]) >= 1
        other = httpx.post(
            dv.admin_url + "systemusers",
            json=[{"internalemailaddress": "o@x.com", "fullname": "O"}],
        ).json()[0]
        token = httpx.post(
            dv.admin_url + "tokens", json={"systemuserid": other["systemuserid"]}
        ).json()["token"]
        assert (
            httpx.get(dv.url + "WhoAmI", headers={"Authorization": f"Bearer {token}"}).json()[
                "UserId"
            ]
            == other["systemuserid"]
        )
        counters = httpx.get(dv.admin_url + "counters").json()
        assert counters["throttled"]["0x80072322"] >= 2
        # The modelled execution time charged to the budget is reported per message, so a
        # benchmark can say how much of the budget a run used (refused requests cost none).
        assert counters["execution_s"]["WhoAmI"] == pytest.approx(
            300 * request_cost("WhoAmI", "GET", 1), rel=0.05
        )


def test_execution_time_limit(tmp_path: Path) -> None:
    # scaled:100 → 12 s of execution and 60 requests per 3 s window: three CreateMultiple
    # requests of 1000 rows (modelled at ~4 s each) exhaust the execution budget.
    with run_dataverse(tmp_path, limits="scaled:100") as dv:
        api = httpx.Client(base_url=dv.url, headers=dv.headers(), timeout=60)
        for batch in range(3):
            targets = [
                {"@odata.type": "Microsoft.Dynamics.CRM.contact", "lastname": f"{batch}-{i}"}
                for i in range(1000)
            ]
            url = "contacts/Microsoft.Dynamics.CRM.CreateMultiple"
            assert api.post(url, json={"Targets": targets}).status_code == 200
        r = api.get("WhoAmI")
        assert r.status_code == 429 and r.json()["error"]["code"] == "0x80072321"


def test_concurrency_limit(tmp_path: Path) -> None:
    with run_dataverse(tmp_path, limits="scaled:1", fault_slow=2.0) as dv:

        async def burst() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=MAX_CONCURRENT + 10)
            async with httpx.AsyncClient(headers=dv.headers(), limits=limits, timeout=30) as client:
                calls = [client.get(dv.url + "WhoAmI") for _ in range(MAX_CONCURRENT + 8)]
                return list(await asyncio.gather(*calls))

        results = asyncio.run(burst())
        throttled = [r for r in results if r.status_code == 429]
        assert throttled and all(r.json()["error"]["code"] == "0x80072326" for r in throttled)
        assert sum(r.status_code == 200 for r in results) <= MAX_CONCURRENT


def test_cost_model_makes_bulk_cheaper_per_record() -> None:
    assert (
        request_cost("UpsertMultiple", "POST", 1000) / 1000 < request_cost("Create", "POST", 1) / 5
    )
