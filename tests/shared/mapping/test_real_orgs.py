"""Real Salesforce sample exports (lwc-recipes, ebikes) transform without unexplained rejections.

The exports are ``sf data export tree`` files; they are read here as staged records the way
extraction stages them (no ``attributes``, references resolved to 18-character ids), with the
owner set to a user that exists in the target.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.ids import org_namespace
from shared.mapping.prepare import build_context
from shared.mapping.propose import with_custom_fields
from shared.mapping.transform import compile_mapping
from shared.rows import TargetRow
from tests.conftest import SHARED_NOTES
from tests.shared.mapping.metadata_fixture import default_mapping, metadata_for

REAL = SHARED_NOTES / "data" / "real-orgs"
PREFIX = {"Account": "001", "Contact": "003"}
OWNER = {"Owner.Email": "admin@sample.example", "Owner.IsActive": True}


def _load(folder: str, files: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    refs: dict[str, str] = {}
    out: dict[str, list[dict[str, Any]]] = {}
    for sobject, name in files.items():
        records = json.loads((REAL / folder / name).read_text(encoding="utf-8"))["records"]
        for n, rec in enumerate(records, start=1):
            sf_id = f"{PREFIX[sobject]}{n:012d}AAA"
            refs["@" + rec["attributes"]["referenceId"]] = sf_id
            row = {k: v for k, v in rec.items() if k != "attributes"}
            row = {k: refs.get(v, v) if isinstance(v, str) else v for k, v in row.items()}
            out.setdefault(sobject, []).append({"Id": sf_id, **row, **OWNER})
    return out


CASES = {
    "lwc-recipes": ("lwc-recipes", {"Account": "Accounts.json", "Contact": "Contacts.json"}),
    "ebikes": ("ebikes", {"Account": "Accounts.json"}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_real_export_transforms_without_rejections(case: str) -> None:
    folder, files = CASES[case]
    staged = _load(folder, files)
    # Discovery would describe Picture__c (a URL text field in lwc-recipes) and propose it.
    mapping = with_custom_fields(
        default_mapping(),
        "Contact",
        [{"name": "Picture__c", "type": "url", "label": "Picture", "custom": True, "length": 255}],
    )
    ctx = build_context(
        staged,
        mapping,
        namespace=org_namespace("00D000000000009AAA"),
        users=[
            {
                "systemuserid": "5a7c6e1e-0000-4000-8000-00000000000a",
                "internalemailaddress": "admin@sample.example",
                "isdisabled": False,
            }
        ],
    )
    compiled = compile_mapping(mapping, metadata_for(mapping))
    for sobject, records in staged.items():
        result = compiled.transform_batch(sobject, records, ctx)
        assert result.rejections == []
        assert len(result.rows) == len(records)
        for row in result.rows:
            assert row.entries == (), row.entries
    contacts = staged.get("Contact", [])
    if contacts:
        first = compiled.transform("Contact", contacts[0], ctx)
        assert isinstance(first, TargetRow)
        assert first.payload["lfwd_picture"] == contacts[0]["Picture__c"]
        assert first.payload["parentcustomerid_account@odata.bind"].startswith("/accounts(")


def test_real_exports_exist() -> None:
    assert all((REAL / f).is_dir() for f, _ in CASES.values()), Path(REAL)
