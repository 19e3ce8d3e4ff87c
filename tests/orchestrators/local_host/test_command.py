"""What a person watching ``./migrate run`` sees: per object progress and Dataverse traffic."""

from __future__ import annotations

from rich.console import Console

from orchestrators.local_host.command import ProgressView
from shared.dataverse.client import ClientStats


def test_progress_shows_each_object_and_the_throttling() -> None:
    stats = ClientStats(requests=120, throttled=7, transient=2)
    view = ProgressView("run1", lambda: stats)
    view.update("run1", {"customStatus": {"step": "loading", "phase": 2}})
    view.update(
        "run1@load@contact",
        {
            "customStatus": {
                "entry": "contact",
                "batches": 4,
                "done": 3,
                "pass": 1,
                "counts": {"written": 1500, "quarantined": 4},
            }
        },
    )
    console = Console(record=True, width=160)
    console.print(view.render())
    text = console.export_text()
    flat = " ".join(text.split())
    assert "run run1 — loading — Dataverse: 120 requests, 7 throttled (429), 2 retried" in flat
    row = next(line for line in text.splitlines() if "contact" in line)
    assert "3/4" in row and "1500" in row and "4" in row
