"""The project's own mapping and transform, loaded and reconciled field by field.

Deploys the default mapping's schema into the emulator, compiles the mapping against the
metadata read from it, loads accounts (with a second pass for parents) and contacts (with a
truncated icebreaker, a date, a choice, booleans, a customer lookup and owners) and expects
every phase to reconcile with zero unexplained field mismatches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from emulators.dataverse.testing import run_dataverse
from shared.dataverse.context import LoadContext
from shared.dataverse.load import BatchRef, link_batch, load_batch
from shared.dataverse.metadata import fetch_target_metadata
from shared.dataverse.schema_deploy import deploy_schema
from shared.ids import org_namespace
from shared.mapping import load_mapping, required_columns
from shared.mapping.prepare import build_context
from shared.mapping.transform import compile_mapping
from shared.reconcile.phase import gate, reconcile_phase
from shared.settings import ReconcileSettings
from shared.stage.keys import raw_batch_key
from shared.stage.local import LocalStage
from tests.shared.dataverse.conftest import make_client

NS = org_namespace("00D000000000001AAA")
OWNER = {"Owner.Email": "ana@example.com", "Owner.IsActive": True, "IsDeleted": False}


def account(n: int) -> dict[str, Any]:
    return {
        "Id": f"001000000000{n:03d}AAA",
        "Name": f"Acme {n}",
        "AccountNumber": f"A-{n}",
        "Phone": "+1 (555) 010-0000",
        "Website": "https://acme.example",
        "Description": "Line 1\r\nLine 2  ",
        "NumberOfEmployees": 50 + n,
        "AnnualRevenue": 12345.67,
        "Industry": "Banking",
        "Type": "Prospect",
        "BillingCity": "Springfield",
        "BillingLatitude": 39.7817,
        "CreatedDate": "2021-03-04T05:06:07.000+0000",
        "ParentId": "001000000000000AAA" if n else None,
        **OWNER,
    }


def contact(n: int) -> dict[str, Any]:
    return {
        "Id": f"003000000000{n:03d}AAA",
        "FirstName": "Bo",
        "LastName": f"Smith {n}",
        "Email": f"bo{n}@example.com",
        "AccountId": "001000000000001AAA",
        "Birthdate": "1980-02-29",
        "HasOptedOutOfEmail": True,
        "DoNotCall": False,
        "leadfwd__Engagement_Status__c": "Active",
        "leadfwd__Icebreaker__c": "ice " * 1200,
        "CreatedDate": "2022-01-01T10:00:00.000+0000",
        **OWNER,
    }


async def test_default_mapping_loads_and_reconciles_with_no_unexplained_mismatch(
    tmp_path: Path,
) -> None:
    mapping = load_mapping(Path(__file__).parents[3] / "mappings" / "leadfwd-to-dynamics365.yaml")
    stage = LocalStage(tmp_path / "stage")
    records = {"Account": [account(i) for i in range(6)], "Contact": [contact(i) for i in range(4)]}
    for sobject, recs in records.items():
        stage.write_batch(raw_batch_key("r1", sobject, 1), recs)
    settings = ReconcileSettings(tolerance=0, readback_sample=100, spot_check=25)
    with run_dataverse(tmp_path / "dv", key_activation_seconds=0.1) as endpoint:
        users = httpx.post(
            endpoint.admin_url + "systemusers",
            json=[{"internalemailaddress": "ana@example.com", "fullname": "Ana"}],
        ).json()
        async with httpx.AsyncClient(timeout=30) as http:
            client = make_client(http, endpoint)
            await client.connect()
            await deploy_schema(client, required_columns(mapping), poll_seconds=0.05)
            metadata = await fetch_target_metadata(client, ["account", "contact"])
            compiled = compile_mapping(mapping, metadata, check=False)
            ctx = build_context(records, mapping, namespace=NS, users=users, run_id="r1")
            loader = LoadContext(client, batch_size=50)
            for index, (phase, sobject) in enumerate(
                [("accounts", "Account"), ("contacts", "Contact")], start=1
            ):
                ref = BatchRef("r1", index, phase, sobject, 1)
                counts = await load_batch(
                    ref,
                    stage=stage,
                    context=loader,
                    transform=lambda r, s=sobject: compiled.transform(s, r, ctx),  # type: ignore[misc]
                )
                assert counts["quarantined"] == 0, counts
                await link_batch(ref, stage=stage, context=loader)
                verdict = await reconcile_phase(
                    stage,
                    loader,
                    run_id="r1",
                    phase=phase,
                    objects=[sobject],
                    settings=settings,
                    reports_dir=tmp_path / "reports",
                )
                (obj,) = verdict.objects
                assert obj.balanced and obj.present == len(records[sobject])
                assert obj.readback_fields > 20 * len(records[sobject])
                assert obj.mismatches == [], obj.mismatches[:3]
                gate(verdict)
            # The icebreaker was truncated on purpose and reported, not lost.
            assert counts["written_with_fallback"] == 4
