"""Value profiles: what sampled values look like, as evidence."""

from __future__ import annotations

import pytest

from shared.mapping_review.profiles import fit, kind_of, profile


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("ann@example.com", "email"),
        ("https://linkedin.com/in/ann", "url"),
        ("www.example.com", "url"),
        ("+1 (415) 555-0100", "phone"),
        ("4155550100", "phone"),
        ("2024-03-01", "date"),
        ("2024-03-01T10:00:00.000+0000", "datetime"),
        ("003Hs00000AbCdEAAV", "salesforce_id"),
        (42, "number"),
        ("3.5", "number"),
        (True, "boolean"),
        ("Acme Corp", "text"),
    ],
)
def test_kinds(value: object, kind: str) -> None:
    assert kind_of(value) == kind


def test_profile_needs_agreement_and_ignores_empties() -> None:
    emails = profile(["a@b.co", "c@d.org", None, "", "e@f.net", "g@h.io"])
    assert (emails.kind, emails.matching, emails.non_empty, emails.sampled) == ("email", 4, 4, 6)
    assert emails.describe() == "4/4 sampled values look like email"
    mixed = profile(["a@b.co", "Acme", "https://x.io", "Beta"])
    assert mixed.kind is None and "mixed" in mixed.describe()
    assert profile([None, None]).describe().startswith("no sampled values")


def test_profile_never_quotes_values() -> None:
    assert "secret@corp.com" not in profile(["secret@corp.com"]).describe()


def test_fit_supports_and_contradicts() -> None:
    emails = profile(["a@b.co", "c@d.org"])
    assert fit(emails, "String", "Email") == 1.0
    assert fit(emails, "String", "Phone") == -1.0
    assert fit(emails, "Integer", None) == -1.0
    text = profile(["Acme", "Beta"])
    assert fit(text, "String", "Email") is None  # free text has no opinion
