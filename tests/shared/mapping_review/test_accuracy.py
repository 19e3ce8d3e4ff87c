"""Accuracy on the labelled set of real field correspondences (issue 10's bar: ≥ 95% top-1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.mapping_review.accuracy import Outcome, read_labelled, score
from shared.mapping_review.metadata import read_source_dir, read_target_dir
from tests.shared.mapping_review.accuracy_report import DOC, build_report, measure
from tests.shared.mapping_review.conftest import LABELLED


@pytest.fixture(scope="module")
def outcomes() -> list[Outcome]:
    return measure(use_dictionary=True)


def test_labelled_set_covers_the_required_objects() -> None:
    pairs = {(lab.source_object, lab.target_table) for lab in read_labelled(LABELLED)}
    assert {("Contact", "contact"), ("Account", "account"), ("Lead", "lead")} <= pairs
    assert {"task", "phonecall", "email", "appointment"} <= {t for _, t in pairs}


def test_labels_name_real_fields_and_real_columns(vendor_dirs: tuple[Path, Path]) -> None:
    """A typo in a label would make the measurement lie; every label must exist."""
    src, tgt = vendor_dirs
    sources, targets = read_source_dir(src), read_target_dir(tgt)
    for lab in read_labelled(LABELLED):
        fields = {f.name for f in sources[lab.source_object].fields}
        columns = {c.logical_name for c in targets[lab.target_table].columns}
        assert set(lab.fields) <= fields, set(lab.fields) - fields
        wanted = {v for v in lab.fields.values() if v not in {"new", "skip"}}
        assert wanted <= columns, wanted - columns


def test_top1_on_standard_fields_is_at_least_95_percent(outcomes: list[Outcome]) -> None:
    standard = score([o for o in outcomes if not o.custom])
    assert standard.total >= 250
    assert standard.top1 >= 0.95, [o for o in outcomes if not o.custom and not o.correct]


def test_custom_fields_are_measured_too(outcomes: list[Outcome]) -> None:
    custom = score([o for o in outcomes if o.custom])
    assert custom.total >= 40
    assert custom.top1 >= 0.9
    assert custom.precision >= 0.95  # a wrong existing column is the costly mistake


def test_docs_mapping_accuracy_holds_the_measured_numbers() -> None:
    assert DOC.read_text(encoding="utf-8") == build_report(), (
        "docs/mapping-accuracy.md is stale: run "
        ".venv/bin/python -m tests.shared.mapping_review.accuracy_report"
    )
