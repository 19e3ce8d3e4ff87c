"""Every planted defect of a generated org ends in exactly its expected outcome.

The generator (``./migrate generate-org``) plants real-world defects and writes the outcome a
correct migration must produce into ``defects.json``. The org is served by the Salesforce
emulator and extracted by the real extraction, driven by the default map's extraction plan
(plus the org's custom fields, as discovery proposes them; deals out of scope, as the generator
assumes); the staged records then go through the pre-passes, the transform and the validation
against the Dataverse emulator's metadata. One test per defect class.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from shared.rows import Rejection, TargetRow
from tests.shared.mapping.defects_run import OrgRun, codes, outcome_of, run_org

# Defect classes the generator plants wrongly (each entry must come with its reason); the
# test then fails strictly the day the generator is fixed, so this list cannot go stale.
GENERATOR_BUGS: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def org_run(tmp_path_factory: pytest.TempPathFactory) -> OrgRun:
    return run_org(tmp_path_factory.mktemp("org") / "acme", scale=200, seed=1)


def _classes() -> list[Any]:
    """The defect classes the generator plants (read from a tiny generated org)."""
    import tempfile

    from emulators.salesforce.generate import generate_org

    with tempfile.TemporaryDirectory() as tmp:
        generate_org(Path(tmp) / "o", scale=200, seed=1, force=True)
        defects = json.loads((Path(tmp) / "o" / "defects.json").read_text(encoding="utf-8"))
    out = []
    for key in sorted({(d["object"], d["defect"]) for d in defects}):
        marks = []
        if key in GENERATOR_BUGS:
            marks.append(pytest.mark.xfail(reason=GENERATOR_BUGS[key], strict=True))
        out.append(pytest.param(*key, id=f"{key[0]}-{key[1]}", marks=marks))
    return out


@pytest.mark.parametrize(("sobject", "defect"), _classes())
def test_defect_class_ends_in_its_expected_outcome(
    org_run: OrgRun, sobject: str, defect: str
) -> None:
    cases = [d for d in org_run.defects if d["object"] == sobject and d["defect"] == defect]
    assert cases
    for case in cases:
        results = outcome_of(org_run, case)
        assert results, f"{sobject} {case['id']} produced no result"
        expected = case["expected"]
        for result in results:
            outcome, reasons = codes(result)
            assert outcome == expected["outcome"], (case, result)
            if expected["reason_code"]:
                assert expected["reason_code"] in reasons, (case, result)
            else:
                assert not reasons, (case, result)
            if isinstance(result, Rejection):
                assert result.message and result.hint, "a rejection says what and what to do"
                assert result.source_id == case["id"] or sobject == "ContentVersion"


def test_unicode_is_written_byte_identical(org_run: OrgRun) -> None:
    targets = {"Name": "name", "FirstName": "firstname", "LastName": "lastname"}
    for case in (d for d in org_run.defects if d["defect"] == "unicode_text"):
        (row,) = outcome_of(org_run, case)
        assert isinstance(row, TargetRow)
        assert row.payload[targets[case["field"]]].encode() == case["value"].encode()


def test_html_note_is_written_unchanged(org_run: OrgRun) -> None:
    (case,) = [d for d in org_run.defects if d["defect"] == "html_in_note"]
    (row,) = outcome_of(org_run, case)
    assert isinstance(row, TargetRow) and row.payload["notetext"] == case["value"]


def test_file_over_5mb_is_handed_to_the_loader_as_a_file_ref(org_run: OrgRun) -> None:
    (case,) = [d for d in org_run.defects if d["defect"] == "file_over_5mb"]
    (row,) = outcome_of(org_run, case)
    assert isinstance(row, TargetRow) and row.file is not None
    assert row.file.size == case["value"] and row.file.stage_key.endswith(case["id"])


def test_icebreaker_truncated_to_4000_and_full_text_reported(org_run: OrgRun) -> None:
    (case,) = [d for d in org_run.defects if d["defect"] == "icebreaker_too_long"]
    (row,) = outcome_of(org_run, case)
    assert isinstance(row, TargetRow)
    assert row.payload["lfwd_icebreakertext"] == case["value"][:4000]
    (entry,) = [e for e in row.entries if e.reason_code == "TEXT_TRUNCATED"]
    assert entry.value == case["value"]


def test_clean_records_are_written_without_entries(org_run: OrgRun) -> None:
    planted = {(d["object"], d["id"]) for d in org_run.defects}
    versions = {d["id"] for d in org_run.defects if d["object"] == "ContentVersion"}
    planted |= {
        ("ContentDocumentLink", rec["Id"])
        for rec in org_run.staged["ContentDocumentLink"]
        if rec["ContentDocument.LatestPublishedVersionId"] in versions
    }
    superseded = {("Task", rec["ActivityId"]) for rec in org_run.staged["EmailMessage"]}
    surprises = Counter(
        (key[0], codes(res)[0], tuple(sorted(codes(res)[1])))
        for key, res in org_run.results.items()
        if key not in planted
        and codes(res)
        != (("skipped_by_policy", {"SUPERSEDED"}) if key in superseded else ("written", set()))
    )
    assert not surprises, surprises


def test_email_logged_as_task_and_email_message_lands_once(org_run: OrgRun) -> None:
    messages = org_run.staged["EmailMessage"]
    assert messages
    for msg in messages:
        task = org_run.results[("Task", msg["ActivityId"])]
        assert isinstance(task, Rejection) and task.reason_code == "SUPERSEDED"
        assert task.outcome == "skipped_by_policy"
        email = org_run.results[("EmailMessage", msg["Id"])]
        assert isinstance(email, TargetRow) and email.table == "email"


def test_counts_add_up_per_object(org_run: OrgRun) -> None:
    for sobject, records in org_run.staged.items():
        got = [r for (obj, _), r in org_run.results.items() if obj == sobject]
        if got:
            assert len(got) == len(records)
