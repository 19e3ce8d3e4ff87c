"""The reconciliation result of one phase: counts, presence, field mismatches.

Plain dataclasses that serialise to JSON for reports and for the orchestrator's gate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Mismatch", "ObjectReconciliation", "PhaseReconciliation"]

OUTCOMES = ("written", "written_with_fallback", "quarantined", "skipped_by_policy")


@dataclass(frozen=True)
class Mismatch:
    """One field of one record that is not as intended, and whether that is explained."""

    source_object: str
    source_id: str
    table: str
    id: str
    column: str
    kind: str
    expected: Any
    actual: Any
    explanation: str | None = None

    @property
    def explained(self) -> bool:
        """True when a known, reported cause accounts for the difference."""
        return self.explanation is not None


@dataclass
class ObjectReconciliation:
    """Everything checked for one source object in one phase."""

    object: str
    staged: int = 0
    extracted: int = 0
    written: int = 0
    written_with_fallback: int = 0
    quarantined: int = 0
    skipped_by_policy: int = 0
    batches_staged: int = 0
    batches_loaded: int = 0
    target_rows: int = 0
    present: int = 0
    missing_ids: list[str] = field(default_factory=list)
    readback_records: int = 0
    readback_fields: int = 0
    sampled: bool = False
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        """``extracted = written + written_with_fallback + quarantined + skipped_by_policy``
        and every staged record was loaded."""
        total = self.written + self.written_with_fallback + self.quarantined
        return (
            self.extracted == total + self.skipped_by_policy
            and self.staged == self.extracted
            and self.batches_staged == self.batches_loaded
        )

    @property
    def unexplained(self) -> int:
        """Differences no known cause accounts for: count gaps, missing rows, field mismatches."""
        gap = 0 if self.balanced else max(1, abs(self.staged - self._accounted()))
        return gap + len(self.missing_ids) + sum(1 for m in self.mismatches if not m.explained)

    def _accounted(self) -> int:
        return sum(getattr(self, name) for name in OUTCOMES)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, with the derived verdicts."""
        data = asdict(self)
        data["balanced"] = self.balanced
        data["unexplained"] = self.unexplained
        data["mismatches"] = [{**asdict(m), "explained": m.explained} for m in self.mismatches]
        return data


@dataclass
class PhaseReconciliation:
    """The verdict on one phase, over all its objects."""

    run_id: str
    phase: str
    objects: list[ObjectReconciliation]
    tolerance: int = 0

    @property
    def unexplained(self) -> int:
        """Sum of unexplained differences over the phase's objects."""
        return sum(o.unexplained for o in self.objects)

    @property
    def passed(self) -> bool:
        """True when the unexplained differences are within the tolerance."""
        return self.unexplained <= self.tolerance

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for reports and activity results."""
        return {
            "run_id": self.run_id,
            "phase": self.phase,
            "tolerance": self.tolerance,
            "unexplained": self.unexplained,
            "passed": self.passed,
            "objects": [o.to_dict() for o in self.objects],
        }
