"""Map, transform and validate: declarative mappings from Leadfwd/Salesforce to Dataverse.

Read in this order: ``models`` (the mapping file) → ``loader`` (YAML with line numbers) →
``plan`` (what to extract, load phases) → ``columns`` (custom columns to deploy) →
``target_metadata`` + ``validate`` (the live target) → ``dedup`` + ``prepare`` (pre-passes,
resolution context) → ``types`` + ``fields`` + ``owners`` + ``activities`` → ``transform``.
"""

from __future__ import annotations

from shared.mapping.columns import ColumnSpec, required_columns
from shared.mapping.loader import load_mapping, parse_mapping
from shared.mapping.plan import ObjectExtraction, Phase, extraction_plan, plan_phases

__all__ = [
    "ColumnSpec",
    "ObjectExtraction",
    "Phase",
    "extraction_plan",
    "load_mapping",
    "parse_mapping",
    "plan_phases",
    "required_columns",
]
