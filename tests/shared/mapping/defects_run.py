"""Run the whole path over a generated org: generate → Salesforce emulator (real socket) →
extraction driven by the mapping's ``extraction_plan`` → stage → pre-passes → transform →
validation against live-shaped metadata. Shared by the defect tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulators.salesforce.generate import generate_org
from emulators.salesforce.testing import run_salesforce
from shared.ids import org_namespace
from shared.mapping.models import Mapping
from shared.mapping.plan import extraction_plan
from shared.mapping.prepare import build_context
from shared.mapping.propose import with_custom_fields
from shared.mapping.transform import compile_mapping
from shared.rows import Rejection, TargetRow
from shared.salesforce.client import connect
from shared.salesforce.extract import extract_all
from shared.settings import load_settings
from shared.stage.keys import raw_prefix
from shared.stage.local import LocalStage
from tests.shared.mapping.metadata_fixture import default_mapping, metadata_for
from tests.shared.mapping.orgdata import dataverse_users, describe_fields


@dataclass
class OrgRun:
    """Everything one run over a generated org produced."""

    org: Path
    mapping: Mapping
    staged: dict[str, list[dict[str, Any]]]
    results: dict[tuple[str, str], TargetRow | Rejection]
    defects: list[dict[str, Any]]


def org_mapping(org: Path) -> Mapping:
    """The default map plus the org's custom fields; deals out of scope, as the org says."""
    mapping = default_mapping()
    for sobject in ("Account", "Contact", "Lead"):
        mapping = with_custom_fields(mapping, sobject, describe_fields(org, sobject))
    objects = [o.model_copy(update={"enabled": o.source != "Opportunity"}) for o in mapping.objects]
    return mapping.model_copy(update={"objects": objects}).effective()


def extract(org: Path, mapping: Mapping, work: Path) -> dict[str, list[dict[str, Any]]]:
    """Extract the mapping's plan from the emulated org into a local stage; read it back."""
    plan = extraction_plan(mapping)
    with run_salesforce(org) as ep:
        settings = load_settings(
            overrides={
                "salesforce": {
                    "instance_url": ep.instance_url,
                    "auth": "password",
                    "username": ep.username,
                    "password": ep.password,
                    "client_id": ep.client_id,
                    "client_secret": ep.client_secret,
                    "retry_base_seconds": 0.01,
                    "bulk_poll_seconds": 0,
                },
                "run": {"workdir": str(work / "work")},
            }
        )
        client = connect(settings.salesforce, ep.requests_session())
        stage = LocalStage(work / "stage")
        extract_all(client, stage, settings, "run1", plan)
    return {
        p.object: [
            rec
            for key in stage.list_batches(raw_prefix("run1", p.object))
            for rec in stage.read_batch(key)
        ]
        for p in plan
    }


def generated_org(
    root: Path, *, scale: int = 200, seed: int = 1
) -> tuple[Path, Mapping, dict[str, list[dict[str, Any]]]]:
    """Generate an org under ``root``, propose its mapping and extract it: (org, mapping,
    staged records per object), as the pre-pass and transform tests use it."""
    org = root / "acme"
    generate_org(org, scale=scale, seed=seed, force=True)
    mapping = org_mapping(org)
    return org, mapping, extract(org, mapping, root)


def run_org(out: Path, scale: int = 200, seed: int = 1) -> OrgRun:
    """Generate an org, extract it through the emulator and transform every staged record."""
    generate_org(out, scale=scale, seed=seed, force=True)
    mapping = org_mapping(out)
    staged = extract(out, mapping, out.parent)
    users = dataverse_users(out)
    fallback = next(u["internalemailaddress"] for u in users if not u["isdisabled"])
    org_id = json.loads((out / "org.json").read_text(encoding="utf-8"))["org_id"]
    ctx = build_context(
        staged,
        mapping,
        namespace=org_namespace(org_id),
        users=users,
        fallback_owner_email=fallback,
        run_id="run1",
    )
    compiled = compile_mapping(mapping, metadata_for(mapping))
    results: dict[tuple[str, str], TargetRow | Rejection] = {}
    for sobject, records in staged.items():
        if sobject not in compiled.by_source:
            continue
        for rec in records:
            results[(sobject, rec["Id"])] = compiled.transform(sobject, rec, ctx)
    defects = json.loads((out / "defects.json").read_text(encoding="utf-8"))
    return OrgRun(out, mapping, staged, results, defects)


def outcome_of(run: OrgRun, defect: dict[str, Any]) -> list[TargetRow | Rejection]:
    """The results a defect's record produced (files: the notes made from its links)."""
    obj, sf_id = defect["object"], defect["id"]
    if obj == "ContentVersion":
        return [
            res
            for rec in run.staged.get("ContentDocumentLink", [])
            if rec.get("ContentDocument.LatestPublishedVersionId") == sf_id
            for res in [run.results[("ContentDocumentLink", rec["Id"])]]
        ]
    return [run.results[(obj, sf_id)]] if (obj, sf_id) in run.results else []


def codes(result: TargetRow | Rejection) -> tuple[str, set[str]]:
    """(outcome, reason codes) of one result."""
    if isinstance(result, Rejection):
        return result.outcome, {result.reason_code}
    return result.outcome, {e.reason_code for e in result.entries}
