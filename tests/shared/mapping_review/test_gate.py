"""The confirmation gate: unconfirmed, confirmed, and confirmed-then-edited."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.errors import ConfigError, MappingNotConfirmedError
from shared.mapping_review.gate import (
    confirm,
    confirmation_path,
    require_confirmed,
    sha256_of,
    status,
)

MAPPING = """\
version: 1
name: tiny
objects:
  - name: contact
    source: Contact
    target: contact
    entity_set: contacts
    fields:
      - {source: LastName, target: lastname, transform: text}
"""


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "map.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def test_an_unconfirmed_mapping_is_refused_with_how_to_confirm(mapping: Path) -> None:
    assert status(mapping) == ("proposed", None)
    with pytest.raises(MappingNotConfirmedError) as err:
        require_confirmed(mapping)
    message = str(err.value)
    assert "has not been confirmed" in message and "nothing was moved" in message
    assert f"./migrate review {mapping}" in message
    assert f"./migrate confirm-map {mapping} --by NAME" in message


def test_a_confirmed_mapping_passes_and_records_who_when_and_which_bytes(mapping: Path) -> None:
    at = datetime(2026, 11, 28, 18, 30, tzinfo=UTC)
    record = confirm(mapping, "  Dana Admin ", at=at)
    side = json.loads(confirmation_path(mapping).read_text(encoding="utf-8"))
    assert side == {"by": "Dana Admin", "at": "2026-11-28T18:30:00Z", "sha256": sha256_of(mapping)}
    assert require_confirmed(mapping) == record
    assert status(mapping)[0] == "confirmed"


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("lastname", "firstname"),  # a real change
        lambda t: t + "# a comment\n",  # even a comment
        lambda t: t.replace("\n", "\r\n"),  # even line endings
    ],
)
def test_any_edit_after_confirmation_invalidates_it(mapping: Path, edit: object) -> None:
    confirm(mapping, "Dana", at=datetime(2026, 11, 28, 18, 30, tzinfo=UTC))
    assert callable(edit)
    mapping.write_bytes(edit(mapping.read_text(encoding="utf-8")).encode("utf-8"))
    assert status(mapping)[0] == "modified"
    with pytest.raises(MappingNotConfirmedError) as err:
        require_confirmed(mapping)
    message = str(err.value)
    assert "changed after Dana confirmed it on 2026-11-28 18:30 UTC" in message
    assert "confirm-map" in message
    confirm(mapping, "Dana")  # confirming again (after review) restores the gate
    assert require_confirmed(mapping).by == "Dana"


def test_a_mapping_that_does_not_load_cannot_be_confirmed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MAPPING.replace("transform: text", "transform: txt"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml:9: .*'txt' is not allowed"):
        confirm(bad, "Dana")
    assert not confirmation_path(bad).exists()


def test_confirming_needs_a_name_and_a_file(mapping: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--by"):
        confirm(mapping, "   ")
    with pytest.raises(ConfigError, match="does not exist"):
        confirm(tmp_path / "nope.yaml", "Dana")
    with pytest.raises(ConfigError, match="does not exist"):
        require_confirmed(tmp_path / "nope.yaml")


def test_a_tampered_confirmation_is_refused(mapping: Path) -> None:
    confirmation_path(mapping).write_text('{"by": "x"}', encoding="utf-8")
    with pytest.raises(MappingNotConfirmedError, match="unreadable"):
        require_confirmed(mapping)
