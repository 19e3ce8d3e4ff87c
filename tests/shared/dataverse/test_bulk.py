"""Bulk strategies and bisection against the emulator, plus throttling and injected faults."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from emulators.dataverse.testing import DataverseEndpoint, run_dataverse
from shared.dataverse.bulk import BulkWriter, Item
from shared.dataverse.context import LoadContext
from shared.dataverse.load import BatchRef, load_batch
from shared.dataverse.metadata import BulkSupport
from shared.rows import TargetRow
from shared.stage.local import LocalStage
from tests.shared.dataverse.conftest import (
    RUN,
    account_id,
    account_transform,
    accounts,
    dump_rows,
    make_client,
    sf_account,
    stage_batch,
)

NONE = BulkSupport(upsert_multiple=False, create_multiple=False, update_multiple=False)
SPLIT = BulkSupport(upsert_multiple=False, create_multiple=True, update_multiple=True)


def items(count: int, bad: set[int] = frozenset(), name: str = "Acme") -> list[Item]:  # type: ignore[assignment]
    out = []
    for i in range(count):
        sid = sf_account(i)
        payload = {"name": f"{name} {i}", "industrycode": 99 if i in bad else 1}
        row = TargetRow("account", "accounts", account_id(sid), "Account", sid, payload)
        out.append(Item(row, payload))
    return out


async def test_batch_fallback_isolates_bad_rows_without_bisecting(
    context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    table = await context.table("account")
    writer = BulkWriter(context.client, table, NONE, batch_size=50)
    outcome = await writer.write(items(12, bad={2, 9}), mode="upsert")
    assert sorted(outcome.written) == sorted(
        account_id(sf_account(i)) for i in range(12) if i not in (2, 9)
    )
    assert sorted(r.source_id for r in outcome.rejected) == [sf_account(2), sf_account(9)]
    assert outcome.rejected[0].value["server_code"] == "0x8004431a"
    assert outcome.requests == 1  # continue-on-error: one $batch for everything
    assert len(dump_rows(dataverse, "account")) == 10


async def test_create_update_split_when_upsert_multiple_is_missing(
    context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    table = await context.table("account")
    writer = BulkWriter(context.client, table, SPLIT, batch_size=50)
    await writer.write(items(3), mode="upsert")  # creates: nothing exists yet
    existing = {account_id(sf_account(i)) for i in range(3)}
    outcome = await writer.write(items(5, name="Beta"), mode="upsert", existing=existing)
    assert len(outcome.written) == 5 and outcome.rejected == []
    names = sorted(r["name"] for r in dump_rows(dataverse, "account"))
    assert names == [f"Beta {i}" for i in range(5)]


async def test_create_retried_after_a_lost_response_becomes_an_update(
    context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    table = await context.table("account")
    writer = BulkWriter(context.client, table, SPLIT, batch_size=50)
    await writer.write(items(2), mode="upsert")
    # The journal did not see the rows (as after a response lost mid-write): create again.
    outcome = await writer.write(items(2, name="Again"), mode="upsert", existing=set())
    assert len(outcome.written) == 2 and outcome.rejected == []
    assert sorted(r["name"] for r in dump_rows(dataverse, "account")) == ["Again 0", "Again 1"]


async def test_bisection_isolates_each_bad_row(
    context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    table = await context.table("account")
    support = BulkSupport(upsert_multiple=True, create_multiple=True, update_multiple=True)
    writer = BulkWriter(context.client, table, support, batch_size=64)
    outcome = await writer.write(items(64, bad={5, 40}), mode="upsert")
    assert sorted(r.source_id for r in outcome.rejected) == [sf_account(5), sf_account(40)]
    assert len(outcome.written) == 62
    assert outcome.requests <= 1 + 2 * 2 * 6  # two bad rows, depth log2(64)
    assert len(dump_rows(dataverse, "account")) == 62


async def test_duplicate_target_ids_in_one_batch_are_rejected_not_dropped(
    context: LoadContext,
) -> None:
    table = await context.table("account")
    writer = BulkWriter(context.client, table, NONE, batch_size=10)
    twice = [*items(2), items(1)[0]]
    outcome = await writer.write(twice, mode="upsert")
    assert len(outcome.written) == 2
    assert len(outcome.rejected) == 1 and "only the first is written" in outcome.rejected[0].message


@pytest.mark.parametrize(
    "limits,options",
    [("scaled:600", {}), ("off", {"fault_5xx": 0.25, "fault_drop": 0.15})],
    ids=["429-storm", "5xx-and-drops"],
)
async def test_throttling_and_faults_never_lose_or_duplicate(
    tmp_path: Path, stage: LocalStage, limits: str, options: dict[str, float]
) -> None:
    stage_batch(stage, accounts(60, **{"13": {"Industry": 99}}))
    with run_dataverse(tmp_path / "dv", limits=limits, **options) as endpoint:
        async with httpx.AsyncClient(timeout=10) as http:
            client = make_client(http, endpoint, max_concurrency=6, max_retries=12)
            await client.connect()
            ctx = LoadContext(client, batch_size=5)
            counts = await load_batch(
                BatchRef(RUN, 1, "accounts", "Account", 1),
                stage=stage,
                context=ctx,
                transform=account_transform,
            )
        assert (counts["written"], counts["quarantined"]) == (59, 1)
        rows = dump_rows(endpoint, "account")
        assert len(rows) == 59
        assert len({r["accountid"] for r in rows}) == 59
        assert client.stats.retries > 0  # the faults really happened
        if limits != "off":
            assert client.stats.throttled > 0
