"""Note bodies (inline and chunked, measured on Base64) and activities closed after creation."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from typing import Any

import httpx

from emulators.dataverse.testing import DataverseEndpoint
from shared.dataverse.context import LoadContext
from shared.dataverse.files import base64_size
from shared.dataverse.journal import pre_image, read_run_journal
from shared.dataverse.load import BatchRef, load_batch, quarantine_key
from shared.ids import derived_id
from shared.rows import FileRef, Rejection, TargetRow
from shared.stage.keys import file_key
from shared.stage.local import LocalStage
from tests.shared.dataverse.conftest import (
    NS,
    RUN,
    account_id,
    account_transform,
    accounts,
    dump_rows,
    load_parent_account,
    make_client,
    sf_account,
    stage_batch,
)


def note_transform(record: dict[str, Any]) -> list[TargetRow | Rejection]:
    sid = record["Id"]
    return [
        TargetRow(
            "annotation",
            "annotations",
            derived_id(NS, "Attachment", sid, "note"),
            "Attachment",
            sid,
            {
                "subject": record["Name"],
                "objectid_account@odata.bind": f"/accounts({account_id(record['ParentId'])})",
            },
            file=FileRef(
                file_key(RUN, "Attachment", sid),
                record["BodyLength"],
                record["Name"],
                "application/octet-stream",
            ),
        )
    ]


def body_of(endpoint: DataverseEndpoint, note_id: str) -> bytes:
    rows = {r["annotationid"]: r for r in dump_rows(endpoint, "annotation")}
    return base64.b64decode(str(rows[note_id]["documentbody"]))


async def test_small_bodies_inline_large_ones_chunked(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    await load_parent_account(stage, context)
    small, large = os.urandom(3000), os.urandom(4 * 1024 * 1024 + 1000)  # large → two blocks
    records = []
    for n, body in enumerate((small, large)):
        sid = f"00P000000000{n:03d}AAA"
        stage.put_bytes(file_key(RUN, "Attachment", sid), body)
        records.append(
            {"Id": sid, "Name": f"f{n}.bin", "BodyLength": len(body), "ParentId": sf_account(0)}
        )
    stage_batch(stage, records, sobject="Attachment")
    assert base64_size(len(large)) > 5_242_880 >= base64_size(len(small))
    counts = await load_batch(
        BatchRef(RUN, 2, "notes", "Attachment", 1),
        stage=stage,
        context=context,
        transform=note_transform,
    )
    assert counts["written"] == 2
    assert body_of(dataverse, derived_id(NS, "Attachment", records[0]["Id"], "note")) == small
    assert body_of(dataverse, derived_id(NS, "Attachment", records[1]["Id"], "note")) == large
    assert context.client.stats.by_action.get("UploadBlock") == 2
    files = [e for e in read_run_journal(stage, RUN) if e.kind == "files"]
    assert len(files) == 1 and len(files[0].created) == 2


async def test_limit_is_measured_on_base64_and_unavailable_chunking_quarantines(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    # 3000 bytes is 4000 as Base64: above a 3500-byte limit although the file is smaller.
    httpx.patch(dataverse.admin_url + "organization", json={"maxuploadfilesize": 3500})
    await load_parent_account(stage, context)
    sid = "00P000000000001AAA"
    stage.put_bytes(file_key(RUN, "Attachment", sid), os.urandom(3000))
    stage_batch(
        stage,
        [{"Id": sid, "Name": "big.pdf", "BodyLength": 3000, "ParentId": sf_account(0)}],
        sobject="Attachment",
    )
    context.chunked_files = False  # an environment without the block upload messages
    counts = await load_batch(
        BatchRef(RUN, 2, "notes", "Attachment", 1),
        stage=stage,
        context=context,
        transform=note_transform,
    )
    assert counts["quarantined"] == 1 and counts["written"] == 0
    (entry,) = json.loads(stage.get_bytes(quarantine_key(RUN, "Attachment", 1, "load")))
    assert entry["reason_code"] == "FILE_TOO_LARGE"
    assert entry["value"] == {
        "filename": "big.pdf",
        "bytes": 3000,
        "base64_bytes": 4000,
        "maxuploadfilesize": 3500,
    }
    assert dump_rows(dataverse, "annotation") == []


def task_transform(record: dict[str, Any]) -> list[TargetRow | Rejection]:
    sid = record["Id"]
    close = {"statecode": 1, "statuscode": 5} if record["Status"] == "Completed" else None
    return [
        TargetRow(
            "task",
            "tasks",
            derived_id(NS, "Task", sid, "task"),
            "Task",
            sid,
            {
                "subject": record["Subject"],
                "regardingobjectid_account_task@odata.bind": "/accounts("
                + account_id(record["WhatId"])
                + ")",
            },
            close=close,
        )
    ]


async def test_activities_are_closed_after_creation(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    await load_parent_account(stage, context)
    tasks = [
        {
            "Id": f"00T000000000{n:03d}AAA",
            "Subject": f"Call {n}",
            "WhatId": sf_account(0),
            "Status": "Completed" if n % 2 else "Open",
        }
        for n in range(4)
    ]
    stage_batch(stage, tasks, sobject="Task")
    counts = await load_batch(
        BatchRef(RUN, 2, "activities", "Task", 1),
        stage=stage,
        context=context,
        transform=task_transform,
    )
    assert counts["written"] == 4
    states = {r["subject"]: (r["statecode"], r["statuscode"]) for r in dump_rows(dataverse, "task")}
    assert states == {"Call 0": (0, 2), "Call 1": (1, 5), "Call 2": (0, 2), "Call 3": (1, 5)}
    kinds = [e.kind for e in read_run_journal(stage, RUN) if e.phase == "activities"]
    assert kinds == ["close", "rows"]


class LoseOneReply(httpx.AsyncBaseTransport):
    """Send every request to the server, but lose the reply to the first one that matches.

    The server has applied that request; the client sees a timeout, as when a reply is slow
    or the connection drops on its way back.
    """

    def __init__(self, match: Callable[[httpx.Request], bool]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.match = match
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not self.lost and self.match(request):
            await response.aread()
            await response.aclose()
            self.lost += 1
            raise httpx.ReadTimeout("the reply was lost", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_close_applied_but_whose_reply_was_lost_counts_as_closed(
    stage: LocalStage, dataverse: DataverseEndpoint
) -> None:
    lose = LoseOneReply(
        lambda r: r.url.path.endswith(".UpdateMultiple") and b"statecode" in r.content
    )
    async with httpx.AsyncClient(transport=lose, timeout=30) as http:
        client = make_client(http, dataverse)
        await client.connect()
        context = LoadContext(client, batch_size=8)
        await load_parent_account(stage, context)
        tasks = [
            {
                "Id": f"00T000000000{n:03d}AAA",
                "Subject": f"Call {n}",
                "WhatId": sf_account(0),
                "Status": "Completed",
            }
            for n in range(3)
        ]
        stage_batch(stage, tasks, sobject="Task")
        counts = await load_batch(
            BatchRef(RUN, 2, "activities", "Task", 1),
            stage=stage,
            context=context,
            transform=task_transform,
        )
    # The retry of the close was refused (the tasks were closed already): they are closed,
    # as the source says, and nothing is quarantined.
    assert lose.lost == 1
    assert (counts["written"], counts["quarantined"]) == (3, 0), counts
    states = {(r["statecode"], r["statuscode"]) for r in dump_rows(dataverse, "task")}
    assert states == {(1, 5)}


async def test_rerun_of_closed_activities_reopens_writes_and_closes_again(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    await load_parent_account(stage, context)
    tasks = [
        {
            "Id": "00T000000000001AAA",
            "Subject": "Call",
            "WhatId": sf_account(0),
            "Status": "Completed",
        }
    ]
    stage_batch(stage, tasks, sobject="Task")
    ref = BatchRef(RUN, 2, "activities", "Task", 1)
    await load_batch(ref, stage=stage, context=context, transform=task_transform)
    tasks[0]["Subject"] = "Call (corrected)"
    stage_batch(stage, tasks, sobject="Task")
    counts = await load_batch(ref, stage=stage, context=context, transform=task_transform)
    assert counts["written"] == 1, counts
    (row,) = dump_rows(dataverse, "task")
    assert (row["subject"], row["statecode"], row["statuscode"]) == ("Call (corrected)", 1, 5)


async def test_note_pre_image_keeps_a_fingerprint_not_the_body(
    stage: LocalStage, context: LoadContext
) -> None:
    import hashlib

    stage_batch(stage, accounts(1))
    stage_batch(stage, accounts(1), run_id="run2")
    sid = "00P000000000001AAA"
    body = os.urandom(2000)
    record = {"Id": sid, "Name": "a.bin", "BodyLength": len(body), "ParentId": sf_account(0)}
    for run in (RUN, "run2"):
        stage.put_bytes(file_key(RUN, "Attachment", sid), body)
        stage_batch(stage, [record], sobject="Attachment", run_id=run)
        await load_batch(
            BatchRef(run, 1, "accounts", "Account", 1),
            stage=stage,
            context=context,
            transform=account_transform,
        )
        await load_batch(
            BatchRef(run, 2, "notes", "Attachment", 1),
            stage=stage,
            context=context,
            transform=note_transform,
        )
    (entry,) = [e for e in read_run_journal(stage, "run2") if e.kind == "files"]
    (pre,) = entry.pre_images.values()
    assert "documentbody" not in pre["values"]
    assert pre["values"]["filename"] == "a.bin" and pre["etag"]
    # Where the server returns the body with the row, only its fingerprint is kept.
    b64 = base64.b64encode(body).decode()
    kept = pre_image({"@odata.etag": 'W/"9"', "annotationid": "x", "documentbody": b64})
    assert kept == {
        "etag": 'W/"9"',
        "values": {
            "annotationid": "x",
            "documentbody_sha256": hashlib.sha256(b64.encode()).hexdigest(),
            "documentbody_length": len(b64),
        },
    }


async def test_activity_reopened_in_the_source_is_reopened_in_the_target(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    await load_parent_account(stage, context)
    task = {
        "Id": "00T000000000001AAA",
        "Subject": "Call",
        "WhatId": sf_account(0),
        "Status": "Completed",
    }
    ref = BatchRef(RUN, 2, "activities", "Task", 1)
    for status in ("Completed", "Open"):
        stage_batch(stage, [{**task, "Status": status}], sobject="Task")
        counts = await load_batch(ref, stage=stage, context=context, transform=task_transform)
        assert counts["written"] == 1
    (row,) = dump_rows(dataverse, "task")
    assert row["statecode"] == 0


def opportunity_transform(record: dict[str, Any]) -> list[TargetRow | Rejection]:
    sid = record["Id"]
    close = {"Closed Won": (1, 3), "Closed Lost": (2, 4)}.get(record["StageName"])
    return [
        TargetRow(
            "opportunity",
            "opportunities",
            derived_id(NS, "Opportunity", sid, "row"),
            "Opportunity",
            sid,
            {
                "name": record["Name"],
                "estimatedvalue": record["Amount"],
                "estimatedclosedate": record["CloseDate"],
                "customerid_account@odata.bind": f"/accounts({account_id(record['AccountId'])})",
            },
            close=None if close is None else {"statecode": close[0], "statuscode": close[1]},
        )
    ]


async def test_won_and_lost_deals_are_closed_through_their_messages(
    stage: LocalStage, context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    # Dataverse refuses to close an opportunity by PATCHing its state; a migration that did
    # so would quarantine every closed deal.
    await load_parent_account(stage, context)
    deals = [
        {
            "Id": f"006000000000{n:03d}AAA",
            "Name": f"Deal {n}",
            "Amount": 1000.0 * (n + 1),
            "CloseDate": "2025-06-30",
            "AccountId": sf_account(0),
            "StageName": stage_name,
        }
        for n, stage_name in enumerate(["Closed Won", "Closed Lost", "Negotiation/Review"])
    ]
    stage_batch(stage, deals, sobject="Opportunity")
    counts = await load_batch(
        BatchRef(RUN, 2, "deals", "Opportunity", 1),
        stage=stage,
        context=context,
        transform=opportunity_transform,
    )
    assert counts["written"] == 3 and counts["quarantined"] == 0, counts
    rows = {r["name"]: r for r in dump_rows(dataverse, "opportunity")}
    assert (rows["Deal 0"]["statecode"], rows["Deal 0"]["statuscode"]) == (1, 3)
    assert float(rows["Deal 0"]["actualvalue"]) == 1000.0
    assert str(rows["Deal 0"]["actualclosedate"]).startswith("2025-06-30")
    assert (rows["Deal 1"]["statecode"], rows["Deal 1"]["statuscode"]) == (2, 4)
    assert rows["Deal 2"]["statecode"] == 0
