"""Compare one mapping entry: expected rows (from the source now) against target rows (now).

Three questions, answered exactly:

- **Id sets.** Every expected deterministic id is in the target (else ``missing_in_target``),
  every in-scope target row is expected (else ``extra_in_target``).
- **Field hashes.** Per record, the sha256 of the canonical JSON of its compared columns, on
  each side. Values are brought to reconciliation's normal form first
  (``shared.reconcile.normalise``): a target value that compares equal to the expected one
  (``5000000.0000`` and ``5000000``, a UTC datetime and its offset spelling, a lookup's GUID
  and its ``/accounts(<guid>)`` bind) is hashed in the expected value's canonical spelling,
  so equal hashes mean every column compares equal, and a differing column changes the hash.
- **Exact differences.** Each differing column with the expected and actual value.

Known exceptions (records a run quarantined or the mapping rejects now) are set aside on both
sides and listed; they do not void the certificate. Pure functions: tested with literal rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Container, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shared.cutover.known import Known
from shared.reconcile.normalise import actual_column, compare_value, normalise, parse_bind
from shared.reconcile.readback import SET_ON_CLOSE, expected_fields
from shared.rows import TargetRow

__all__ = [
    "CREATE_ONLY_ON_EXISTING_ROW",
    "EntryResult",
    "Expected",
    "RecordComparison",
    "canonical",
    "canonical_json",
    "compare_entry",
    "compare_record",
    "expected_from_row",
    "field_set_sha256",
    "id_set_sha256",
    "record_hash",
    "select_columns",
]

CREATE_ONLY_ON_EXISTING_ROW = "CREATE_ONLY_ON_EXISTING_ROW"
_CREATED_ON = {"overriddencreatedon": "createdon"}


@dataclass(frozen=True)
class Expected:
    """What one target row should hold, from one current source record.

    Attributes:
        target_id: Deterministic primary key, lower case.
        source_object: Salesforce object of the record.
        source_id: Its 18-character id.
        fields: Payload key → value we would write now (binds as ``/set(<guid>)``).
        closes: The row is closed after it is written (activities, leads, deals).
    """

    target_id: str
    source_object: str
    source_id: str
    fields: Mapping[str, Any]
    closes: bool = False


def expected_from_row(row: TargetRow) -> Expected:
    """The compared columns of a transformed row, as reconciliation reads it back.

    Payload, second-pass links and closing state; not activity parties (a collection) nor
    file bodies, whose size is compared instead (``filesize``).
    """
    fields = expected_fields(
        {"payload": row.payload, "second_pass": row.second_pass, "close": row.close}
    )
    if row.file is not None:
        fields["filesize"] = row.file.size
    return Expected(row.id.lower(), row.source_object, row.source_id, fields, bool(row.close))


def select_columns(keys: Iterable[str], lookups: Collection[str]) -> list[str]:
    """The ``$select`` that reads payload ``keys`` back (lookups as ``_<name>_value``).

    ``lookups`` are the table's lookup column names; a navigation such as
    ``parentcustomerid_account`` reads the longest lookup it starts with (``parentcustomerid``).
    A bind whose lookup the table lacks is not selected (its value then reads as missing).
    """
    out: dict[str, None] = {}
    for key in keys:
        if "@odata.bind" in key:
            nav = key.split("@", 1)[0].lower()
            names = [n for n in lookups if nav == n or nav.startswith(n + "_")]
            if names:
                out[f"_{max(names, key=len)}_value"] = None
        else:
            out[_CREATED_ON.get(key, key)] = None
    return list(out)


def _json_form(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, dt.date):  # datetimes too: UTC, to the second, after normalise
        return value.isoformat()
    return value


def canonical(key: str, value: Any) -> Any:
    """One JSON-safe spelling of a value in reconciliation's normal form."""
    if "@odata.bind" in key:
        return parse_bind(value) if value else None
    return _json_form(normalise(value))


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: equal values give equal bytes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def record_hash(values: Mapping[str, Any]) -> str:
    """sha256 of a record's canonical values."""
    return hashlib.sha256(canonical_json(dict(values))).hexdigest()


def id_set_sha256(ids: Iterable[str]) -> str:
    """sha256 of the sorted, lower-case ids, one per line."""
    text = "\n".join(sorted({i.lower() for i in ids}))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def field_set_sha256(hashes: Mapping[str, str]) -> str:
    """sha256 over ``<id> <record hash>`` lines, sorted by id: one digest for all records."""
    text = "\n".join(f"{i} {h}" for i, h in sorted(hashes.items()))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _actual(row: Mapping[str, Any], key: str) -> Any:
    column = _CREATED_ON.get(key) or actual_column(dict(row), key)
    return row.get(column) if column else None


@dataclass(frozen=True)
class RecordComparison:
    """One record compared column by column.

    Attributes:
        expected: Canonical expected values (what the expected-side hash is taken over).
        actual: Canonical target values of the same columns.
        differences: ``{column, kind, expected, actual}`` per differing column.
        create_only: The same for columns Dataverse ignores on update, on a row that existed
            before the runs (the old value stays, as designed): known exceptions.
    """

    expected: dict[str, Any]
    actual: dict[str, Any]
    differences: list[dict[str, Any]] = field(default_factory=list)
    create_only: list[dict[str, Any]] = field(default_factory=list)


def compare_record(
    exp: Expected,
    row: Mapping[str, Any],
    *,
    create_only: Collection[str] = (),
    created: Container[str] = (),
) -> RecordComparison:
    """Compare one expected row with the target row of the same id.

    Args:
        create_only: Columns Dataverse sets on create and ignores on update.
        created: Lower-case ids the runs created; a row outside it existed before them.
    """
    result = RecordComparison({}, {})
    for key in sorted(exp.fields):
        wanted = exp.fields[key]
        if key in SET_ON_CLOSE and wanted is None and exp.closes:
            continue  # Dataverse fills it when the activity is closed (docs/reconciliation.md)
        got = _actual(row, key)
        verdict = compare_value(key, wanted, got)
        result.expected[key] = canonical(key, wanted)
        if verdict.matches:
            result.actual[key] = result.expected[key]
            continue
        result.actual[key] = canonical(key, got)
        item = {"column": key, "kind": verdict.kind, "expected": wanted, "actual": got}
        if key in create_only and exp.target_id not in created:
            result.create_only.append(item)
        else:
            result.differences.append(item)
    return result


@dataclass
class EntryResult:
    """The certificate's account of one mapping entry."""

    entry: str
    source_object: str
    table: str
    id_column: str | None
    source_count: int = 0
    expected_count: int = 0
    target_count: int = 0
    expected_ids_sha256: str = ""
    target_ids_sha256: str = ""
    expected_fields_sha256: str = ""
    target_fields_sha256: str = ""
    missing_in_target: list[dict[str, Any]] = field(default_factory=list)
    extra_in_target: list[dict[str, Any]] = field(default_factory=list)
    field_differences: list[dict[str, Any]] = field(default_factory=list)
    known_exceptions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def differences(self) -> int:
        """Unexplained differences: missing rows, extra rows, differing columns."""
        return len(self.missing_in_target) + len(self.extra_in_target) + len(self.field_differences)

    def summary(self) -> dict[str, Any]:
        """The per-object line of the certificate (counts and digests)."""
        return {
            "source_object": self.source_object,
            "table": self.table,
            "scope": f"rows with {self.id_column}" if self.id_column else "rows by id",
            "source_count": self.source_count,
            "expected_count": self.expected_count,
            "target_count": self.target_count,
            "expected_ids_sha256": self.expected_ids_sha256,
            "target_ids_sha256": self.target_ids_sha256,
            "expected_fields_sha256": self.expected_fields_sha256,
            "target_fields_sha256": self.target_fields_sha256,
            "known_exceptions": len(self.known_exceptions),
            "differences": self.differences,
            "missing_in_target": len(self.missing_in_target),
            "extra_in_target": len(self.extra_in_target),
            "field_differences": len(self.field_differences),
        }


def compare_entry(
    result: EntryResult,
    *,
    expected: Mapping[str, Expected],
    rejected: Mapping[str, Known],
    exceptions: Mapping[str, Known],
    actual: Mapping[str, Mapping[str, Any]],
    salesforce_ids: Mapping[str, str] | None = None,
    create_only: Collection[str] = (),
    created: Container[str] = (),
) -> EntryResult:
    """Fill ``result`` from one entry's expected rows and the target's rows (all keyed by id).

    Args:
        expected: Rows the current source should have in the target (known exceptions
            excluded).
        rejected: Records the mapping rejects now (deleted, orphaned...): expected absent;
            listed as known exceptions when absent, as ``extra_in_target`` when present.
        exceptions: Records the runs quarantined: set aside on both sides, listed.
        actual: In-scope target rows (lower-case id → row).
        salesforce_ids: Salesforce id of target rows the runs wrote, for extra rows of an
            entry without an id column.
    """
    sf_ids = salesforce_ids or {}
    columns = sorted({k for exp in expected.values() for k in exp.fields})
    result.expected_count = len(expected)
    result.target_count = len(actual)
    mine: dict[str, str] = {}
    theirs: dict[str, str] = {}
    for tid in sorted(expected):
        exp = expected[tid]
        mine[tid] = record_hash(_compared(exp))
        row = actual.get(tid)
        if row is None:
            result.missing_in_target.append(_where(result, exp.source_object, exp.source_id, tid))
            continue
        cmp = compare_record(exp, row, create_only=create_only, created=created)
        theirs[tid] = record_hash(cmp.actual)
        for diff in cmp.differences:
            result.field_differences.append(
                {**_where(result, exp.source_object, exp.source_id, tid), **diff}
            )
        for diff in cmp.create_only:
            result.known_exceptions.append(
                {
                    **_where(result, exp.source_object, exp.source_id, tid),
                    "reason_code": CREATE_ONLY_ON_EXISTING_ROW,
                    "origin": "create-only",
                    "in_target": True,
                    **diff,
                }
            )
    for tid in sorted(exceptions):
        known = exceptions[tid]
        result.known_exceptions.append(_known(result, known, tid, tid in actual))
    for tid in sorted(set(actual) - set(expected) - set(exceptions)):
        row = actual[tid]
        theirs[tid] = record_hash({k: canonical(k, _actual(row, k)) for k in columns})
        sf_id = row.get(result.id_column) if result.id_column else sf_ids.get(tid)
        why = rejected.get(tid)
        result.extra_in_target.append(
            {
                "entry": result.entry,
                "table": result.table,
                "target_id": tid,
                "salesforce_id": sf_id,
                "reason": f"{why.reason_code}: {why.message}" if why else "not in the source",
            }
        )
    for tid in sorted(set(rejected) - set(actual) - set(exceptions)):
        result.known_exceptions.append(_known(result, rejected[tid], tid, False))
    result.expected_ids_sha256 = id_set_sha256(expected)
    result.target_ids_sha256 = id_set_sha256(theirs)
    result.expected_fields_sha256 = field_set_sha256(mine)
    result.target_fields_sha256 = field_set_sha256(theirs)
    return result


def _compared(exp: Expected) -> dict[str, Any]:
    return {
        k: canonical(k, v)
        for k, v in exp.fields.items()
        if not (k in SET_ON_CLOSE and v is None and exp.closes)
    }


def _where(result: EntryResult, source_object: str, source_id: str, tid: str) -> dict[str, Any]:
    return {
        "entry": result.entry,
        "table": result.table,
        "source_object": source_object,
        "source_id": source_id,
        "target_id": tid,
    }


def _known(result: EntryResult, known: Known, tid: str, in_target: bool) -> dict[str, Any]:
    return {
        **_where(result, known.source_object, known.source_id, tid),
        "reason_code": known.reason_code,
        "origin": known.origin,
        "outcome": known.outcome,
        "in_target": in_target,
        "message": known.message,
    }
