"""Bulk API 2.0 query jobs through simple-salesforce's ``bulk2`` (unchanged)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import requests
from simple_salesforce.exceptions import SalesforceMalformedRequest

from emulators.salesforce.testing import SalesforceEndpoint
from tests.emulators.salesforce.conftest import ACME, N_CONTACTS, contact_id


def _rows(pages: list[str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for page in pages:
        out.extend(csv.DictReader(io.StringIO(page)))
    return out


def test_bulk2_query_pages_by_locator_and_returns_every_live_row(sf: Any) -> None:
    pages = list(sf.bulk2.Contact.query("SELECT Id, Email FROM Contact", max_records=1000, wait=0))
    assert len(pages) == 3
    rows = _rows(pages)
    assert len(rows) == N_CONTACTS - 3
    assert len({r["Id"] for r in rows}) == len(rows)


def test_bulk2_query_all_includes_deleted_rows(sf: Any) -> None:
    pages = sf.bulk2.Contact.query_all(
        "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true", wait=0
    )
    rows = _rows(list(pages))
    assert sorted(r["Id"] for r in rows) == sorted(contact_id(i) for i in (5, 6, 7))
    assert {r["IsDeleted"] for r in rows} == {"true"}


def test_bulk2_csv_conventions(sf: Any) -> None:
    soql = (
        "SELECT Id, Account.Name, HasOptedOutOfEmail, MailingCity FROM Contact "
        f"WHERE Id IN ('{contact_id(0)}', '{contact_id(1)}') ORDER BY LastName"
    )
    page = next(iter(sf.bulk2.Contact.query(soql, wait=0)))
    lines = page.split("\n")
    assert lines[0] == '"Id","Account.Name","HasOptedOutOfEmail","MailingCity"'
    assert lines[1] == f'"{contact_id(0)}","Acme","true","Lyon"'
    assert lines[2] == f'"{contact_id(1)}",,"false",'


def test_bulk2_rejects_compound_fields_like_salesforce(sf: Any) -> None:
    with pytest.raises(SalesforceMalformedRequest) as err:
        list(sf.bulk2.Contact.query("SELECT Id, MailingAddress FROM Contact", wait=0))
    assert "compound" in err.value.content[0]["message"]


def test_bulk2_job_lifecycle_and_headers(sf_endpoint: SalesforceEndpoint) -> None:
    session = sf_endpoint.requests_session()
    headers = {"Authorization": f"Bearer {sf_endpoint.access_token}"}
    base = sf_endpoint.base_url
    job = session.post(
        f"{base}/jobs/query",
        json={"operation": "query", "query": f"SELECT Id FROM Account WHERE Id = '{ACME}'",
              "lineEnding": "CRLF", "columnDelimiter": "SEMICOLON"},
        headers=headers,
    ).json()  # fmt: skip
    assert job["state"] == "UploadComplete" and job["object"] == "Account"
    status = session.get(f"{base}/jobs/query/{job['id']}", headers=headers).json()
    assert status["state"] == "JobComplete"
    assert status["numberRecordsProcessed"] == 1
    res = session.get(f"{base}/jobs/query/{job['id']}/results", headers=headers)
    assert res.headers["Sforce-NumberOfRecords"] == "1"
    assert res.headers["Sforce-Locator"] == "null"
    assert res.text == f'"Id"\r\n"{ACME}"\r\n'
    assert session.delete(f"{base}/jobs/query/{job['id']}", headers=headers).status_code == 204
    gone = session.get(f"{base}/jobs/query/{job['id']}", headers=headers)
    assert gone.status_code == 404


def test_bulk2_bad_query_is_refused_at_job_creation(sf_endpoint: SalesforceEndpoint) -> None:
    session: requests.Session = sf_endpoint.requests_session()
    res = session.post(
        f"{sf_endpoint.base_url}/jobs/query",
        json={"operation": "query", "query": "SELECT Nope__c FROM Contact"},
        headers={"Authorization": f"Bearer {sf_endpoint.access_token}"},
    )
    assert res.status_code == 400
    assert res.json()[0]["errorCode"] == "INVALID_FIELD"
