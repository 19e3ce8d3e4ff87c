"""The confirmation gate: no record moves on a mapping a person has not confirmed.

``./migrate confirm-map FILE --by NAME`` writes ``<FILE>.confirmation.json`` beside the mapping::

    {"by": "Dana Admin", "at": "2026-11-28T18:30:00Z", "sha256": "<hex of the file's bytes>"}

The hash is over the mapping file's exact bytes, so *any* edit afterwards (a value map, a
comment, a space) invalidates the confirmation; the person confirms again after looking at the
change. :func:`require_confirmed` is what ``./migrate run`` calls before anything moves.

The mapping model has no status field, so the state is derived: no sidecar → *proposed*;
sidecar whose hash matches → *confirmed*; sidecar whose hash differs → *modified*.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from shared.errors import ConfigError, MappingNotConfirmedError
from shared.mapping.loader import load_mapping

Status = Literal["proposed", "confirmed", "modified"]


@dataclass(frozen=True)
class ConfirmationRecord:
    """Who confirmed which bytes of a mapping, and when."""

    by: str
    at: datetime
    sha256: str

    def to_json(self) -> str:
        """The sidecar's content."""
        at = self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.dumps({"by": self.by, "at": at, "sha256": self.sha256}, indent=1) + "\n"


def confirmation_path(mapping_path: Path) -> Path:
    """``<mapping>.confirmation.json``, beside the mapping file."""
    return mapping_path.with_name(mapping_path.name + ".confirmation.json")


def sha256_of(path: Path) -> str:
    """Hex sha256 of the file's exact bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _how_to(path: Path) -> str:
    return (
        f"review it with `./migrate review {path}` (which writes mapping-review.html for the "
        f"person who signs off), then confirm it with `./migrate confirm-map {path} --by NAME`"
    )


def read_confirmation(mapping_path: Path) -> ConfirmationRecord | None:
    """The recorded confirmation, or None when there is none.

    Raises:
        MappingNotConfirmedError: The sidecar exists but cannot be read as a confirmation.
    """
    side = confirmation_path(mapping_path)
    if not side.exists():
        return None
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
        return ConfirmationRecord(
            by=str(data["by"]),
            at=datetime.strptime(str(data["at"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
            sha256=str(data["sha256"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise MappingNotConfirmedError(
            f"mapping {mapping_path}: its confirmation {side} is unreadable ({exc}); "
            + _how_to(mapping_path)
        ) from None


def status(mapping_path: Path) -> tuple[Status, ConfirmationRecord | None]:
    """Whether the mapping is proposed, confirmed, or modified since it was confirmed."""
    record = read_confirmation(mapping_path)
    if record is None:
        return "proposed", None
    if record.sha256 != sha256_of(mapping_path):
        return "modified", record
    return "confirmed", record


def confirm(mapping_path: Path, by: str, *, at: datetime | None = None) -> ConfirmationRecord:
    """Record that ``by`` confirmed the mapping as it is now.

    The mapping must load (a person cannot sign off on a file the run would refuse anyway).

    Raises:
        ConfigError: The name is empty, the file is missing, or the mapping does not load (one
            line per problem, with the file and line).
    """
    name = by.strip()
    if not name:
        raise ConfigError(["--by: give the name of the person who confirms the mapping"])
    if not mapping_path.is_file():
        raise ConfigError([f"mapping file {mapping_path} does not exist"])
    load_mapping(mapping_path)
    record = ConfirmationRecord(
        by=name, at=(at or datetime.now(UTC)).replace(microsecond=0), sha256=sha256_of(mapping_path)
    )
    side = confirmation_path(mapping_path)
    tmp = side.with_name(side.name + ".tmp")
    tmp.write_text(record.to_json(), encoding="utf-8")
    tmp.replace(side)
    return record


def require_confirmed(mapping_path: Path) -> ConfirmationRecord:
    """Return the confirmation of the mapping as it is now, or refuse with what to do.

    This is the gate ``./migrate run`` passes before any record moves.

    Raises:
        MappingNotConfirmedError: No confirmation, or the file changed after it was confirmed
            (the message says who confirmed, when, and how to review and confirm again).
        ConfigError: The mapping file does not exist.
    """
    path = Path(mapping_path)
    if not path.is_file():
        raise ConfigError([f"mapping file {path} does not exist"])
    state, record = status(path)
    if state == "confirmed" and record is not None:
        return record
    if state == "modified" and record is not None:
        when = record.at.strftime("%Y-%m-%d %H:%M UTC")
        raise MappingNotConfirmedError(
            f"mapping {path} changed after {record.by} confirmed it on {when}; nothing was "
            f"moved. To go on, " + _how_to(path)
        )
    raise MappingNotConfirmedError(
        f"mapping {path} has not been confirmed by a person; nothing was moved. To go on, "
        + _how_to(path)
    )
