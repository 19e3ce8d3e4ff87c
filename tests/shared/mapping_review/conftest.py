"""Vendor metadata fixtures: the published standard fields, saved in the APIs' own shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.shared.mapping_review.vendor_fields import SALESFORCE, describe
from tests.shared.mapping_review.vendor_tables import DATAVERSE, entity_definition

HERE = Path(__file__).parent
LABELLED = HERE / "labelled"

#: Sampled Contact records: the values the profiles look at (made up, realistic shapes).
CONTACT_SAMPLES = [
    {
        "attributes": {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/003{i}"},
        "Id": f"003Hs00000{i:03d}AbCAAU",
        "Email": f"person{i}@example.com",
        "Contact_Info__c": f"reach.me{i}@example.org",
        "Phone": f"+1 (415) 555-{i:04d}",
        "FirstName": "Ann",
    }
    for i in range(10)
]


def write_vendor_metadata(root: Path) -> tuple[Path, Path]:
    """Write every describe and entity definition under ``root``; return (source, target)."""
    src, tgt = root / "salesforce", root / "dataverse"
    src.mkdir(parents=True, exist_ok=True)
    tgt.mkdir(parents=True, exist_ok=True)
    for name in SALESFORCE:
        (src / f"{name}.json").write_text(json.dumps(describe(name), indent=1), encoding="utf-8")
    (src / "Contact.records.json").write_text(
        json.dumps({"totalSize": 10, "done": True, "records": CONTACT_SAMPLES}), encoding="utf-8"
    )
    for table in DATAVERSE:
        (tgt / f"{table}.json").write_text(
            json.dumps(entity_definition(table), indent=1), encoding="utf-8"
        )
    return src, tgt


@pytest.fixture(scope="session")
def vendor_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(source describe dir, target metadata dir) holding the vendors' standard fields."""
    return write_vendor_metadata(tmp_path_factory.mktemp("vendor"))
