"""What an org directory says about the target and the org's own fields (test helpers).

``dataverse-users.json`` becomes ``systemuser`` rows; ``schema/<Object>.json`` minus the fields
hidden by field-level security is what discovery's describe would show.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shared.ids import org_namespace

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


def context_kwargs(org: Path, run_id: str = "run1") -> dict[str, Any]:
    """``build_context``'s keyword arguments for an org directory, as a run would read them:
    the org's namespace, its Dynamics users and the first enabled one as fallback owner."""
    users = dataverse_users(org)
    org_id = json.loads((org / "org.json").read_text(encoding="utf-8"))["org_id"]
    return {
        "namespace": org_namespace(org_id),
        "users": users,
        "fallback_owner_email": next(
            u["internalemailaddress"] for u in users if not u["isdisabled"]
        ),
        "run_id": run_id,
    }


class OneShot:
    """An iterable that refuses a second pass (as a generator over the stage would)."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records
        self.passes = 0

    def __iter__(self) -> Iterator[Record]:
        self.passes += 1
        assert self.passes == 1, "an object was read twice"
        return iter(self.records)
