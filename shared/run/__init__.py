"""A migration run: its layout on disk, its runtime (settings, stage, clients) and the steps
the orchestrator's activities call."""
