"""How many requests may be in flight: start from ``x-ms-dop-hint``, adapt to 429s.

Service protection limits are per user, per web server, over a sliding window, and the
concurrency limit fails a request immediately. So the client:

- starts at the environment's recommended degree of parallelism (``x-ms-dop-hint`` of WhoAmI),
  capped by ``dataverse.max_concurrency``;
- halves the limit on a 429 (back off fast), but only once per "generation": the requests
  already in flight when the limit was cut do not cut it again;
- adds one slot after ``limit`` consecutive successes (recover slowly, classic AIMD);
- pauses every new request until the server's ``Retry-After`` has passed, because the limit
  that tripped applies to all our requests, not just the one that got the 429.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["AdaptiveLimiter", "Slot"]


class Slot:
    """One admitted request; remembers the generation it was admitted in."""

    __slots__ = ("generation",)

    def __init__(self, generation: int) -> None:
        self.generation = generation


class AdaptiveLimiter:
    """An asyncio semaphore whose size follows the server's throttling (AIMD).

    Args:
        initial: Starting limit (the dop hint), clamped to ``[minimum, maximum]``.
        maximum: Never more than this many in flight (``dataverse.max_concurrency``).
        minimum: Never fewer than this (1).
        clock: Monotonic clock.
        sleep: ``asyncio.sleep``; clock and sleep are injected together so tests run a
            Retry-After pause without waiting for it.
    """

    def __init__(
        self,
        initial: int,
        maximum: int,
        *,
        minimum: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if maximum < minimum:
            raise ValueError(f"maximum {maximum} is below minimum {minimum}")
        self.minimum = minimum
        self.maximum = maximum
        self._limit = min(max(initial, minimum), maximum)
        self._successes = 0
        self._in_flight = 0
        self._generation = 0
        self._paused_until = 0.0
        self._clock = clock
        self._sleep = sleep
        self._changed = asyncio.Condition()
        self.throttles = 0
        self.peak_in_flight = 0

    @property
    def limit(self) -> int:
        """The current whole number of requests allowed in flight."""
        return self._limit

    @property
    def in_flight(self) -> int:
        """Requests admitted and not yet released."""
        return self._in_flight

    def reset(self, initial: int) -> None:
        """Start again from a new hint (after WhoAmI), within the bounds."""
        self._limit = min(max(initial, self.minimum), self.maximum)
        self._successes = 0

    def pause_remaining(self) -> float:
        """Seconds until new requests may start (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    async def acquire(self) -> Slot:
        """Wait for a free slot and for any Retry-After pause to pass."""
        while (wait := self.pause_remaining()) > 0:
            await self._sleep(wait)
        async with self._changed:
            while self._in_flight >= self.limit:
                await self._changed.wait()
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            return Slot(self._generation)

    async def release(self, slot: Slot, *, throttled: bool, retry_after: float | None) -> None:
        """Give the slot back and adapt: halve on a throttle, creep up on success."""
        async with self._changed:
            self._in_flight -= 1
            if throttled:
                self.throttles += 1
                if retry_after:
                    self._paused_until = max(self._paused_until, self._clock() + retry_after)
                if slot.generation == self._generation:
                    self._limit = max(self.minimum, self._limit // 2)
                    self._generation += 1
                    self._successes = 0
            else:
                self._successes += 1
                if self._successes >= self._limit and self._limit < self.maximum:
                    self._limit += 1
                    self._successes = 0
            self._changed.notify_all()
