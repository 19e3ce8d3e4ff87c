"""Extraction against the emulator: batches, reconciliation, resume, REST = Bulk, bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulators.salesforce.testing import SalesforceEndpoint, run_salesforce, write_org_dir
from shared.errors import SourceError
from shared.mapping.plan import ObjectExtraction
from shared.salesforce.client import connect
from shared.salesforce.extract import extract_all
from shared.stage.base import Stage
from shared.stage.keys import raw_prefix
from shared.stage.local import LocalStage
from tests.shared.salesforce.conftest import ACC, contact_id, settings_for, small_org_records

ACCOUNTS = ObjectExtraction("Account", ["Id", "Name", "Owner.Email", "BillingAddress", "ParentId"])
CONTACTS = ObjectExtraction(
    "Contact",
    ["Id", "LastName", "Email", "AccountId", "Account.Name", "Owner.Email"],
    depends_on=["Account"],
)


def staged(stage: Stage, run: str, sobject: str) -> list[dict[str, Any]]:
    return [r for k in stage.list_batches(raw_prefix(run, sobject)) for r in stage.read_batch(k)]


def run_extract(
    ep: SalesforceEndpoint, stage: Stage, tmp_path: Path, plan: list[ObjectExtraction], **sf: Any
) -> Any:
    settings = settings_for(ep, tmp_path, salesforce=sf, extract={"batch_size": 2})
    client = connect(settings.salesforce, ep.requests_session())
    return extract_all(client, stage, settings, "run1", plan)


def test_extracts_in_batches_and_reconciles(
    endpoint: SalesforceEndpoint, stage: Stage, tmp_path: Path
) -> None:
    results = run_extract(endpoint, stage, tmp_path, [CONTACTS, ACCOUNTS])
    assert [r.object for r in results] == ["Contact", "Account"]  # the plan's order is kept
    contact = results[0]
    assert (contact.source_count, contact.extracted, contact.status) == (6, 6, "reconciled")
    assert contact.batches == 3 and contact.method == "rest"
    rows = staged(stage, "run1", "Contact")
    assert [r["Id"] for r in rows] == [contact_id(i) for i in range(6)]
    first, second = rows[0], rows[1]
    assert set(first) == {"Id", "LastName", "Email", "AccountId", "Account.Name", "Owner.Email"}
    assert first["AccountId"] is None and first["Account.Name"] is None
    assert second["Account.Name"] == "Acme" and second["Owner.Email"] == "ana@x.test"
    account = results[1]
    acc_rows = staged(stage, "run1", "Account")
    # The compound BillingAddress was expanded into its parts.
    assert "BillingCity" in account.fields and "BillingAddress" not in account.fields
    assert acc_rows[0]["BillingCity"] == "Lyon"
    assert acc_rows[1]["Name"] == 'Zoë\'s "Bikes"'


def test_rest_and_bulk_stage_identical_records(
    endpoint: SalesforceEndpoint, tmp_path: Path
) -> None:
    rest, bulk = LocalStage(tmp_path / "rest"), LocalStage(tmp_path / "bulk")
    r1 = run_extract(endpoint, rest, tmp_path, [ACCOUNTS, CONTACTS], bulk_threshold=1000)
    r2 = run_extract(endpoint, bulk, tmp_path, [ACCOUNTS, CONTACTS], bulk_threshold=0)
    assert [r.method for r in r1] == ["rest", "rest"]
    assert [r.method for r in r2] == ["bulk", "bulk"]
    for sobject in ("Account", "Contact"):
        assert staged(rest, "run1", sobject) == staged(bulk, "run1", sobject)
    assert all(r.status == "reconciled" for r in r2)


def test_query_all_includes_deleted_and_archived(
    endpoint: SalesforceEndpoint, tmp_path: Path
) -> None:
    stage = LocalStage(tmp_path / "s")
    plan = [
        ObjectExtraction("Contact", ["Id", "LastName"], include_deleted=True),
        ObjectExtraction("Task", ["Id", "Subject", "IsArchived"], include_deleted=True),
    ]
    results = run_extract(endpoint, stage, tmp_path, plan)
    assert [(r.source_count, r.extracted, r.status) for r in results] == [
        (7, 7, "reconciled"),
        (2, 2, "reconciled"),
    ]
    contacts = staged(stage, "run1", "Contact")
    assert [r["IsDeleted"] for r in contacts] == [False] * 6 + [True]
    assert {r["Subject"]: r["IsArchived"] for r in staged(stage, "run1", "Task")} == {
        "Call": False,
        "Old": True,
    }


@pytest.mark.parametrize("bulk_threshold", [1000, 0], ids=["rest", "bulk"])
def test_interrupted_object_resumes_from_last_complete_batch(
    endpoint: SalesforceEndpoint, tmp_path: Path, bulk_threshold: int
) -> None:
    stage = LocalStage(tmp_path / "s")
    settings = settings_for(
        endpoint, tmp_path, salesforce={"bulk_threshold": bulk_threshold}, extract={"batch_size": 2}
    )
    client = connect(settings.salesforce, endpoint.requests_session())

    def crash_after_two_batches(sobject: str, done: int, total: int) -> None:
        if done >= 4:
            raise KeyboardInterrupt("operator pressed Ctrl-C")

    with pytest.raises(KeyboardInterrupt):
        extract_all(client, stage, settings, "run1", [CONTACTS], progress=crash_after_two_batches)
    assert len(stage.list_batches(raw_prefix("run1", "Contact"))) == 2
    calls_before = endpoint.emulator.usage.used
    (result,) = extract_all(client, stage, settings, "run1", [CONTACTS])
    assert result.resumed_at_batch == 2
    assert (result.extracted, result.status) == (6, "reconciled")
    ids = [r["Id"] for r in staged(stage, "run1", "Contact")]
    assert ids == sorted(ids) and len(set(ids)) == 6  # nothing twice, nothing missing
    # A finished object is not extracted again on the next run.
    assert endpoint.emulator.usage.used > calls_before
    queries = dict(endpoint.emulator.usage.by_resource)
    (again,) = extract_all(client, stage, settings, "run1", [CONTACTS])
    assert again.extracted == 6
    after = dict(endpoint.emulator.usage.by_resource)
    assert after.get("query") == queries.get("query")  # describes only, no query
    assert after.get("jobs", 0) == queries.get("jobs", 0)


def test_missing_and_fls_hidden_fields_stop_before_any_write(
    endpoint: SalesforceEndpoint, tmp_path: Path
) -> None:
    stage = LocalStage(tmp_path / "s")
    plan = [
        ObjectExtraction("Account", ["Id", "Name"]),
        ObjectExtraction("Contact", ["Id", "Title", "Shoe_Size__c"]),
    ]
    with pytest.raises(SourceError) as info:
        run_extract(endpoint, stage, tmp_path, plan)
    message = str(info.value)
    assert "Contact.Title exists but field-level security hides it" in message
    assert "grant Read access" in message
    assert "Contact.Shoe_Size__c does not exist: correct the mapping" in message
    assert stage.list_keys("") == []


def test_unknown_object_is_named(endpoint: SalesforceEndpoint, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="Nope__c does not exist or the integration user"):
        run_extract(
            endpoint, LocalStage(tmp_path / "s"), tmp_path, [ObjectExtraction("Nope__c", ["Id"])]
        )


def test_soql_error_in_filter_is_clear(endpoint: SalesforceEndpoint, tmp_path: Path) -> None:
    plan = [ObjectExtraction("Contact", ["Id"], where="LastName === 'x'")]
    with pytest.raises(SourceError, match=r"MALFORMED_QUERY[\s\S]*check the mapping's filter"):
        run_extract(endpoint, LocalStage(tmp_path / "s"), tmp_path, plan)


def test_files_streamed_and_links_by_parent(tmp_path: Path) -> None:
    records = small_org_records()
    body = b"%PDF-1.4 " + bytes(range(256)) * 300
    records["ContentVersion"] = [
        {
            "Id": "068000000000001AAA",
            "Title": "Deck",
            "PathOnClient": "deck.pdf",
            "ContentDocumentId": "069000000000001AAA",
            "IsLatest": True,
            "VersionData": None,
        },
    ]
    records["ContentDocument"] = [
        {
            "Id": "069000000000001AAA",
            "Title": "Deck",
            "LatestPublishedVersionId": "068000000000001AAA",
        }
    ]
    records["ContentDocumentLink"] = [
        {
            "Id": "06A000000000001AAA",
            "ContentDocumentId": "069000000000001AAA",
            "LinkedEntityId": ACC,
            "ShareType": "V",
            "Visibility": "AllUsers",
        },
    ]
    org = write_org_dir(tmp_path / "org", records, files={"068000000000001AAA": body})
    stage = LocalStage(tmp_path / "s")
    plan = [
        ACCOUNTS,
        ObjectExtraction(
            "ContentVersion",
            ["Id", "Title", "ContentDocumentId"],
            file_body={"object": "ContentVersion", "id_field": "Id"},
        ),
        ObjectExtraction(
            "ContentDocumentLink",
            ["Id", "ContentDocumentId", "LinkedEntityId"],
            parent_filter={"field": "LinkedEntityId", "parents": ["Account", "Contact"]},
            depends_on=["Account"],
        ),
    ]
    with run_salesforce(org) as ep:
        results = run_extract(ep, stage, tmp_path, plan)
    cv, links = results[1], results[2]
    assert (cv.files, cv.file_bytes, cv.file_errors) == (1, len(body), [])
    with stage.open_read("run1/files/ContentVersion/068000000000001AAA") as fh:
        assert fh.read() == body
    assert links.method == "rest-by-parent"
    assert (links.source_count, links.extracted, links.status) == (1, 1, "reconciled")
    assert staged(stage, "run1", "ContentDocumentLink")[0]["LinkedEntityId"] == ACC


def test_faults_during_extraction_are_retried_and_counts_still_reconcile(tmp_path: Path) -> None:
    records = small_org_records(contacts=25)
    org = write_org_dir(tmp_path / "org", records)
    plan = [ACCOUNTS, CONTACTS]
    with run_salesforce(org, fault_5xx=0.15, fault_drop=0.1, fault_seed=7) as ep:
        rest = run_extract(ep, LocalStage(tmp_path / "r"), tmp_path, plan, max_retries=12)
        bulk = run_extract(
            ep, LocalStage(tmp_path / "b"), tmp_path, plan, max_retries=12, bulk_threshold=0
        )
        injected = ep.emulator.usage.faults_5xx + ep.emulator.usage.faults_dropped
    assert injected > 0
    assert [(r.extracted, r.status) for r in rest] == [(2, "reconciled"), (24, "reconciled")]
    assert [(r.extracted, r.status) for r in bulk] == [(2, "reconciled"), (24, "reconciled")]
    assert staged(LocalStage(tmp_path / "r"), "run1", "Contact") == staged(
        LocalStage(tmp_path / "b"), "run1", "Contact"
    )


def test_links_without_staged_parents_say_what_to_do(
    endpoint: SalesforceEndpoint, tmp_path: Path
) -> None:
    plan = [
        ObjectExtraction(
            "ContentDocumentLink",
            ["Id", "LinkedEntityId"],
            parent_filter={"field": "LinkedEntityId", "parents": ["Account"]},
        )
    ]
    with pytest.raises(SourceError, match="none of them is staged in run run1: extract them first"):
        run_extract(endpoint, LocalStage(tmp_path / "s"), tmp_path, plan)


def test_resume_after_the_bulk_job_expired_starts_the_object_again(
    endpoint: SalesforceEndpoint, tmp_path: Path
) -> None:
    stage = LocalStage(tmp_path / "s")
    settings = settings_for(
        endpoint, tmp_path, salesforce={"bulk_threshold": 0}, extract={"batch_size": 2}
    )
    client = connect(settings.salesforce, endpoint.requests_session())

    def crash(sobject: str, done: int, total: int) -> None:
        if done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        extract_all(client, stage, settings, "run1", [CONTACTS], progress=crash)
    manifest = stage.batch_manifest(stage.list_batches(raw_prefix("run1", "Contact"))[0])
    assert manifest is not None
    deleted = client.session.delete(  # Salesforce does this 7 days after the job finished
        f"{client.sf.bulk2_url}query/{manifest['job_id']}", headers=client.sf.headers
    )
    assert deleted.status_code == 204
    (result,) = extract_all(client, stage, settings, "run1", [CONTACTS])
    assert (result.extracted, result.status, result.resumed_at_batch) == (6, "reconciled", None)
    ids = [r["Id"] for r in staged(stage, "run1", "Contact")]
    assert sorted(ids) == [contact_id(i) for i in range(6)]
