"""Name, label, type and unit evidence for one field/column pair."""

from __future__ import annotations

from shared.mapping_review.metadata import SourceField, TargetColumn
from shared.mapping_review.similarity import (
    label_similarity,
    name_similarity,
    source_tokens,
    type_compatibility,
    unit_conflict,
)


def _f(name: str, type_: str = "string", label: str = "") -> SourceField:
    return SourceField("Contact", name, label or name, type_)


def _c(name: str, type_: str = "String", label: str = "", fmt: str | None = "Text") -> TargetColumn:
    return TargetColumn("contact", name, label or name, type_, format_name=fmt)


def test_source_tokens_drop_namespace_and_suffix() -> None:
    assert source_tokens("leadfwd__Lead_Score__c") == ["lead", "score"]
    assert source_tokens("MailingPostalCode") == ["mailing", "postal", "code"]
    assert source_tokens("Secondary_Email__c") == ["2", "email"]


def test_similar_names_and_labels_score_high_and_others_low() -> None:
    assert name_similarity(_f("FirstName"), _c("firstname")) == 1.0
    assert name_similarity(_f("FirstName"), _c("jobtitle")) < 0.5
    assert (
        label_similarity(_f("X", label="Secondary Email"), _c("e", label="Email Address 2")) > 0.8
    )
    custom = TargetColumn("contact", "lfwd_leadscore", "Lead score", "Integer", custom=True)
    assert name_similarity(_f("leadfwd__Lead_Score__c"), custom) == 1.0


def test_type_compatibility_refuses_impossible_pairs() -> None:
    assert type_compatibility(_f("Email", "email"), _c("emailaddress1", fmt="Email")) == 1.0
    assert type_compatibility(_f("Email", "email"), _c("telephone1", fmt="Phone")) == 0.0
    assert type_compatibility(_f("DoNotCall", "boolean"), _c("x", "Integer", fmt=None)) == 0.0
    assert type_compatibility(_f("Status", "picklist"), _c("statuscode", "Status", fmt=None)) > (
        type_compatibility(_f("Status", "picklist"), _c("statecode", "State", fmt=None))
    )


def test_units_that_differ_are_noticed() -> None:
    seconds = _f("CallDurationInSeconds", "int", "Call Duration")
    assert unit_conflict(seconds, _c("actualdurationminutes", "Integer", "Actual Duration")) == (
        "second",
        "minute",
    )
    assert unit_conflict(_f("DurationInMinutes", "int"), _c("scheduleddurationminutes")) is None
