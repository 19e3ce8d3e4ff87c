from __future__ import annotations

import pytest

from emulators.dataverse.errors import DataverseFault
from emulators.dataverse.faults import FaultSettings
from emulators.dataverse.limits import EXECUTION_MESSAGE, ServiceProtection, parse_mode


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_window_slides_and_retry_after_counts_down() -> None:
    clock = Clock()
    sp = ServiceProtection(1000.0, clock)  # window 0.3 s, 6 requests
    for _ in range(6):
        sp.acquire("u")
        sp.release("u", 0.0)
    with pytest.raises(DataverseFault) as caught:
        sp.acquire("u")
    assert caught.value.status == 429 and caught.value.headers["Retry-After"] == "1"
    sp.acquire("other")  # another user has their own budget
    clock.now = 0.31
    sp.acquire("u")  # the window has moved on


def test_execution_time_and_concurrency() -> None:
    clock = Clock()
    sp = ServiceProtection(1000.0, clock)  # 1.2 s execution per window
    sp.acquire("u")
    sp.release("u", 1.3)
    with pytest.raises(DataverseFault) as caught:
        sp.acquire("u")
    assert caught.value.code == "0x80072321" and caught.value.message == EXECUTION_MESSAGE
    sp2 = ServiceProtection(1.0, clock)
    for _ in range(52):
        sp2.acquire("u")
    with pytest.raises(DataverseFault) as caught:
        sp2.acquire("u")
    assert caught.value.code == "0x80072326"
    sp2.release("u", 0.01)
    sp2.acquire("u")


def test_off_never_throttles_and_modes_parse() -> None:
    sp = ServiceProtection(None)
    for _ in range(10000):
        sp.acquire("u")
    assert (
        parse_mode("off") is None and parse_mode("real") == 1.0 and parse_mode("scaled:20") == 20.0
    )
    for bad in ("fast", "scaled:0", "scaled:x"):
        with pytest.raises(ValueError):
            parse_mode(bad)


def test_fault_settings_validate() -> None:
    settings = FaultSettings()
    settings.update({"rate_5xx": 0.5, "slow_seconds": 3})
    assert settings.to_json() == {"rate_5xx": 0.5, "drop_rate": 0.0, "slow_seconds": 3.0}
    for bad in ({"rate_5xx": 1.5}, {"nope": 1}, {"drop_rate": -1}):
        with pytest.raises(ValueError):
            settings.update(bad)
