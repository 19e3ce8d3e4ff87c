"""The defects manifest (``defects.json``): every planted record and what a migration must do.

Each defect class has exactly one expected outcome and reason code from docs/reason-codes.md,
fixed here so a class cannot be planted with the wrong expectation. Rows are kept in memory:
their number is small and does not grow with scale (except converted leads, ~2% of people).
"""

from __future__ import annotations

from typing import Any

# defect class -> (expected outcome, reason code) as docs/reason-codes.md defines them; the
# "written" outcome has no code: the value must arrive exactly as it is.
EXPECTATIONS: dict[str, tuple[str, str | None]] = {
    "invalid_email": ("quarantined", "INVALID_EMAIL"),
    "text_too_long": ("quarantined", "TEXT_TOO_LONG"),
    "picklist_unmapped": ("quarantined", "CHOICE_UNMAPPED"),
    "multipicklist_unmapped": ("quarantined", "MULTICHOICE_UNMAPPED"),
    "lookup_to_deleted": ("written_with_fallback", "LOOKUP_CLEARED"),
    "lookup_never_existed": ("written_with_fallback", "LOOKUP_CLEARED"),
    "inactive_owner": ("written_with_fallback", "OWNER_INACTIVE"),
    "owner_without_dynamics_user": ("written_with_fallback", "OWNER_UNMAPPED"),
    "duplicate_email": ("written_with_fallback", "DUPLICATE_EMAIL"),
    "sync_created_without_external_id": ("written_with_fallback", "NO_EXTERNAL_ID"),
    "lead_and_contact_same_person": ("written_with_fallback", "LEAD_CONTACT_SAME_PERSON"),
    "parent_cycle": ("written_with_fallback", "PARENT_CYCLE"),
    "self_parent": ("written_with_fallback", "PARENT_CYCLE"),
    "date_before_1753": ("quarantined", "DATE_OUT_OF_RANGE"),
    "date_after_9999_12_30": ("quarantined", "DATE_OUT_OF_RANGE"),
    "unicode_text": ("written", None),
    "control_characters": ("written_with_fallback", "CONTROL_CHARACTERS_REMOVED"),
    "html_in_note": ("written", None),
    "file_over_5mb": ("written", None),
    "zero_byte_file": ("written_with_fallback", "EMPTY_FILE"),
    "integer_out_of_range": ("quarantined", "INTEGER_OUT_OF_RANGE"),
    "decimal_out_of_range": ("quarantined", "DECIMAL_OUT_OF_RANGE"),
    "regarding_deleted_record": ("written_with_fallback", "REGARDING_FALLBACK"),
    "regarding_unmigrated_record": ("written_with_fallback", "REGARDING_FALLBACK"),
    "person_deleted_no_fallback": ("quarantined", "ORPHAN_RECORD"),
    "enrollment_in_deleted_sequence": ("written_with_fallback", "SEQUENCE_DELETED"),
    "icebreaker_too_long": ("written_with_fallback", "TEXT_TRUNCATED"),
    "converted_lead": ("skipped_by_policy", "CONVERTED_LEAD"),
}


class DefectLog:
    """Collects manifest rows in planting order (which is deterministic)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, sobject: str, record_id: str, defect: str, field: str, value: Any) -> None:
        """Record that ``record_id`` carries ``defect`` in ``field`` (value as stored).

        Raises:
            KeyError: ``defect`` is not a known class (see :data:`EXPECTATIONS`).
        """
        outcome, code = EXPECTATIONS[defect]
        self.rows.append(
            {
                "object": sobject,
                "id": record_id,
                "defect": defect,
                "field": field,
                "value": value,
                "expected": {"outcome": outcome, "reason_code": code},
            }
        )
