"""The run's own pieces: the summary a person reads first, the stored context, the plan."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

from shared.mapping.context import DynamicsUser, Flag, ResolutionContext
from shared.mapping.plan import ObjectExtraction
from shared.run import context_store
from shared.run.plan import extraction_levels
from shared.run.summary import quarantine_csv, render_summary, write_quarantine


def test_summary_lines_say_what_was_not_written_and_why() -> None:
    params = {
        "run_id": "r1",
        "status": "completed",
        "phases": [
            {
                "phase": 1,
                "reconciliation": {"reconciled": True, "unexplained": 0},
                "objects": [
                    {
                        "entry": "lead",
                        "counts": {
                            "extracted": 105,
                            "written": 93,
                            "written_with_fallback": 3,
                            "quarantined": 2,
                            "skipped_by_policy": 7,
                        },
                    },
                ],
            }
        ],
    }
    rejected = [{"source_object": "Lead", "source_id": "00Q1", "reason_code": "INVALID_EMAIL"}]
    json_out, csv_out = io.StringIO(), io.StringIO()
    by_code = write_quarantine(rejected, json_out, csv_out)
    assert json.loads(json_out.getvalue()) == rejected
    empty = io.StringIO()
    assert write_quarantine([], empty, io.StringIO()) == {} and json.loads(empty.getvalue()) == []
    summary, markdown, lines = render_summary(params, by_code)
    assert lines == ["phase 1: reconciled (0 unexplained) — lead 96/105 (2 quarantined, 7 skipped)"]
    assert summary["not_written_by_reason"] == {"INVALID_EMAIL": 1}
    assert "| 1 | lead | 105 | 93 | 3 | 2 | 7 |" in markdown


def test_quarantine_csv_keeps_every_record_and_cuts_huge_values() -> None:
    rows = [
        {
            "source_object": "Contact",
            "source_id": "003A",
            "reason_code": "TEXT_TOO_LONG",
            "field": "Title",
            "value": "x" * 2000,
            "message": "too long",
            "hint": "widen",
            "outcome": "quarantined",
        },
        {
            "source_object": "Contact",
            "source_id": "003B",
            "reason_code": "INVALID_EMAIL",
            "field": "Email",
            "value": "bob@",
            "message": "not an address",
            "hint": "fix it",
        },
    ]
    parsed = list(csv.DictReader(io.StringIO(quarantine_csv(rows))))
    assert [r["source_id"] for r in parsed] == ["003A", "003B"]
    assert len(parsed[0]["value"]) == 500 and parsed[1]["value"] == "bob@"


def test_resolution_context_survives_the_stage_round_trip() -> None:
    ctx = ResolutionContext(
        namespace=uuid.uuid4(),
        run_id="r1",
        migrated={"Account": frozenset({"001A"})},
        present={"Account": frozenset({"001A", "001B"})},
        users={"ana@x.com": DynamicsUser("u1", "ana@x.com")},
        fallback_owner=DynamicsUser("u2", "fallback@x.com", disabled=False),
        flags={("Contact", "003A"): (Flag("DUPLICATE_EMAIL", "dup", "Email", "a@b.c"),)},
        cut_links=frozenset({("Account", "001A", "ParentId")}),
        addresses={"a@b.c": ("contacts", "id-1")},
    )
    assert context_store.decode(context_store.encode(ctx)) == ctx


def test_extraction_levels_put_parents_before_children() -> None:
    plans = [
        ObjectExtraction("Task", ["Id"], depends_on=["Contact", "Account"]),
        ObjectExtraction("Contact", ["Id"], depends_on=["Account", "User"]),
        ObjectExtraction("Account", ["Id"], depends_on=["Account", "User"]),
        ObjectExtraction("User", ["Id"]),
    ]
    assert extraction_levels(plans) == [["User"], ["Account"], ["Contact"], ["Task"]]


def test_a_report_file_reaches_the_stage_and_the_local_folder_unchanged(tmp_path: Path) -> None:
    from shared.run.runtime import Runtime
    from shared.settings import load_settings
    from shared.stage.local import LocalStage

    settings = load_settings(overrides={"run": {"workdir": str(tmp_path / "work")}})
    runtime = Runtime(settings=settings, stage=LocalStage(tmp_path / "stage"), local_reports=True)
    big = tmp_path / "enrollments.csv"
    big.write_bytes(b"id,sequence\n" + b"".join(b"a%07d,s\n" % i for i in range(200_000)))
    where = runtime.write_report_file("r1", "enrollments.csv", big)
    assert runtime.stage.get_bytes("r1/reports/enrollments.csv") == big.read_bytes()
    assert Path(where).read_bytes() == big.read_bytes()
