"""Fixtures every test tree can use."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_NOTES = REPO.parent / "shared"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh work directory laid out like a real one (runs/ beneath it)."""
    path = tmp_path / "work"
    (path / "runs").mkdir(parents=True)
    return path


@pytest.fixture
def repo_root() -> Path:
    """The repository root (for the mappings, docs and scripts a user runs)."""
    return REPO
