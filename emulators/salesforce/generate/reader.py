"""Read an org directory back: records per object, the defects manifest, the Dynamics users.

Tests of the generator and of the pipeline compare what a migration produced with what the
org holds; this is the one reader of the files ``generate-org`` and ``import-tree`` write.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def iter_records(org_dir: Path, sobject: str) -> Iterator[dict[str, Any]]:
    """Records of ``data/<sobject>.jsonl`` in file order (none if the file is absent)."""
    path = org_dir / "data" / f"{sobject}.jsonl"
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def objects(org_dir: Path) -> list[str]:
    """Objects that have a data file, sorted."""
    return sorted(p.stem for p in (org_dir / "data").glob("*.jsonl"))


def load_records(org_dir: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Every record by object and Id (for small orgs: tests and spot checks)."""
    return {obj: {r["Id"]: r for r in iter_records(org_dir, obj)} for obj in objects(org_dir)}


def read_defects(org_dir: Path) -> list[dict[str, Any]]:
    """The rows of ``defects.json`` (empty for an imported org, which plants nothing)."""
    path = org_dir / "defects.json"
    if not path.exists():
        return []
    rows: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return rows


def read_json(org_dir: Path, name: str) -> Any:
    """``org.json``, ``dataverse-users.json`` or ``schema/<Object>.json``."""
    return json.loads((org_dir / name).read_text(encoding="utf-8"))
