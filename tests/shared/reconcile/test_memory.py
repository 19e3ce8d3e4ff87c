"""Reconciling a large object holds one batch and the sample, never one entry per record.

At 1M contacts an object has millions of loaded rows: the read-back sample is chosen in one
streaming pass, and the run's created ids are read one journal batch at a time. Results must
be exactly those of the whole-object sets they replace.
"""

from __future__ import annotations

import gc
import hashlib
import random
import tracemalloc
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from shared.dataverse.context import LoadContext
from shared.dataverse.journal import batch_created_ids, created_ids
from shared.dataverse.load import BatchRef, load_batch, loaded_key
from shared.reconcile.readback import reconcile_object, sample_ids
from shared.rows import Rejection, TargetRow
from shared.stage.local import LocalStage
from tests.shared.dataverse.conftest import (
    RUN,
    account_id,
    account_transform,
    accounts,
    sf_account,
    stage_batch,
)

MiB = 1024 * 1024


def whole_pool_sample(ids: Iterable[str], size: int) -> set[str]:
    """The definition the streaming sample must reproduce: sort every id, twice."""
    pool = sorted(set(ids))
    if len(pool) <= size:
        return set(pool)
    ranked = sorted(pool, key=lambda i: hashlib.sha256(i.encode()).hexdigest())
    return set(ranked[:size])


def random_ids(rng: random.Random) -> list[str]:
    """Distinct ids (uuids, and short strings whose digests tie-break nothing), repeated."""
    distinct = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(rng.randint(0, 300))]
    distinct += [f"{rng.choice('aAbB')}{n}" for n in range(rng.randint(0, 20))]
    ids = distinct + rng.choices(distinct, k=len(distinct) // 2) if distinct else []
    rng.shuffle(ids)
    return ids


@pytest.mark.parametrize("seed", range(25))
def test_streamed_sample_is_the_whole_pool_sample(seed: int) -> None:
    rng = random.Random(seed)
    ids = random_ids(rng)
    count = len(set(ids))
    for size in sorted({0, 1, rng.randint(0, 400), max(count - 1, 0), count, count + 1, 10_000}):
        # A generator: the sample must not need a second look at its input.
        assert sample_ids((i for i in ids), size) == whole_pool_sample(ids, size), (seed, size)


def test_duplicates_count_once_and_sizes_at_the_edges() -> None:
    ids = ["b", "a", "b", "c", "a", "c", "c"]
    assert sample_ids(ids, 3) == {"a", "b", "c"}  # three distinct ids: all of them
    assert sample_ids(ids, 100) == {"a", "b", "c"}
    assert sample_ids(ids, 0) == set()
    assert sample_ids([], 5) == set()
    assert sample_ids(ids, 2) == whole_pool_sample(ids, 2)
    with pytest.raises(ValueError, match="-1"):
        sample_ids(ids, -1)


def traced_peak(run: Any) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_sample_memory_does_not_grow_with_the_number_of_ids() -> None:
    def choose(count: int) -> Any:
        return lambda: sample_ids((str(uuid.UUID(int=i)) for i in range(count)), 100)

    small, big = traced_peak(choose(2_000)), traced_peak(choose(100_000))
    # Holding 100,000 ids would take about 10 MiB; the heap of 100 takes a few KiB.
    assert big < small + 64 * 1024, (small, big)


class ReadLog(LocalStage):
    """A local stage that remembers which keys were listed and read."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.read: list[str] = []
        self.listed: list[str] = []

    def get_bytes(self, key: str) -> bytes:
        self.read.append(key)
        return super().get_bytes(key)

    def list_keys(self, prefix: str) -> list[str]:
        self.listed.append(prefix)
        return super().list_keys(prefix)


def loaded_ids(stage: LocalStage, unit: str, batch: int) -> set[str]:
    return {r["id"].lower() for r in stage.read_batch(loaded_key(RUN, unit, batch))}


async def test_created_ids_of_one_batch_are_the_object_set_restricted_to_it(
    tmp_path: Path, context: LoadContext
) -> None:
    stage = ReadLog(tmp_path / "logged")
    # Account 7 exists before the run (another run loaded it): updated, never "created".
    stage_batch(stage, accounts(8)[7:], run_id="earlier")
    await load_batch(
        BatchRef("earlier", 1, "accounts", "Account", 1),
        stage=stage,
        context=context,
        transform=account_transform,
    )
    for batch in (1, 2, 3):
        stage_batch(stage, accounts(9)[(batch - 1) * 3 : batch * 3], batch=batch)
        await load_batch(
            BatchRef(RUN, 1, "accounts", "Account", batch),
            stage=stage,
            context=context,
            transform=account_transform,
        )
    # A second unit of the same source in the same run finds batch 1's rows already there.
    await load_batch(
        BatchRef(RUN, 1, "accounts", "Account", 1, entry="account_copy"),
        stage=stage,
        context=context,
        transform=account_transform,
    )
    whole = created_ids(stage, RUN, ["Account"])
    assert account_id(sf_account(7)) not in whole and len(whole) == 8
    per_batch = {}
    for batch in (1, 2, 3):
        stage.read.clear()
        stage.listed.clear()
        per_batch[batch] = batch_created_ids(
            stage, RUN, "Account", batch, phase_index=1, phase="accounts"
        )
        prefix = f"{RUN}/journal/01-accounts/Account/{batch:05d}/"
        assert stage.listed == [prefix]
        assert stage.read and all(key.startswith(prefix) for key in stage.read)
        assert per_batch[batch] == whole & loaded_ids(stage, "Account", batch)
    assert set().union(*per_batch.values()) == whole
    assert batch_created_ids(stage, RUN, "Account", 4, phase_index=1, phase="accounts") == set()
    copy = batch_created_ids(stage, RUN, "account_copy", 1, phase_index=1, phase="accounts")
    assert copy == set() == created_ids(stage, RUN, ["account_copy"])


def dated_transform(record: dict[str, Any]) -> list[TargetRow | Rejection]:
    """Accounts that carry their Salesforce creation date (create-only in Dataverse)."""
    (row,) = account_transform(record)
    assert isinstance(row, TargetRow)
    payload = {**row.payload, "overriddencreatedon": record["CreatedDate"]}
    return [TargetRow(row.table, row.entity_set, row.id, "Account", row.source_id, payload)]


def dated(n: int, created: str) -> dict[str, Any]:
    return {**accounts(n + 1)[n], "CreatedDate": created}


async def test_explanations_consult_every_batch_as_the_object_sets_did(
    stage: LocalStage, context: LoadContext
) -> None:
    stage_batch(stage, [dated(0, "2020-01-01")], run_id="earlier")
    await load_batch(
        BatchRef("earlier", 1, "accounts", "Account", 1),
        stage=stage,
        context=context,
        transform=dated_transform,
    )
    # Account 1 appears in both batches: batch 1 creates it, batch 2 finds it existing.
    staged = {
        1: [dated(0, "2021-01-01"), dated(1, "2021-02-01")],
        2: [dated(1, "2022-02-01"), dated(2, "2021-03-01")],
    }
    for batch, records in staged.items():
        stage_batch(stage, records, batch=batch)
        await load_batch(
            BatchRef(RUN, 1, "accounts", "Account", batch),
            stage=stage,
            context=context,
            transform=dated_transform,
        )
    assert batch_created_ids(stage, RUN, "Account", 2, phase_index=1, phase="accounts") == {
        account_id(sf_account(2))
    }
    result, rows = await reconcile_object(stage, context, RUN, "Account", readback_sample=3)
    assert (result.target_rows, result.present, result.readback_records) == (4, 4, 4)
    assert not result.sampled  # three distinct ids, all read back
    assert [(m.source_id, m.column, m.explanation) for m in result.mismatches] == [
        # The row existed before this run: its creation date cannot be changed, as designed.
        (sf_account(0), "overriddencreatedon", "CREATE_ONLY_ON_EXISTING_ROW"),
        # This run created the row (in batch 1): a different date later is a real difference.
        (sf_account(1), "overriddencreatedon", None),
    ]
    assert [r["record"]["source_id"] for r in rows] == [sf_account(n) for n in (0, 1, 1, 2)]
    sampled, _ = await reconcile_object(stage, context, RUN, "Account", readback_sample=2)
    assert sampled.sampled and sampled.readback_records in (2, 3)


async def load_accounts(stage: LocalStage, context: LoadContext, run_id: str, count: int) -> None:
    """``count`` accounts in batches of 2,000, loaded with bulk requests of 500."""
    bulk = LoadContext(context.client, batch_size=500)
    first = 100_000 if run_id == "big" else 0
    for batch in range(count // 2000):
        numbers = range(first + batch * 2000, first + (batch + 1) * 2000)
        records = [{"Id": f"001{n:012d}AAA", "Name": f"Acme {n}", "Industry": 1} for n in numbers]
        stage_batch(stage, records, batch=batch + 1, run_id=run_id)
        ref = BatchRef(run_id, 1, "accounts", "Account", batch + 1)
        await load_batch(ref, stage=stage, context=bulk, transform=account_transform)


async def working_memory(stage: LocalStage, context: LoadContext, run_id: str) -> int:
    """Peak traced memory of one reconciliation, less what stays allocated after it.

    The emulator runs in this process; what outlives the call is the HTTP stack's own caches
    (a URL parse cache of 128 entries on each side), bounded and not reconciliation's.
    """
    gc.collect()
    tracemalloc.start()
    try:
        result, _ = await reconcile_object(stage, context, run_id, "Account", readback_sample=50)
        del result, _
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        return peak - current
    finally:
        tracemalloc.stop()


@pytest.mark.slow
async def test_reconcile_working_memory_does_not_grow_with_the_object(
    stage: LocalStage, context: LoadContext
) -> None:
    await load_accounts(stage, context, "small", 2_000)
    await load_accounts(stage, context, "big", 20_000)
    small = await working_memory(stage, context, "small")
    big = await working_memory(stage, context, "big")
    # Ten times the rows in batches of the same size: one more set of 20,000 ids (about
    # 2.7 MiB) or anything else per record would show; one batch at a time does not.
    assert big < small + 2 * MiB, (small / MiB, big / MiB)
