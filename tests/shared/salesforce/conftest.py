"""A tiny org served by the Salesforce emulator over real sockets, and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.salesforce.testing import SalesforceEndpoint, run_salesforce, write_org_dir
from shared.settings import Settings, load_settings
from tests.shared.stage.conftest import (  # noqa: F401 - fixtures shared with the stage tests
    azurite_connection_string,
    blob_stage,
    stage,
)

ACC = "001000000000001AAA"
ACC2 = "001000000000002AAA"
USER1 = "005000000000001AAA"
USER2 = "005000000000002AAA"
BASE = "2024-05-01T12:00:00.000+0000"


def contact_id(n: int) -> str:
    """An 18-character Contact id that sorts in ``n`` order."""
    return f"003{n:012d}AAA"


def small_org_records(contacts: int = 7) -> dict[str, list[dict[str, Any]]]:
    """Accounts, contacts (one deleted), users, tasks (one archived), a file, a link."""
    return {
        "User": [
            {
                "Id": USER1,
                "Username": "int@x.test",
                "LastName": "Integration",
                "Email": "ana@x.test",
                "IsActive": True,
            },
            {
                "Id": USER2,
                "Username": "old@x.test",
                "LastName": "Gone",
                "Email": "old@x.test",
                "IsActive": False,
            },
        ],
        "Account": [
            {"Id": ACC, "Name": "Acme", "OwnerId": USER1, "BillingCity": "Lyon"},
            {"Id": ACC2, "Name": 'Zoë\'s "Bikes"', "OwnerId": USER2, "ParentId": ACC},
        ],
        "Contact": [
            {
                "Id": contact_id(i),
                "LastName": f"N{i}",
                "Email": f"n{i}@x.test",
                "AccountId": ACC if i % 2 else None,
                "OwnerId": USER1,
                "Title": "CEO",
                "MailingCity": "Paris",
                "IsDeleted": i == contacts - 1,
            }
            for i in range(contacts)
        ],
        "Task": [
            {
                "Id": "00T000000000001AAA",
                "Subject": "Call",
                "WhoId": contact_id(0),
                "OwnerId": USER1,
                "Status": "Completed",
                "Priority": "Normal",
            },
            {
                "Id": "00T000000000002AAA",
                "Subject": "Old",
                "WhoId": contact_id(1),
                "OwnerId": USER1,
                "Status": "Completed",
                "Priority": "Normal",
                "IsArchived": True,
            },
        ],
    }


@pytest.fixture
def org_dir(tmp_path: Path) -> Path:
    """A small org; Contact.Title is hidden from the integration user by FLS."""
    return write_org_dir(
        tmp_path / "org", small_org_records(), hidden_fields={"Contact": ["Title"]}
    )


@pytest.fixture
def endpoint(org_dir: Path) -> Iterator[SalesforceEndpoint]:
    """The emulator over plain HTTP (fast); TLS is exercised in test_client.py."""
    with run_salesforce(org_dir) as ep:
        yield ep


def settings_for(ep: SalesforceEndpoint, tmp_path: Path, **sections: dict[str, Any]) -> Settings:
    """Settings for a password login against ``ep``, fast retries, work dir in tmp."""
    sf: dict[str, Any] = {
        "instance_url": ep.instance_url,
        "auth": "password",
        "username": ep.username,
        "password": ep.password,
        "client_id": ep.client_id,
        "client_secret": ep.client_secret,
        "retry_base_seconds": 0.01,
        "bulk_poll_seconds": 0,
    }
    if ep.ca_cert:
        sf["ca_cert"] = str(ep.ca_cert)
    sf.update(sections.pop("salesforce", {}))
    return load_settings(
        overrides={"salesforce": sf, "run": {"workdir": str(tmp_path / "work")}, **sections}
    )
