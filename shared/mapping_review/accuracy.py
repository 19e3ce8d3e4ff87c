"""Measure proposals against a labelled set of real field correspondences.

A labelled file says, for one object pair, what each source field should become: a target
column's logical name, ``new`` (no existing column holds it: a custom column is right) or
``skip`` (Salesforce maintains it; not data to move). The metrics a reviewer cares about:

- **top-1 accuracy**: the proposal's first choice equals the label;
- **precision** of ``map`` decisions: when the proposal names an existing column, how often it is
  the right one (a wrong column is the costly mistake: data lands in the wrong place);
- **recall** of mappable fields: of the fields that do have an existing column, how many the
  proposal found (a miss costs a needless custom column).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.errors import ConfigError
from shared.mapping_review.matcher import FieldDecision


@dataclass(frozen=True)
class Labelled:
    """One labelled object pair."""

    source_object: str
    target_table: str
    fields: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    """One field's label next to what was proposed."""

    source_object: str
    target_table: str
    field: str
    custom: bool
    expected: str
    got: str
    confidence: float

    @property
    def correct(self) -> bool:
        """Top-1 agreement."""
        return self.expected == self.got


def read_labelled(directory: Path) -> list[Labelled]:
    """Read every ``*.json`` labelled pair in a folder (sorted by file name)."""
    out = []
    for path in sorted(directory.glob("*.json")):
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        try:
            out.append(Labelled(data["source_object"], data["target_table"], dict(data["fields"])))
        except KeyError as exc:
            raise ConfigError([f"{path}: labelled pair lacks {exc.args[0]!r}"]) from None
    return out


def label_of(decision: FieldDecision) -> str:
    """A decision in the labelled set's vocabulary: column name, ``new`` or ``skip``."""
    if decision.action == "map":
        return decision.target_column or "skip"
    return "new" if decision.action == "new_column" else "skip"


def compare(
    labelled: Labelled, decisions: list[FieldDecision], custom_fields: set[str]
) -> list[Outcome]:
    """Pair labels with decisions. A labelled field with no decision counts as ``missing``."""
    by_field = {d.source_field: d for d in decisions}
    out = []
    for name, expected in labelled.fields.items():
        d = by_field.get(name)
        out.append(
            Outcome(
                labelled.source_object,
                labelled.target_table,
                name,
                name in custom_fields,
                expected,
                label_of(d) if d else "missing",
                d.confidence if d else 0.0,
            )
        )
    return out


@dataclass(frozen=True)
class Scores:
    """The three numbers for a group of outcomes, with their counts."""

    total: int
    correct: int
    mapped: int
    mapped_right: int
    mappable: int
    found: int

    @property
    def top1(self) -> float:
        """Share of fields whose first choice equals the label."""
        return self.correct / self.total if self.total else 1.0

    @property
    def precision(self) -> float:
        """Share of existing-column proposals that name the right column."""
        return self.mapped_right / self.mapped if self.mapped else 1.0

    @property
    def recall(self) -> float:
        """Share of fields with an existing column that got that column."""
        return self.found / self.mappable if self.mappable else 1.0


def score(outcomes: list[Outcome]) -> Scores:
    """Top-1, precision and recall over some outcomes."""
    special = {"new", "skip", "missing"}
    mapped = [o for o in outcomes if o.got not in special]
    mappable = [o for o in outcomes if o.expected not in special]
    return Scores(
        total=len(outcomes),
        correct=sum(o.correct for o in outcomes),
        mapped=len(mapped),
        mapped_right=sum(o.correct for o in mapped),
        mappable=len(mappable),
        found=sum(o.correct for o in mappable),
    )
