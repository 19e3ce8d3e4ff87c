"""Real Dataverse table metadata for the emulator (data in ``tables.yaml``, sources cited there)."""

from __future__ import annotations

from emulators.dataverse.metadata.model import Column, Table, load_standard_tables

__all__ = ["Column", "Table", "load_standard_tables"]
