"""Fixtures for loader tests: the Dataverse emulator on a real socket, a stage, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from emulators.dataverse.testing import DataverseEndpoint, run_dataverse
from shared.dataverse.auth import StaticToken
from shared.dataverse.client import DataverseClient
from shared.dataverse.context import LoadContext
from shared.dataverse.load import BatchRef, load_batch
from shared.ids import org_namespace, target_id
from shared.rows import Rejection, TargetRow
from shared.stage.keys import raw_batch_key
from shared.stage.local import LocalStage

NS = org_namespace("00D000000000001AAA")
RUN = "run1"


def sf_account(n: int) -> str:
    """A valid 18-character Account id."""
    return f"001000000000{n:03d}AAA"


def account_id(sf_id: str) -> str:
    return target_id(NS, "Account", sf_id)


def account_transform(record: dict[str, Any]) -> list[TargetRow | Rejection]:
    """A hand-built stand-in for the mapping's transform (Account → account)."""
    payload: dict[str, Any] = {"name": record["Name"]}
    for src, dst in (
        ("AnnualRevenue", "revenue"),
        ("Industry", "industrycode"),
        ("Description", "description"),
    ):
        if src in record:
            payload[dst] = record[src]
    second = {}
    if record.get("ParentId"):
        second["parentaccountid@odata.bind"] = f"/accounts({account_id(record['ParentId'])})"
    return [
        TargetRow(
            "account",
            "accounts",
            account_id(record["Id"]),
            "Account",
            record["Id"],
            payload,
            second_pass=second,
        )
    ]


def accounts(count: int, **overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """``count`` staged Account records; ``overrides`` maps an index (as str) to changes."""
    out = []
    for i in range(count):
        rec: dict[str, Any] = {
            "Id": sf_account(i),
            "Name": f"Acme {i}",
            "AnnualRevenue": 1000.25 + i,
            "Industry": 1 + i % 33,
        }
        rec.update(overrides.get(str(i), {}))
        out.append(rec)
    return out


@pytest.fixture
def stage(tmp_path: Path) -> LocalStage:
    return LocalStage(tmp_path / "stage")


def stage_batch(
    stage: LocalStage,
    records: list[dict[str, Any]],
    sobject: str = "Account",
    batch: int = 1,
    run_id: str = RUN,
) -> None:
    stage.write_batch(raw_batch_key(run_id, sobject, batch), records)


@pytest.fixture
def dataverse(tmp_path: Path) -> Iterator[DataverseEndpoint]:
    with run_dataverse(tmp_path / "dv") as endpoint:
        yield endpoint


def make_client(http: httpx.AsyncClient, endpoint: DataverseEndpoint, **kw: Any) -> DataverseClient:
    kw.setdefault("backoff_seconds", 0.02)
    return DataverseClient(
        http, url=endpoint.base, tokens=StaticToken(SecretStr(endpoint.token)), **kw
    )


@pytest.fixture
async def context(dataverse: DataverseEndpoint) -> AsyncIterator[LoadContext]:
    async with httpx.AsyncClient(timeout=30) as http:
        client = make_client(http, dataverse)
        await client.connect()
        yield LoadContext(client, batch_size=8)


def dump_rows(endpoint: DataverseEndpoint, table: str) -> list[dict[str, Any]]:
    """Rows of one table as the emulator's admin dump shows them."""
    data = httpx.get(endpoint.admin_url + "dump", timeout=30).json()
    rows: list[dict[str, Any]] = data["tables"][table]
    return rows


async def load_parent_account(stage: LocalStage, context: LoadContext) -> None:
    """Stage and load account 0 (phase 1), the parent later tests attach things to."""
    stage_batch(stage, accounts(1))
    await load_batch(
        BatchRef(RUN, 1, "accounts", "Account", 1),
        stage=stage,
        context=context,
        transform=account_transform,
    )
