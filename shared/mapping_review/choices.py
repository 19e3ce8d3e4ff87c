"""Propose a choice (picklist) value map from labels, flagging what has no home.

Salesforce picklists store their API value; Dataverse choices store an integer. A team's own
values ("Webinar 2024") rarely exist in the destination, and the run must never drop them
silently: every source value appears in the map, either paired with an option (exactly or by
a fuzzy label match a person should check) or flagged ``unmatched`` with what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from shared.mapping_review.metadata import ChoiceOption, PicklistValue

#: A fuzzy label match at or above this is proposed (and marked for a person to check).
FUZZY_CHOICE = 85.0


@dataclass(frozen=True)
class ChoiceEntry:
    """One source picklist value and where it goes."""

    source_value: str
    source_label: str
    target_value: int | None
    target_label: str | None
    how: str  # exact | fuzzy | new | unmatched
    score: float

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form for the proposal file."""
        return {
            "source_value": self.source_value,
            "source_label": self.source_label,
            "target_value": self.target_value,
            "target_label": self.target_label,
            "how": self.how,
            "score": round(self.score, 3),
        }


def _norm(text: str) -> str:
    return " ".join(text.casefold().replace("-", " ").replace("_", " ").split())


def map_choices(
    values: tuple[PicklistValue, ...], options: tuple[ChoiceOption, ...]
) -> list[ChoiceEntry]:
    """Pair each source value with a target option by label, exact first, then fuzzy.

    Each target option is used by at most one fuzzy match; exact matches always win. Values
    with no option above :data:`FUZZY_CHOICE` are ``unmatched``.
    """
    by_label = {_norm(o.label): o for o in options}
    entries: list[ChoiceEntry] = []
    used: set[int] = set()
    for pv in values:
        exact = by_label.get(_norm(pv.label)) or by_label.get(_norm(pv.value))
        if exact is not None:
            used.add(exact.value)
            entries.append(ChoiceEntry(pv.value, pv.label, exact.value, exact.label, "exact", 1.0))
            continue
        best: tuple[float, ChoiceOption] | None = None
        for opt in options:
            if opt.value in used:
                continue
            score = fuzz.token_sort_ratio(_norm(pv.label), _norm(opt.label))
            if best is None or score > best[0]:
                best = (score, opt)
        if best is not None and best[0] >= FUZZY_CHOICE:
            used.add(best[1].value)
            entries.append(
                ChoiceEntry(
                    pv.value, pv.label, best[1].value, best[1].label, "fuzzy", best[0] / 100
                )
            )
        else:
            entries.append(ChoiceEntry(pv.value, pv.label, None, None, "unmatched", 0.0))
    return entries


def new_choices(values: tuple[PicklistValue, ...], value_prefix: int) -> list[ChoiceEntry]:
    """Options for a proposed new choice column: one per source value, numbered from the
    publisher's option-value prefix (``prefix * 10000``), in source order."""
    base = value_prefix * 10_000
    return [
        ChoiceEntry(pv.value, pv.label, base + i, pv.label, "new", 1.0)
        for i, pv in enumerate(values)
    ]
