"""What the transform hands the loader: target rows, rejections and report entries.

These are the contract between ``shared/mapping`` (pure transform + validation) and
``shared/dataverse`` (the loader). They are plain, JSON-serialisable data so they can be
staged, journalled and reported without custom encoders.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Outcome = Literal["written", "written_with_fallback", "quarantined", "skipped_by_policy"]


@dataclass(frozen=True)
class ReportEntry:
    """Something a person should know about a record that was still written.

    Example: the owner was inactive so the fallback owner was used.
    """

    reason_code: str
    source_object: str
    source_id: str
    field: str | None
    value: Any
    message: str
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for reports."""
        return asdict(self)


@dataclass(frozen=True)
class FileRef:
    """A file body kept on the stage and streamed to Dataverse at load time."""

    stage_key: str
    size: int
    filename: str
    mimetype: str


@dataclass(frozen=True)
class TargetRow:
    """One Dataverse row to upsert, produced from one source record.

    Attributes:
        table: Logical name, e.g. ``contact``.
        entity_set: Entity set name, e.g. ``contacts``.
        id: Deterministic primary key (see ``shared.ids``).
        source_object: Salesforce object the row came from.
        source_id: 18-character Salesforce id.
        payload: Columns and ``nav@odata.bind`` values, plus deep-inserted activity parties
            (e.g. ``email_activity_parties``). Never contains the primary key; the loader
            adds it as the bulk message requires.
        second_pass: Binds written after every row of the phase exists (self-references
            such as ``parentaccountid@odata.bind``).
        close: ``{"statecode": s, "statuscode": c}`` PATCHed after creation, for activities
            and leads that must not stay open.
        file: A file body to attach (annotations), streamed from the stage.
        entries: Report entries for fallbacks applied while building the row.
    """

    table: str
    entity_set: str
    id: str
    source_object: str
    source_id: str
    payload: dict[str, Any]
    second_pass: dict[str, Any] = field(default_factory=dict)
    close: dict[str, int] | None = None
    file: FileRef | None = None
    entries: tuple[ReportEntry, ...] = ()

    @property
    def outcome(self) -> Outcome:
        """``written_with_fallback`` when any report entry was raised, else ``written``."""
        return "written_with_fallback" if self.entries else "written"


@dataclass(frozen=True)
class Rejection:
    """A source record that cannot land, with everything a person needs to fix it."""

    source_object: str
    source_id: str
    reason_code: str
    field: str | None
    value: Any
    message: str
    hint: str
    outcome: Outcome = "quarantined"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for quarantine files and reports."""
        return asdict(self)
