"""Service protection (per user, sliding window) and the execution-time cost model.

Real limits (``PAD:api-limits.md``): per user and web server, over a sliding 300 s window,
6000 requests (0x80072322), 1200 s of combined execution time (0x80072321) and 52 concurrent
requests (0x80072326), answered with 429 and ``Retry-After`` in seconds. Concurrency is
checked at once; the two window limits are evaluated on requests already completed.

``scaled:F`` divides the window, both window budgets and Retry-After by F (the concurrency
limit stays 52), so a test can hit a limit with a few requests. ``off`` disables the checks.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from emulators.dataverse.errors import DataverseFault

WINDOW_S = 300.0
MAX_REQUESTS = 6000
MAX_EXECUTION_S = 1200.0
MAX_CONCURRENT = 52

REQUESTS_MESSAGE = (
    f"Number of requests exceeded the limit of {MAX_REQUESTS} over time window of "
    f"{int(WINDOW_S)} seconds."
)
# The double space before "over" is in the real message (PAD:api-limits.md).
EXECUTION_MESSAGE = (
    f"Combined execution time of incoming requests exceeded limit of "
    f"{int(MAX_EXECUTION_S * 1000):,} milliseconds  over time window of {int(WINDOW_S)} seconds. "
    "Decrease number of concurrent requests or reduce the duration of requests and try again "
    "later."
)

# Execution-time cost model, in seconds of server time. See docs/emulators/dataverse.md.
COST_SINGLE_WRITE = 0.040
COST_READ = 0.010
COST_QUERY_BASE = 0.015
COST_QUERY_PER_ROW = 0.0002
COST_BULK_BASE = 0.030
COST_BULK_PER_RECORD = 0.004
COST_METADATA_WRITE = 2.0
COST_OTHER = 0.005


def parse_mode(text: str) -> float | None:
    """``off`` → None, ``real`` → 1.0, ``scaled:F`` → F (F > 0)."""
    if text == "off":
        return None
    if text == "real":
        return 1.0
    if text.startswith("scaled:"):
        factor = float(text.split(":", 1)[1])
        if factor <= 0:
            raise ValueError("scaled:F needs F > 0")
        return factor
    raise ValueError(f"expected off, real or scaled:F, got {text!r}")


def request_cost(message: str, method: str, items: int) -> float:
    """Modelled server execution time of one request.

    A single create costs ~40 ms; a bulk message costs 30 ms plus ~4 ms per record, so one
    ``UpsertMultiple`` of 1000 rows uses ~4 s instead of ~40 s for 1000 single requests.
    """
    if message in ("CreateMultiple", "UpdateMultiple", "UpsertMultiple"):
        return COST_BULK_BASE + COST_BULK_PER_RECORD * items
    if message == "Metadata" and method != "GET":
        return COST_METADATA_WRITE
    if message == "Retrieve":
        return COST_QUERY_BASE + COST_QUERY_PER_ROW * items if items > 1 else COST_READ
    if message in ("Create", "Update", "Delete"):
        return COST_SINGLE_WRITE
    return COST_OTHER


@dataclass
class _UserWindow:
    events: deque[tuple[float, float]] = field(default_factory=deque)
    active: int = 0
    cost: float = 0.0


class ServiceProtection:
    """Per-user accounting. ``acquire`` before work, ``release`` with its cost after."""

    def __init__(self, factor: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.factor = factor
        self.clock = clock
        self._users: dict[str, _UserWindow] = {}
        self._lock = threading.Lock()

    @property
    def window(self) -> float:
        """Length of the sliding window in seconds (after scaling)."""
        return WINDOW_S / (self.factor or 1.0)

    def _limits(self) -> tuple[int, float]:
        factor = self.factor or 1.0
        return max(1, math.floor(MAX_REQUESTS / factor)), MAX_EXECUTION_S / factor

    def acquire(self, user: str) -> None:
        """Admit one request or raise the 429 fault Dataverse would send."""
        if self.factor is None:
            return
        with self._lock:
            state = self._users.setdefault(user, _UserWindow())
            now = self.clock()
            while state.events and state.events[0][0] <= now - self.window:
                state.cost -= state.events.popleft()[1]
            if state.active >= MAX_CONCURRENT:
                raise _throttled(
                    "0x80072326",
                    f"Number of concurrent requests exceeded the limit of {MAX_CONCURRENT}.",
                    1.0 / self.factor,
                )
            max_requests, max_cost = self._limits()
            retry = (state.events[0][0] + self.window - now) if state.events else self.window
            if len(state.events) >= max_requests:
                raise _throttled(
                    "0x80072322",
                    REQUESTS_MESSAGE,
                    retry,
                )
            if state.cost >= max_cost:
                raise _throttled(
                    "0x80072321",
                    EXECUTION_MESSAGE,
                    retry,
                )
            state.active += 1

    def release(self, user: str, cost: float) -> None:
        """Record a finished request and its modelled execution time."""
        if self.factor is None:
            return
        with self._lock:
            state = self._users.setdefault(user, _UserWindow())
            state.active = max(0, state.active - 1)
            state.events.append((self.clock(), cost))
            state.cost += cost


def _throttled(code: str, message: str, retry_after: float) -> DataverseFault:
    seconds = max(1, math.ceil(retry_after))
    return DataverseFault(429, code, message, {"Retry-After": str(seconds)})
