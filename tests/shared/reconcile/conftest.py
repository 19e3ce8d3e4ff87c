"""Reconciliation tests use the loader's fixtures: emulator, stage and load context."""

from __future__ import annotations

from tests.shared.dataverse.conftest import context, dataverse, stage

__all__ = ["context", "dataverse", "stage"]
