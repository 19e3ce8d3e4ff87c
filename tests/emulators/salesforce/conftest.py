"""Small hand-made orgs and running emulators for the Salesforce emulator's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.salesforce.testing import SalesforceEndpoint, run_salesforce, write_org_dir

ACME = "001000000000001AAA"
GLOBEX = "001000000000002AAA"
OWNER = "005000000000010AAA"
INACTIVE = "005000000000011AAA"
N_CONTACTS = 2500
BIG_FILE = "068000000000001AAA"
EMPTY_FILE = "068000000000002AAA"
BIG_BODY = bytes(range(256)) * 12_000  # ~3 MB


def contact_id(i: int) -> str:
    """The id of the i-th seeded contact (18 characters, valid case suffix)."""
    from shared.ids import to_18

    return to_18(f"003000000{i:06d}")


def org_records(n_contacts: int = N_CONTACTS) -> dict[str, list[dict[str, Any]]]:
    """A small org: users, an account hierarchy, 2,500 contacts (3 deleted), activities, files."""
    contacts = []
    for i in range(n_contacts):
        contacts.append(
            {
                "Id": contact_id(i),
                "FirstName": f"First{i}",
                "LastName": f"Last{i:04d}",
                "Email": f"person{i}@example.com",
                "AccountId": ACME if i % 2 == 0 else (GLOBEX if i % 3 == 0 else None),
                "OwnerId": OWNER,
                "MailingCity": "Lyon" if i == 0 else None,
                "MailingStreet": "1 Rue X" if i == 0 else None,
                "HasOptedOutOfEmail": i % 10 == 0,
                "Salary__c": 1000.0 + i,
                "leadfwd__Engagement_Status__c": "Active",
                "CreatedDate": "2024-01-01T00:00:00.000+0000",
                "LastModifiedDate": f"2024-02-01T00:00:{i % 60:02d}.000+0000",
                "IsDeleted": i in (5, 6, 7),
            }
        )
    return {
        "User": [
            {"Id": OWNER, "Username": "ana@acme.example", "LastName": "Ortiz", "FirstName": "Ana",
             "Email": "ana@acme.example", "IsActive": True, "Alias": "aort"},
            {"Id": INACTIVE, "Username": "old@acme.example", "LastName": "Gone",
             "Email": "old@acme.example", "IsActive": False, "Alias": "gone"},
        ],
        "Account": [
            {"Id": ACME, "Name": "Acme", "OwnerId": OWNER, "BillingCity": "Paris",
             "BillingCountry": "France", "NumberOfEmployees": 250, "AnnualRevenue": 1500000.5,
             "Industry": "Technology"},
            {"Id": GLOBEX, "Name": "Globex", "ParentId": ACME, "OwnerId": INACTIVE},
        ],
        "Contact": contacts,
        "Lead": [
            {"Id": "00Q000000000001AAA", "LastName": "Lee", "Company": "Initech",
             "Status": "Open - Not Contacted", "leadfwd__Lead_Score__c": 42},
        ],
        "Task": [
            {"Id": "00T000000000001AAA", "Subject": "Call Bo", "WhoId": contact_id(0),
             "WhatId": ACME, "Status": "Completed", "Priority": "Normal",
             "TaskSubtype": "Call", "CallDurationInSeconds": 95},
            {"Id": "00T000000000002AAA", "Subject": "Email Lee", "WhoId": "00Q000000000001AAA",
             "Status": "Not Started", "Priority": "High"},
            {"Id": "00T000000000003AAA", "Subject": "Old call", "WhoId": contact_id(1),
             "Status": "Completed", "Priority": "Low", "IsArchived": True},
        ],
        "ContentVersion": [
            {"Id": BIG_FILE, "Title": "Deck", "PathOnClient": "deck.pdf",
             "ContentDocumentId": "069000000000001AAA", "FirstPublishLocationId": ACME},
            {"Id": EMPTY_FILE, "Title": "Empty", "PathOnClient": "empty.txt",
             "ContentDocumentId": "069000000000002AAA"},
        ],
        "leadfwd__Sequence__c": [
            {"Id": "a0B000000000001AAA", "Name": "Outbound Q1", "leadfwd__Status__c": "Active"}
        ],
    }  # fmt: skip


SCHEMA = {
    "Contact": [
        {"name": "Salary__c", "type": "currency", "label": "Salary", "precision": 18, "scale": 2}
    ]
}
HIDDEN = {"Contact": ["Salary__c"]}


def make_org(path: Path, n_contacts: int = N_CONTACTS, **kw: Any) -> Path:
    """Write the standard test org to ``path``."""
    return write_org_dir(
        path,
        org_records(n_contacts),
        schema=SCHEMA,
        hidden_fields=HIDDEN,
        files={BIG_FILE: BIG_BODY, EMPTY_FILE: b""},
        **kw,
    )


@pytest.fixture(scope="module")
def org_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The standard test org (built once per module)."""
    return make_org(tmp_path_factory.mktemp("org"))


@pytest.fixture(scope="module")
def sf_endpoint(org_dir: Path) -> Iterator[SalesforceEndpoint]:
    """The standard org served over HTTPS; tests using it must not write."""
    with run_salesforce(org_dir, tls=True) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def sf(sf_endpoint: SalesforceEndpoint) -> Any:
    """simple-salesforce, unchanged, in direct mode against ``sf_endpoint``."""
    return sf_endpoint.client()


@pytest.fixture
def writable(tmp_path: Path) -> Iterator[SalesforceEndpoint]:
    """A fresh, smaller copy of the standard org over plain HTTP, for tests that write."""
    with run_salesforce(make_org(tmp_path / "org", n_contacts=20)) as endpoint:
        yield endpoint
