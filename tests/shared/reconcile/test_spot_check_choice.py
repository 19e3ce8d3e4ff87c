"""The spot-check sheet is chosen object by object, as if from every read-back row at once.

``reconcile_phase`` keeps only the candidates so far instead of every object's read-back rows
(up to the read-back sample each); the sheet must not change because of it.
"""

from __future__ import annotations

import random
from typing import Any

from shared.reconcile.report import choose_spot_checks


def _rows(obj: str, count: int, rng: random.Random) -> list[dict[str, Any]]:
    return [{"record": {"id": f"{obj}-{rng.randrange(10**9)}"}, "row": {}} for _ in range(count)]


def test_choosing_object_by_object_gives_the_sheet_of_all_rows_at_once() -> None:
    rng = random.Random(11)
    for _ in range(50):
        objects = [_rows(f"o{i}", rng.randrange(0, 80), rng) for i in range(rng.randrange(1, 6))]
        count = rng.choice([0, 1, 25, 30, 50])
        chosen: list[dict[str, Any]] = []
        for rows in objects:
            chosen = choose_spot_checks(chosen + rows, count)
        everything = [row for rows in objects for row in rows]
        assert chosen == choose_spot_checks(everything, count)
