"""generate-org: determinism, ratios, schema coverage, files, integrity and the command line."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from emulators.salesforce.generate import generate_org
from emulators.salesforce.generate.leadfwd import ACTION_TYPES, CHANNELS, DELAY_RULES
from emulators.salesforce.generate.reader import iter_records, load_records, read_defects, read_json
from emulators.salesforce.generate.schema import ALL_CUSTOM_TYPES
from emulators.salesforce.generate.sfids import make_id
from emulators.salesforce.generate.values import sf_datetime
from emulators.salesforce.metadata import load_builtin_metadata, merge_schema
from shared.ids import to_18

REPO = Path(__file__).resolve().parents[3]
SCALE = 200
SEED = 7


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("org") / "acme"
    generate_org(out, scale=SCALE, seed=SEED)
    return out


@pytest.fixture(scope="module")
def records(org: Path) -> dict[str, dict[str, dict[str, Any]]]:
    return load_records(org)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _live(rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows.values() if not r.get("IsDeleted")]


def test_same_scale_and_seed_give_byte_identical_orgs(org: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_org(again, scale=SCALE, seed=SEED)
    first, second = _tree(org), _tree(again)
    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == []


def test_another_seed_gives_another_org(org: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate_org(other, scale=SCALE, seed=SEED + 1)
    assert (other / "data/Contact.jsonl").read_bytes() != (org / "data/Contact.jsonl").read_bytes()


def test_scale_is_the_number_of_live_contacts_and_other_objects_follow(
    records: dict[str, dict[str, dict[str, Any]]],
) -> None:
    live = {obj: len(_live(rows)) for obj, rows in records.items()}
    assert live["Contact"] == SCALE
    assert SCALE / 8 <= live["Account"] <= SCALE / 8 + 20
    assert SCALE / 2 <= live["Lead"] <= SCALE / 2 + 10
    users = list(records["User"].values())
    assert len(users) >= 5 + 1
    assert any(not u["IsActive"] for u in users)
    assert live["leadfwd__Sequence__c"] == 10 + SCALE // 500
    people = live["Contact"] + live["Lead"]
    assert 0.6 * people < live["leadfwd__Sequence_Enrollment__c"] < 1.2 * people
    assert live["leadfwd__Engagement_Event__c"] > 2 * live["leadfwd__Sequence_Enrollment__c"]
    assert 1.0 * SCALE < live["Task"] < 2.0 * SCALE
    for obj in ("Event", "EmailMessage", "Note", "Attachment", "ContentVersion", "Opportunity"):
        assert live[obj] > 0, obj
    assert any(r.get("ParentId") for r in records["Account"].values())
    converted = [r for r in records["Lead"].values() if r["IsConverted"]]
    assert 0 < len(converted) < 0.15 * live["Lead"]


def test_leadfwd_records_cover_every_channel_action_rule_and_event_type(
    records: dict[str, dict[str, dict[str, Any]]],
) -> None:
    steps = records["leadfwd__Sequence_Step__c"].values()
    assert {s["leadfwd__Channel__c"] for s in steps} == set(CHANNELS)
    all_actions = {a for actions in ACTION_TYPES.values() for a in actions}
    assert {s["leadfwd__Action_Type__c"] for s in steps} == all_actions
    assert {s["leadfwd__Delay_Rule__c"] for s in steps} == set(DELAY_RULES)
    events = records["leadfwd__Engagement_Event__c"].values()
    types = {e["leadfwd__Event_Type__c"] for e in events}
    assert types == {
        "Sent", "Delivered", "Opened", "Clicked", "Replied", "Bounced", "Unsubscribed",
        "LinkedIn Invite Sent", "LinkedIn Message Sent", "Call", "SMS", "Voicemail Drop",
    }  # fmt: skip
    calls = [e for e in events if e["leadfwd__Event_Type__c"] == "Call"]
    assert all(isinstance(e["leadfwd__Call_Duration_Seconds__c"], int) for e in calls)
    enrollments = records["leadfwd__Sequence_Enrollment__c"]
    for event in events:
        enrollment = enrollments.get(event.get("leadfwd__Enrollment__c", ""))
        if enrollment is not None:
            person = enrollment.get("leadfwd__Contact__c") or enrollment.get("leadfwd__Lead__c")
            assert person in (event.get("leadfwd__Contact__c"), event.get("leadfwd__Lead__c"))


def test_activities_have_calls_emails_meetings_archived_and_open_ones(
    records: dict[str, dict[str, dict[str, Any]]],
) -> None:
    tasks = list(records["Task"].values())
    assert {t["TaskSubtype"] for t in tasks} == {"Call", "Email", "Task"}
    calls = [t for t in tasks if t["TaskSubtype"] == "Call" and t["Status"] == "Completed"]
    assert calls and all(t["CallDurationInSeconds"] > 0 and t["CallType"] for t in calls)
    assert any(t["IsArchived"] for t in tasks) and any(not t["IsArchived"] for t in tasks)
    assert {t["Status"] for t in tasks} >= {"Completed", "Not Started"}
    messages = records["EmailMessage"].values()
    assert all(records["Task"][m["ActivityId"]]["TaskSubtype"] == "Email" for m in messages)
    meetings = records["Event"].values()
    assert all(m["EndDateTime"] > m["StartDateTime"] for m in meetings)


def test_schema_declares_a_custom_field_of_every_salesforce_type(org: Path) -> None:
    for obj in ("Contact", "Account"):
        schema = read_json(org, f"schema/{obj}.json")
        assert {f["type"] for f in schema["fields"]} >= ALL_CUSTOM_TYPES, obj


def test_every_field_in_the_data_exists_in_the_metadata(org: Path) -> None:
    extra = [read_json(org, f"schema/{p.name}") for p in (org / "schema").glob("*.json")]
    metadata = merge_schema(load_builtin_metadata(), extra)
    for path in (org / "data").glob("*.jsonl"):
        names = {f["name"] for f in metadata[path.stem]["fields"]}
        unknown = {k for r in iter_records(org, path.stem) for k in r} - names
        assert unknown == set(), path.stem


def test_fls_hidden_fields_are_declared_and_hold_values(org: Path) -> None:
    hidden = read_json(org, "org.json")["hidden_fields"]
    assert hidden
    for obj, fields in hidden.items():
        declared = {f["name"] for f in read_json(org, f"schema/{obj}.json")["fields"]}
        assert set(fields) <= declared
        first = next(iter_records(org, obj))
        assert all(first.get(f) is not None for f in fields)


def test_file_bodies_match_their_size_and_checksum(org: Path) -> None:
    versions = list(iter_records(org, "ContentVersion"))
    assert len({v["FileExtension"] for v in versions}) >= 5
    for version in versions:
        body = (org / "files" / version["Id"]).read_bytes()
        assert len(body) == version["ContentSize"]
        assert hashlib.md5(body, usedforsecurity=False).hexdigest() == version["Checksum"]
    for attachment in iter_records(org, "Attachment"):
        assert (org / "files" / attachment["Id"]).stat().st_size == attachment["BodyLength"]


def test_dataverse_users_exist_for_every_mapped_owner(
    org: Path, records: dict[str, dict[str, dict[str, Any]]]
) -> None:
    dynamics = {u["internalemailaddress"]: u for u in read_json(org, "dataverse-users.json")}
    flagged = {(r["id"], r["field"]) for r in read_defects(org)}
    users = records["User"]
    for obj in ("Account", "Contact", "Lead", "Task", "Event"):
        for record in _live(records[obj]):
            if (record["Id"], "OwnerId") in flagged:
                continue
            user = users[record["OwnerId"]]
            assert user["IsActive"], (obj, record["Id"])
            assert not dynamics[user["Email"]]["isdisabled"]
    for user in users.values():
        if not user["IsActive"]:
            assert dynamics[user["Email"]]["isdisabled"] is True


def test_references_point_at_live_records_unless_planted(
    org: Path, records: dict[str, dict[str, dict[str, Any]]]
) -> None:
    extra = [read_json(org, f"schema/{p.name}") for p in (org / "schema").glob("*.json")]
    metadata = merge_schema(load_builtin_metadata(), extra)
    live_ids = {i for rows in records.values() for i, r in rows.items() if not r.get("IsDeleted")}
    flagged = {(r["id"], r["field"]) for r in read_defects(org)}
    broken = []
    for obj, rows in records.items():
        refs = [f["name"] for f in metadata[obj]["fields"] if f["type"] == "reference"]
        for record in _live(rows):
            for name in refs:
                target = record.get(name)
                if target and target not in live_ids and (record["Id"], name) not in flagged:
                    broken.append((obj, record["Id"], name, target))
    assert broken == []


def _migrate(*args: str) -> subprocess.CompletedProcess[str]:
    """``./migrate`` as a user runs it: a real process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION__")}
    return subprocess.run(
        [str(REPO / "migrate"), *args],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


def test_generate_org_command_prints_a_summary_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "cli-org"
    done = _migrate("generate-org", "--out", str(out), "--scale", "60", "--seed", "3")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    contacts = Counter(not r.get("IsDeleted") for r in iter_records(out, "Contact"))
    assert summary["counts"]["Contact"] == sum(contacts.values())
    assert contacts[True] == 60
    again = _migrate("generate-org", "--out", str(out), "--scale", "60")
    assert again.returncode == 2
    assert "pass --force to replace it" in " ".join(again.stderr.split())
    tiny = _migrate("generate-org", "--out", str(tmp_path / "tiny"), "--scale", "10")
    assert tiny.returncode == 2
    assert "the minimum is 50 contacts" in " ".join(tiny.stderr.split())


@pytest.mark.parametrize("prefix", ["001", "003", "a0B", "7Dc", "00X"])
@pytest.mark.parametrize("counter", [1, 61, 62, 3843, 62**5 + 7, 62**8, 62**9 - 1])
def test_generated_ids_carry_the_real_case_safe_suffix(prefix: str, counter: int) -> None:
    made = make_id(prefix, counter)
    assert len(made) == 18 and made.startswith(prefix)
    assert to_18(made[:15]) == made


def test_datetimes_use_salesforce_rest_form() -> None:
    moment = dt.datetime(2024, 5, 1, 14, 3, 9, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert sf_datetime(moment) == "2024-05-01T12:03:09.000+0000"
    assert sf_datetime(moment.astimezone(dt.UTC)) == "2024-05-01T12:03:09.000+0000"


def test_clean_picklist_values_are_among_the_fields_declared_values(
    org: Path, records: dict[str, dict[str, dict[str, Any]]]
) -> None:
    extra = [read_json(org, f"schema/{p.name}") for p in (org / "schema").glob("*.json")]
    metadata = merge_schema(load_builtin_metadata(), extra)
    planted = {(r["id"], r["field"]) for r in read_defects(org)}
    unknown: set[tuple[str, str, str]] = set()
    for obj, rows in records.items():
        picklists = {
            f["name"]: {p["value"] for p in f["picklistValues"]}
            for f in metadata[obj]["fields"]
            if f["type"] in ("picklist", "multipicklist") and f.get("picklistValues")
        }
        for record in rows.values():
            for name, allowed in picklists.items():
                value = record.get(name)
                if value is None or (record["Id"], name) in planted:
                    continue
                unknown |= {(obj, name, v) for v in str(value).split(";") if v not in allowed}
    assert unknown == set()
