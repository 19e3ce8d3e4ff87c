"""What an org directory says about the target and the org's own fields (test helpers).

``dataverse-users.json`` becomes ``systemuser`` rows; ``schema/<Object>.json`` minus the fields
hidden by field-level security is what discovery's describe would show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Record = dict[str, Any]


def dataverse_users(org: Path) -> list[Record]:
    """``dataverse-users.json`` as ``systemuser`` rows with deterministic ids."""
    rows = json.loads((org / "dataverse-users.json").read_text(encoding="utf-8"))
    return [
        {**row, "systemuserid": f"00000000-0000-0000-0000-{i + 1:012d}"}
        for i, row in enumerate(rows)
    ]


def describe_fields(org: Path, sobject: str) -> list[Record]:
    """The org's custom fields of ``sobject`` visible to the integration user."""
    path = org / "schema" / f"{sobject}.json"
    if not path.exists():
        return []
    hidden = set(
        json.loads((org / "org.json").read_text(encoding="utf-8"))
        .get("hidden_fields", {})
        .get(sobject, [])
    )
    fields: list[Record] = json.loads(path.read_text(encoding="utf-8"))["fields"]
    return [f for f in fields if f["name"] not in hidden]
