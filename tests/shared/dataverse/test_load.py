"""load_batch against the Dataverse emulator over a real socket: counts, quarantine, journal."""

from __future__ import annotations

import json

import httpx
import pytest

from emulators.dataverse.testing import DataverseEndpoint
from shared.dataverse.context import LoadContext
from shared.dataverse.journal import created_ids, read_run_journal
from shared.dataverse.load import BatchRef, link_batch, load_batch, quarantine_key
from shared.errors import SchemaError
from shared.rows import Rejection, TargetRow
from shared.stage.local import LocalStage
from tests.shared.dataverse.conftest import (
    RUN,
    account_id,
    account_transform,
    accounts,
    dump_rows,
    sf_account,
    stage_batch,
)

REF = BatchRef(RUN, 1, "accounts", "Account", 1)


def by_id(endpoint: DataverseEndpoint) -> dict[str, dict[str, object]]:
    return {r["accountid"]: r for r in dump_rows(endpoint, "account")}  # type: ignore[misc]


async def test_batch_lands_bad_row_quarantined_with_server_code(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    stage_batch(stage, accounts(20, **{"7": {"Industry": 99}}))
    counts = await load_batch(REF, stage=stage, context=context, transform=account_transform)
    assert counts == {
        "extracted": 20,
        "written": 19,
        "written_with_fallback": 0,
        "quarantined": 1,
        "skipped_by_policy": 0,
        "routed_elsewhere": 0,
        "requests": counts["requests"],
    }
    rows = by_id(dataverse)
    assert len(rows) == 19
    assert account_id(sf_account(7)) not in rows
    assert rows[account_id(sf_account(3))]["name"] == "Acme 3"
    quarantine = json.loads(stage.get_bytes(quarantine_key(RUN, "Account", 1, "load")))
    assert [q["source_id"] for q in quarantine] == [sf_account(7)]
    assert quarantine[0]["reason_code"] == "TARGET_REJECTED"
    assert quarantine[0]["value"]["server_code"] == "0x8004431a"
    assert "industrycode" in quarantine[0]["value"]["server_message"]
    # Bisection kept the good rows in bulk: far fewer requests than one per row.
    assert counts["requests"] < 12


async def test_rerun_never_duplicates_and_journal_keeps_created_ids(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    stage_batch(stage, accounts(10))
    first = await load_batch(REF, stage=stage, context=context, transform=account_transform)
    second = await load_batch(REF, stage=stage, context=context, transform=account_transform)
    assert first["written"] == second["written"] == 10
    assert len(dump_rows(dataverse, "account")) == 10
    entries = read_run_journal(stage, RUN)
    rows_entries = sorted((e for e in entries if e.kind == "rows"), key=lambda e: e.seq)
    assert [e.seq for e in rows_entries] == [1, 2]
    created = sorted(account_id(sf_account(i)) for i in range(10))
    # The retry found the rows it had created itself: still "created", never pre-images.
    assert rows_entries[0].created == created
    assert rows_entries[1].created == created
    assert rows_entries[1].pre_images == {}
    assert rows_entries[0].done is not None and rows_entries[0].done["written"] == created
    # Reconciliation asks for one unit's created ids without reading the rest of the journal.
    assert created_ids(stage, RUN, [rows_entries[0].object]) == set(created)
    assert created_ids(stage, RUN, ["SomethingElse"]) == set()


async def test_second_run_journals_pre_images_with_etags(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    stage_batch(stage, accounts(4))
    await load_batch(REF, stage=stage, context=context, transform=account_transform)
    stage_batch(stage, accounts(5, **{"0": {"Name": "Renamed"}}), run_id="run2")
    ref2 = BatchRef("run2", 1, "accounts", "Account", 1)
    counts = await load_batch(ref2, stage=stage, context=context, transform=account_transform)
    assert counts["written"] == 5
    (entry,) = [e for e in read_run_journal(stage, "run2") if e.kind == "rows"]
    assert entry.created == [account_id(sf_account(4))]
    pre = entry.pre_images[account_id(sf_account(0))]
    assert pre["values"]["name"] == "Acme 0"  # the value before run2 changed it
    assert str(pre["etag"]).startswith('W/"')
    assert by_id(dataverse)[account_id(sf_account(0))]["name"] == "Renamed"


async def test_second_pass_links_parents_after_the_phase(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    recs = accounts(6, **{str(i): {"ParentId": sf_account(0)} for i in range(1, 6)})
    recs[0]["ParentId"] = sf_account(5)  # a cycle within the batch is fine in two passes
    stage_batch(stage, recs)
    await load_batch(REF, stage=stage, context=context, transform=account_transform)
    assert all(r.get("parentaccountid") is None for r in dump_rows(dataverse, "account"))
    links = await link_batch(REF, stage=stage, context=context)
    assert links == {
        "links": 6,
        "links_written": 6,
        "links_rejected": 0,
        "requests": links["requests"],
    }
    rows = by_id(dataverse)
    assert rows[account_id(sf_account(3))]["parentaccountid"] == account_id(sf_account(0))
    kinds = [e.kind for e in read_run_journal(stage, RUN)]
    assert kinds == ["link", "rows"]  # rollback order: links undone before rows are deleted


async def test_missing_column_stops_before_any_write(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    def transform(record: dict[str, object]) -> list[TargetRow | Rejection]:
        (row,) = account_transform(record)  # type: ignore[arg-type]
        assert isinstance(row, TargetRow)
        return [
            TargetRow(
                row.table,
                row.entity_set,
                row.id,
                row.source_object,
                row.source_id,
                {**row.payload, "lfwd_sfid": record["Id"]},
            )
        ]

    stage_batch(stage, accounts(3))
    with pytest.raises(SchemaError, match=r"lfwd_sfid.*deploy-schema"):
        await load_batch(REF, stage=stage, context=context, transform=transform)
    assert dump_rows(dataverse, "account") == []
    assert read_run_journal(stage, RUN) == []


async def test_transform_rejections_and_policy_skips_are_counted(
    stage: LocalStage, context: LoadContext
) -> None:
    def transform(record: dict[str, object]) -> list[TargetRow | Rejection]:
        sid = str(record["Id"])
        if sid.endswith("1AAA"):
            return [Rejection("Account", sid, "INVALID_EMAIL", "Email", "bob@", "bad", "fix it")]
        if sid.endswith("2AAA"):
            return [
                Rejection(
                    "Account",
                    sid,
                    "CONVERTED_LEAD",
                    None,
                    None,
                    "skip",
                    "",
                    outcome="skipped_by_policy",
                )
            ]
        return account_transform(record)  # type: ignore[arg-type]

    stage_batch(stage, accounts(4))
    counts = await load_batch(REF, stage=stage, context=context, transform=transform)
    assert (counts["written"], counts["quarantined"], counts["skipped_by_policy"]) == (2, 1, 1)
    assert counts["extracted"] == sum(
        counts[k] for k in ("written", "written_with_fallback", "quarantined", "skipped_by_policy")
    )


async def test_bad_token_stops_with_a_clear_message(
    stage: LocalStage, dataverse: DataverseEndpoint
) -> None:
    from pydantic import SecretStr

    from shared.dataverse.auth import StaticToken
    from shared.dataverse.client import DataverseClient
    from shared.errors import AuthenticationError

    async with httpx.AsyncClient() as http:
        client = DataverseClient(http, url=dataverse.base, tokens=StaticToken(SecretStr("nope")))
        with pytest.raises(AuthenticationError, match="refused the token"):
            await client.connect()


async def test_unreachable_environment_stops_and_journal_stays_empty(stage: LocalStage) -> None:
    from pydantic import SecretStr

    from emulators.common.server import bind_loopback
    from shared.dataverse.auth import StaticToken
    from shared.dataverse.client import DataverseClient
    from shared.errors import UnreachableError

    sock = bind_loopback(0)
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    stage_batch(stage, accounts(2))
    async with httpx.AsyncClient() as http:
        client = DataverseClient(
            http, url=f"http://127.0.0.1:{port}", tokens=StaticToken(SecretStr("t"))
        )
        with pytest.raises(UnreachableError, match="cannot reach"):
            await load_batch(
                REF, stage=stage, context=LoadContext(client), transform=account_transform
            )
    assert read_run_journal(stage, RUN) == []


async def test_a_record_the_mapping_drops_is_quarantined_not_lost(
    stage: LocalStage, context: LoadContext
) -> None:
    def transform(record: dict[str, object]) -> list[TargetRow | Rejection]:
        return [] if str(record["Id"]).endswith("0AAA") else account_transform(record)  # type: ignore[arg-type]

    stage_batch(stage, accounts(3))
    counts = await load_batch(REF, stage=stage, context=context, transform=transform)
    assert (counts["written"], counts["quarantined"]) == (2, 1)
    (entry,) = json.loads(stage.get_bytes(quarantine_key(RUN, "Account", 1, "load")))
    assert entry["reason_code"] == "NO_TARGET_ROWS" and entry["source_id"] == sf_account(0)


async def test_a_transform_returning_one_row_per_record_is_accepted(
    stage: LocalStage, context: LoadContext
) -> None:
    stage_batch(stage, accounts(3))
    counts = await load_batch(
        REF, stage=stage, context=context, transform=lambda r: account_transform(r)[0]
    )
    assert counts["written"] == 3
