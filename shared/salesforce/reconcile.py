"""Per-object extraction results and how their counts are explained (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

Method = Literal["rest", "bulk", "rest-by-parent"]


@dataclass
class ObjectResult:
    """What extraction did for one object, and whether its count reconciles.

    Attributes:
        source_count: ``COUNT()`` taken just before extraction started (for objects queried
            by parent chunks: the sum of the chunk queries' ``totalSize``).
        source_count_end: ``COUNT()`` taken right after the last batch.
        extracted: Records staged (all batches, including those of an earlier attempt).
        status: ``reconciled``, ``explained`` (difference caused by changes in the source
            during extraction) or ``unexplained`` (needs a person).
    """

    object: str
    method: Method
    fields: list[str]
    where: str | None
    include_deleted: bool
    source_count: int = 0
    source_count_end: int = 0
    extracted: int = 0
    batches: int = 0
    resumed_at_batch: int | None = None
    files: int = 0
    file_bytes: int = 0
    file_errors: list[dict[str, Any]] = field(default_factory=list)
    status: str = "pending"
    explanation: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the state file and reports."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ObjectResult:
        """Rebuild from :meth:`to_dict` output (a finished object's state)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def reconcile(result: ObjectResult) -> ObjectResult:
    """Set ``status`` and ``explanation`` from the three counts; returns the same object."""
    start, end, got = result.source_count, result.source_count_end, result.extracted
    if got == start == end:
        result.status, result.explanation = "reconciled", f"{got} extracted = {start} in source"
    elif min(start, end) <= got <= max(start, end):
        result.status = "explained"
        result.explanation = (
            f"{got} extracted; the source count moved from {start} to {end} while extracting "
            "(records created or deleted meanwhile). The delta run at cutover picks them up."
        )
    else:
        diff = got - start
        result.status = "unexplained"
        result.explanation = (
            f"{got} extracted but the source counted {start} at start and {end} at end "
            f"({diff:+d}). Check sharing (records the integration user cannot see are not "
            "counted either), then re-run extraction for this object."
        )
    if result.file_errors:
        result.explanation += (
            f" {len(result.file_errors)} file bodies could not be downloaded (listed under "
            "file_errors); their records are staged without a body."
        )
    return result
