"""The sync state moves forward with completed runs and back with their rollbacks."""

from __future__ import annotations

import json
from pathlib import Path

from shared.delta.state import STATE_KEY, advance, load_state, on_rollback, watermark_key
from shared.stage.local import LocalStage


def mark(stage: LocalStage, run: str, obj: str, stamp: str) -> None:
    stage.put_bytes(
        watermark_key(run, obj), json.dumps({"object": obj, "watermark": stamp}).encode()
    )


def test_a_chain_advances_and_rolls_back_run_by_run(tmp_path: Path) -> None:
    stage = LocalStage(tmp_path)
    assert load_state(stage) is None
    mark(stage, "m1", "Contact", "2026-01-01T00:00:00.000+0000")
    mark(stage, "m1", "Account", "2026-01-01T00:00:00.000+0000")
    advance(stage, "m1", base_run="m1")
    mark(stage, "d1", "Contact", "2026-02-01T00:00:00.000+0000")
    state = advance(stage, "d1")
    assert state.runs == ["m1", "d1"] and state.base_run == "m1"
    # A delta's new watermarks replace the old ones; objects it did not read keep theirs.
    assert state.watermarks == {
        "Contact": "2026-02-01T00:00:00.000+0000",
        "Account": "2026-01-01T00:00:00.000+0000",
    }
    assert "not the newest" in str(on_rollback(stage, "m1"))
    assert "continues from m1" in str(on_rollback(stage, "d1"))
    back = load_state(stage)
    assert back is not None and back.last_run == "m1" and back.runs == ["m1"]
    assert on_rollback(stage, "m1") is not None
    assert not stage.exists(STATE_KEY)
    assert on_rollback(stage, "other") is None
