"""Run the matcher over every object pair and write what a person will review.

Two files come out, side by side:

- ``<out>`` — a mapping file the mapping loader accepts, marked *proposed* in its header; it is
  not confirmed until ``./migrate confirm-map`` records who confirmed which bytes;
- ``<out>.proposal.json`` — a flat list, one entry per source field, with the decision, its
  confidence (0–1), the evidence behind it, alternatives and any picklist value map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from shared.errors import ConfigError
from shared.mapping_review.dictionary import OBJECT_PAIRS, ObjectPair
from shared.mapping_review.matcher import Evidence, FieldDecision, MatchOptions, match_object
from shared.mapping_review.metadata import SourceObject, TargetTable


@dataclass(frozen=True)
class PairProposal:
    """The decisions for one object pair."""

    pair: ObjectPair
    table: TargetTable
    decisions: tuple[FieldDecision, ...]


@dataclass(frozen=True)
class Proposal:
    """Everything proposed, plus source objects that have no destination table here."""

    pairs: tuple[PairProposal, ...]
    unpaired: tuple[FieldDecision, ...] = ()

    @property
    def decisions(self) -> list[FieldDecision]:
        """Every field decision, paired objects first."""
        return [d for p in self.pairs for d in p.decisions] + list(self.unpaired)

    def to_json(self) -> list[dict[str, Any]]:
        """The flat list written to ``<out>.proposal.json``."""
        return [d.to_dict() for d in self.decisions]


def object_tables(pairs: tuple[ObjectPair, ...]) -> dict[str, tuple[str, ...]]:
    """Salesforce object → the Dataverse tables it lands in (for lookup targets)."""
    out: dict[str, tuple[str, ...]] = {}
    for p in pairs:
        out[p.source] = (*out.get(p.source, ()), p.target)
    return out


def propose(
    sources: dict[str, SourceObject],
    targets: dict[str, TargetTable],
    options: MatchOptions | None = None,
    pairs: tuple[ObjectPair, ...] = OBJECT_PAIRS,
) -> Proposal:
    """Propose decisions for every pair whose source object and target table both exist.

    Source objects with no pair still get one entry per field (``skip``, saying why), so the
    proposal lists every source field and nothing disappears from view.
    """
    usable = tuple(p for p in pairs if p.source in sources and p.target in targets)
    opts = replace(options or MatchOptions(), object_tables=object_tables(usable))
    out = [
        PairProposal(
            p, targets[p.target], tuple(match_object(sources[p.source], targets[p.target], opts))
        )
        for p in usable
    ]
    paired = {p.source for p in usable}
    unpaired = tuple(
        FieldDecision(
            source_object=obj.name,
            source_field=f.name,
            source_label=f.label,
            source_type=f.type,
            target_table="",
            action="skip",
            target_column=None,
            confidence=0.5,
            evidence=(
                Evidence(
                    "rule",
                    f"object {obj.name} has no destination table in this proposal: add an "
                    "object entry to the mapping by hand, or leave it out on purpose",
                    0.0,
                ),
            ),
        )
        for name, obj in sorted(sources.items())
        if name not in paired
        for f in obj.fields
    )
    return Proposal(tuple(out), unpaired)


def proposal_path(mapping_path: Path) -> Path:
    """Where the proposal JSON lives: beside the mapping, ``<mapping>.proposal.json``."""
    return mapping_path.with_name(mapping_path.name + ".proposal.json")


def write_proposal_json(proposal: Proposal, mapping_path: Path) -> Path:
    """Write ``<mapping>.proposal.json`` and return its path."""
    path = proposal_path(mapping_path)
    path.write_text(json.dumps(proposal.to_json(), indent=1, ensure_ascii=False) + "\n", "utf-8")
    return path


def read_proposal_json(path: Path) -> list[dict[str, Any]]:
    """Read a proposal list back (for ``review``).

    Raises:
        ConfigError: The file is not JSON, or not a list of field entries.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError([f"{path}: not valid JSON at line {exc.lineno}: {exc.msg}"]) from None
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise ConfigError([f"{path}: a proposal is a JSON list of field entries"])
    missing = sorted({k for e in data for k in _ENTRY_KEYS if k not in e})
    if missing:
        raise ConfigError([f"{path}: entries lack {', '.join(missing)}; re-run propose-map"])
    return data


_ENTRY_KEYS = ("source_object", "source_field", "target_table", "target_column", "confidence")
