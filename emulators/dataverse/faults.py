"""Injected faults for reliability tests: 5xx answers, dropped connections, slow replies."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class FaultSettings:
    """Rates are probabilities per request (0..1); ``slow_seconds`` delays every reply."""

    rate_5xx: float = 0.0
    drop_rate: float = 0.0
    slow_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """As served by ``GET /admin/faults``."""
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``PUT /admin/faults``; unknown names or bad values raise ValueError."""
        for name, value in changes.items():
            if name not in ("rate_5xx", "drop_rate", "slow_seconds"):
                raise ValueError(f"unknown fault setting {name!r}")
            number = float(value)
            if number < 0 or (name != "slow_seconds" and number > 1):
                raise ValueError(f"{name} must be between 0 and 1 (slow_seconds >= 0)")
            setattr(self, name, number)


class FaultInjector:
    """Decides, per request, whether to fail it (seeded, so a test run is repeatable)."""

    def __init__(self, settings: FaultSettings, seed: int = 7) -> None:
        self.settings = settings
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        """``"5xx"``, ``"drop"`` or None for this request."""
        with self._lock:
            roll = self._random.random()
        if roll < self.settings.drop_rate:
            return "drop"
        if roll < self.settings.drop_rate + self.settings.rate_5xx:
            return "5xx"
        return None
