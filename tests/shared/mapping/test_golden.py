"""Golden files: the exact Dataverse rows the default map produces from sample records.

One file per mapping entry (``golden/<entry>.json``). A change to the map or the transform
that changes a payload shows up here as a diff a reviewer reads. To accept an intended change,
run ``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/shared/mapping/test_golden.py`` and
review the diff of the golden files before committing.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from shared.mapping.context import ResolutionContext
from shared.mapping.transform import CompiledMapping, compile_mapping
from tests.shared.mapping.metadata_fixture import (
    default_mapping,
    default_metadata,
    golden_context,
    golden_samples,
)

GOLDEN = Path(__file__).parent / "golden"
SAMPLES = golden_samples()


def _setup() -> tuple[CompiledMapping, ResolutionContext]:
    mapping = default_mapping()
    ctx = golden_context(mapping, SAMPLES)
    return compile_mapping(mapping, default_metadata()), ctx


def _produced() -> dict[str, list[dict[str, Any]]]:
    compiled, ctx = _setup()
    out: dict[str, list[dict[str, Any]]] = {}
    for sobject, records in SAMPLES["records"].items():
        for rec in records:
            entry = compiled.entry_for(sobject, rec)
            if entry is None:
                continue
            result = compiled.transform(sobject, rec, ctx)
            out.setdefault(entry.obj.name, []).append(dataclasses.asdict(result))
    return out


PRODUCED = _produced()


def test_every_entry_of_the_default_map_has_a_golden_sample() -> None:
    assert set(PRODUCED) == {o.name for o in default_mapping().objects}


@pytest.mark.parametrize("entry", sorted(PRODUCED))
def test_payloads_match_golden_file(entry: str) -> None:
    path = GOLDEN / f"{entry}.json"
    text = json.dumps(PRODUCED[entry], indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}; run with UPDATE_GOLDEN=1 and review it"
    assert json.loads(text) == json.loads(path.read_text(encoding="utf-8"))
