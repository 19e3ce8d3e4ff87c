"""Known exceptions: records the runs did not write on purpose, each with its reason code.

A record a run quarantined (or skipped by policy) is expected to be absent from the target, or
present but not as the source says (a link the server refused). The certificate lists these
and does not count them as differences. When several runs are certified together (a migration
and its deltas), the latest run that dealt with a record decides: a record quarantined by the
migration and written by a later delta is no longer an exception.

Pure: the caller reads the quarantine files and the loaded manifests from the stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from shared.ids import to_18

__all__ = ["Key", "Known", "RunOutcomes", "fold_runs"]

Key = tuple[str, str]
"""(Salesforce object, 18-character id)."""


@dataclass(frozen=True)
class Known:
    """One known exception.

    Attributes:
        source_object: Salesforce object of the record.
        source_id: Its 18-character id.
        reason_code: Why it is not (as) in the target (docs/reason-codes.md).
        origin: ``quarantine:<run id>`` (a run quarantined or skipped it), ``transform`` (the
            mapping rejects the current source record) or ``create-only`` (a column Dataverse
            does not update kept the value of a row that existed before the runs).
        unit: The mapping entry the quarantine file was kept under, when known.
        outcome: ``quarantined`` or ``skipped_by_policy``.
        message: The run's or the transform's explanation.
    """

    source_object: str
    source_id: str
    reason_code: str
    origin: str
    unit: str | None = None
    outcome: str = "quarantined"
    message: str = ""

    @property
    def key(self) -> Key:
        """(object, id) of the record."""
        return (self.source_object, self.source_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return asdict(self)


@dataclass(frozen=True)
class RunOutcomes:
    """What one run did with records: its quarantine rows and the records it wrote.

    Attributes:
        run_id: The run.
        quarantined: ``(unit, quarantine row)`` pairs; a row has ``source_object``,
            ``source_id``, ``reason_code`` and usually ``outcome`` and ``message``.
        written: ``(object, id)`` of every record the run wrote (its loaded manifests).
    """

    run_id: str
    quarantined: Sequence[tuple[str, dict[str, Any]]]
    written: Iterable[Key] = ()


def _key(row: dict[str, Any]) -> Key | None:
    obj, sid = row.get("source_object"), row.get("source_id")
    if not obj or not sid:
        return None
    try:
        return (str(obj), to_18(str(sid)))
    except ValueError:
        return (str(obj), str(sid))


def fold_runs(runs: Sequence[RunOutcomes]) -> dict[Key, Known]:
    """The known exceptions of runs applied in order (the last run to touch a record decides).

    Within one run a quarantine wins over a write: the second pass quarantines links of rows
    the load wrote, and such a row is not as the source says.
    """
    out: dict[Key, Known] = {}
    for run in runs:
        for key in run.written:
            out.pop(key, None)
        seen: set[Key] = set()
        for unit, row in run.quarantined:
            found = _key(row)
            if found is None or found in seen:
                continue  # one exception per record: its first reason, as the run counted it
            seen.add(found)
            out[found] = Known(
                source_object=found[0],
                source_id=found[1],
                reason_code=str(row.get("reason_code") or "QUARANTINED"),
                origin=f"quarantine:{run.run_id}",
                unit=unit,
                outcome=str(row.get("outcome") or "quarantined"),
                message=str(row.get("message") or ""),
            )
    return out
