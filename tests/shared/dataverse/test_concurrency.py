"""Adaptive concurrency: back off fast on 429, recover slowly, honour Retry-After for all."""

from __future__ import annotations

import asyncio

from shared.dataverse.concurrency import AdaptiveLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_starts_at_hint_within_bounds() -> None:
    assert AdaptiveLimiter(40, 16).limit == 16
    limiter = AdaptiveLimiter(4, 16)
    assert limiter.limit == 4
    limiter.reset(0)
    assert limiter.limit == 1


async def test_halves_once_per_generation_then_recovers_slowly() -> None:
    limiter = AdaptiveLimiter(8, 16)
    slots = [await limiter.acquire() for _ in range(8)]
    # Eight requests in flight all get 429: the limit halves once, not eight times.
    for slot in slots:
        await limiter.release(slot, throttled=True, retry_after=None)
    assert limiter.limit == 4
    assert limiter.throttles == 8
    # A throttle from the new generation halves again.
    slot = await limiter.acquire()
    await limiter.release(slot, throttled=True, retry_after=None)
    assert limiter.limit == 2
    # Recovery: one slot per `limit` successes.
    for _ in range(2):
        slot = await limiter.acquire()
        await limiter.release(slot, throttled=False, retry_after=None)
    assert limiter.limit == 3
    for _ in range(3):
        slot = await limiter.acquire()
        await limiter.release(slot, throttled=False, retry_after=None)
    assert limiter.limit == 4


async def test_never_more_in_flight_than_the_limit() -> None:
    limiter = AdaptiveLimiter(3, 3)
    running = 0
    peak = 0

    async def work() -> None:
        nonlocal running, peak
        slot = await limiter.acquire()
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1
        await limiter.release(slot, throttled=False, retry_after=None)

    await asyncio.gather(*(work() for _ in range(30)))
    assert peak == 3
    assert limiter.peak_in_flight == 3


async def test_retry_after_pauses_new_requests() -> None:
    clock = Clock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    limiter = AdaptiveLimiter(4, 4, clock=clock, sleep=sleep)
    slot = await limiter.acquire()
    await limiter.release(slot, throttled=True, retry_after=5)
    assert limiter.pause_remaining() == 5
    await limiter.acquire()
    assert slept == [5]  # the next request waited out the server's Retry-After
    assert limiter.in_flight == 1
