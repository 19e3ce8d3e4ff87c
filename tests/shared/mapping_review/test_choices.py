"""Picklist value maps: exact, fuzzy, unmatched (never silently dropped), new."""

from __future__ import annotations

from shared.mapping_review.choices import map_choices, new_choices
from shared.mapping_review.metadata import ChoiceOption, PicklistValue


def _v(*labels: str) -> tuple[PicklistValue, ...]:
    return tuple(PicklistValue(x, x) for x in labels)


def test_every_source_value_appears_once_with_how_it_was_matched() -> None:
    options = (ChoiceOption(1, "Web"), ChoiceOption(2, "Word of Mouth"), ChoiceOption(3, "Other"))
    entries = map_choices(_v("Web", "word-of-mouth", "Wrd of Mouth", "Phone Inquiry"), options)
    assert [(e.source_value, e.target_value, e.how) for e in entries] == [
        ("Web", 1, "exact"),
        ("word-of-mouth", 2, "exact"),  # case, dashes and spaces do not matter
        ("Wrd of Mouth", None, "unmatched"),  # option 2 is already taken by an exact match
        ("Phone Inquiry", None, "unmatched"),
    ]


def test_a_close_label_is_proposed_as_fuzzy_for_a_person_to_check() -> None:
    entries = map_choices(_v("Trade Shows"), (ChoiceOption(7, "Trade Show"),))
    assert entries[0].how == "fuzzy" and entries[0].target_value == 7


def test_new_choice_column_numbers_from_the_publisher_prefix() -> None:
    entries = new_choices(_v("Gold", "Silver"), 72_700)
    assert [(e.target_value, e.target_label) for e in entries] == [
        (727_000_000, "Gold"),
        (727_000_001, "Silver"),
    ]
