"""Discovery and extraction over HTTPS on the real lwc-recipes export (via import-tree)."""

from __future__ import annotations

import json
from pathlib import Path

from emulators.salesforce.import_tree import import_tree_export
from emulators.salesforce.testing import run_salesforce
from shared.mapping.plan import ObjectExtraction
from shared.salesforce.client import connect
from shared.salesforce.discovery import discover
from shared.salesforce.extract import extract_all
from shared.stage.keys import raw_prefix
from shared.stage.local import LocalStage
from tests.shared.salesforce.conftest import settings_for

RECIPES = Path(__file__).resolve().parents[4] / "shared" / "data" / "real-orgs" / "lwc-recipes"


def test_lwc_recipes_discovered_and_extracted_with_links_intact(tmp_path: Path) -> None:
    org = tmp_path / "org"
    import_tree_export(org, plans=[RECIPES / "data-plan.json"], files=[])
    exported = {
        name: len(json.loads((RECIPES / f"{file}.json").read_text())["records"])
        for name, file in (("Account", "Accounts"), ("Contact", "Contacts"))
    }
    plan = [
        ObjectExtraction("Account", ["Id", "Name", "Phone"]),
        ObjectExtraction(
            "Contact",
            ["Id", "FirstName", "LastName", "Email", "Picture__c", "AccountId", "Account.Name"],
            depends_on=["Account"],
        ),
    ]
    stage = LocalStage(tmp_path / "stage")
    with run_salesforce(org, tls=True) as ep:  # HTTPS, trusted through salesforce.ca_cert
        settings = settings_for(ep, tmp_path, extract={"batch_size": 5})
        assert settings.salesforce.ca_cert is not None
        client = connect(settings.salesforce)  # the session is built from settings alone
        doc = discover(client, objects=["Account", "Contact"])
        results = extract_all(client, stage, settings, "run1", plan)
        client.session.close()
    counts = {o["name"]: o["count"] for o in doc["objects"]}
    assert counts == exported
    contact_fields = {
        f["name"]: f for o in doc["objects"] if o["name"] == "Contact" for f in o["fields"]
    }
    assert contact_fields["Picture__c"]["custom"] is True
    assert {r.object: (r.extracted, r.status) for r in results} == {
        "Account": (exported["Account"], "reconciled"),
        "Contact": (exported["Contact"], "reconciled"),
    }
    accounts = {
        r["Id"]: r["Name"]
        for k in stage.list_batches(raw_prefix("run1", "Account"))
        for r in stage.read_batch(k)
    }
    contacts = [
        r for k in stage.list_batches(raw_prefix("run1", "Contact")) for r in stage.read_batch(k)
    ]
    amy = next(c for c in contacts if c["Email"] == "amy@demo.net")
    assert amy["Picture__c"].endswith("amy_taylor.jpg")
    # Every contact's parent was extracted, and the dotted path agrees with it.
    for c in contacts:
        if c["AccountId"]:
            assert accounts[c["AccountId"]] == c["Account.Name"]
