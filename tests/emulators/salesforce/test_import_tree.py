"""import-tree: real sf data-tree exports become org directories the emulator serves."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from emulators.salesforce.generate.reader import iter_records, load_records, read_json
from emulators.salesforce.import_tree import import_tree_export, infer_field
from emulators.salesforce.testing import run_salesforce
from shared.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]
REAL = REPO.parent / "shared" / "data" / "real-orgs"
LWC = REAL / "lwc-recipes"
EBIKES = REAL / "ebikes"
CADENCE_FILES = [
    "ActionCadenceStep.json",
    "ActionCadenceRule.json",
    "ActionCadenceRuleCondition.json",
]


def _file_records(path: Path) -> list[dict[str, Any]]:
    records = json.loads(path.read_text(encoding="utf-8"))["records"]
    return records if isinstance(records, list) else [records]


@pytest.fixture(scope="module")
def lwc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lwc") / "org"
    import_tree_export(out, plans=[LWC / "data-plan.json"], files=[])
    return out


@pytest.fixture(scope="module")
def ebikes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ebikes") / "org"
    plans = sorted(EBIKES.glob("*plan*.json"))
    import_tree_export(out, plans=plans, files=[EBIKES / f for f in CADENCE_FILES])
    return out


def test_every_record_of_the_lwc_export_is_imported(lwc: Path) -> None:
    for obj, name in (
        ("Account", "Accounts"),
        ("Contact", "Contacts"),
        ("Opportunity", "Opportunities"),
    ):
        assert len(list(iter_records(lwc, obj))) == len(_file_records(LWC / f"{name}.json")), obj


def test_references_resolve_to_the_right_parent(lwc: Path) -> None:
    names = {
        r["attributes"]["referenceId"]: r["Name"] for r in _file_records(LWC / "Accounts.json")
    }
    accounts = {a["Id"]: a["Name"] for a in iter_records(lwc, "Account")}
    exported = _file_records(LWC / "Contacts.json")
    imported = list(iter_records(lwc, "Contact"))
    for source, row in zip(exported, imported, strict=True):
        assert row["LastName"] == source["LastName"]
        assert accounts[row["AccountId"]] == names[source["AccountId"][1:]]


def test_unknown_custom_field_is_added_to_the_schema_with_an_inferred_type(lwc: Path) -> None:
    schema = read_json(lwc, "schema/Contact.json")
    assert [(f["name"], f["type"]) for f in schema["fields"]] == [("Picture__c", "url")]


def test_every_ebikes_file_imports_including_the_single_object_cadence(ebikes: Path) -> None:
    expected = {
        "ActionCadence": 1, "ActionCadenceStep": 13, "ActionCadenceRule": 3,
        "ActionCadenceRuleCondition": 3, "EmailTemplate": 3, "Account": 3,
        "Product_Family__c": 4, "Product__c": 16,
    }  # fmt: skip
    counts = {obj: len(rows) for obj, rows in load_records(ebikes).items() if obj != "User"}
    assert counts == expected


def test_cadence_steps_point_at_their_cadence_and_forward_root_step(ebikes: Path) -> None:
    data = load_records(ebikes)
    (cadence,) = data["ActionCadence"].values()
    assert cadence["Name"] == "Dealership Sales"
    assert cadence["ActivatedDate"] == "2021-07-22T00:00:00.000+0000"
    steps = list(data["ActionCadenceStep"].values())
    root = steps[12]  # ActionCadenceStepRef13, defined after the steps that point at it
    assert all(s["ActionCadenceId"] == cadence["Id"] for s in steps)
    assert root["Type"] == "Root" and "RootStepId" not in root
    assert all(s["RootStepId"] == root["Id"] for s in steps[:12])
    rules = list(data["ActionCadenceRule"].values())
    assert rules[0]["ActionCadenceStepID"] == steps[3]["Id"]
    conditions = list(data["ActionCadenceRuleCondition"].values())
    assert [c["ActionCadenceRuleId"] for c in conditions] == [r["Id"] for r in rules]


def test_custom_objects_get_a_schema_with_their_own_key_prefix(ebikes: Path) -> None:
    schema = read_json(ebikes, "schema/Product__c.json")
    fields = {f["name"]: f for f in schema["fields"]}
    assert fields["Product_Family__c"]["type"] == "reference"
    assert fields["Product_Family__c"]["referenceTo"] == ["Product_Family__c"]
    assert fields["MSRP__c"]["type"] == "double"
    assert all(r["Id"].startswith(schema["keyPrefix"]) for r in iter_records(ebikes, "Product__c"))


def test_a_plan_naming_another_object_than_its_records_is_reported(tmp_path: Path) -> None:
    summary = import_tree_export(
        tmp_path / "org", plans=[EBIKES / "sample-data-plan.json"], files=[]
    )
    assert any("Account__c" in w and "imported as Account" in w for w in summary.warnings)


def test_same_input_gives_the_same_bytes(lwc: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    import_tree_export(again, plans=[LWC / "data-plan.json"], files=[])
    for path in lwc.rglob("*"):
        if path.is_file() and path.name != "org.sqlite":
            assert (again / path.relative_to(lwc)).read_bytes() == path.read_bytes(), path


def test_nested_child_records_are_linked_to_their_parent(tmp_path: Path) -> None:
    tree = {"records": [{
        "attributes": {"type": "Account", "referenceId": "AccountRef1"}, "Name": "Acme",
        "Contacts": {"records": [
            {"attributes": {"type": "Contact", "referenceId": "ContactRef1"}, "LastName": "Ng"},
        ]},
    }]}  # fmt: skip
    source = tmp_path / "Account-Contact.json"
    source.write_text(json.dumps(tree), encoding="utf-8")
    import_tree_export(tmp_path / "org", plans=[], files=[source])
    (account,) = iter_records(tmp_path / "org", "Account")
    (contact,) = iter_records(tmp_path / "org", "Contact")
    assert contact["AccountId"] == account["Id"]


def test_an_unresolved_reference_names_file_record_field_and_value(tmp_path: Path) -> None:
    source = tmp_path / "Contacts.json"
    source.write_text(json.dumps({"records": [
        {"attributes": {"type": "Contact", "referenceId": "C1"}, "LastName": "Ng",
         "AccountId": "@AccountRef9"},
    ]}), encoding="utf-8")  # fmt: skip
    with pytest.raises(ConfigError) as refused:
        import_tree_export(tmp_path / "org", plans=[], files=[source])
    message = str(refused.value)
    assert "Contacts.json record 1 (C1)" in message and "AccountId" in message
    assert "@AccountRef9" in message
    assert not (tmp_path / "org").exists()


@pytest.mark.parametrize(
    ("values", "refs", "expected"),
    [
        ([True, False, None], set(), {"type": "boolean"}),
        ([2500, 2600], set(), {"type": "double", "scale": 0}),
        ([1.5, 2.25], set(), {"type": "double", "scale": 2}),
        (["2021-07-22"], set(), {"type": "date"}),
        (["2021-07-22T10:00:00.000+0000"], set(), {"type": "datetime"}),
        (["amy@demo.net"], set(), {"type": "email"}),
        (["https://example.com/a.jpg"], set(), {"type": "url"}),
        (["x" * 300], set(), {"type": "textarea", "length": 32768}),
        (["Mountain", None], set(), {"type": "string", "length": 255}),
        ([None], set(), {"type": "string"}),
        (["a0X8d0000000001AAA"], {"Product_Family__c"}, {"type": "reference",
         "referenceTo": ["Product_Family__c"], "relationshipName": "Family__r"}),
    ],
)  # fmt: skip
def test_field_types_are_inferred_from_values(
    values: list[Any], refs: set[str], expected: dict[str, Any]
) -> None:
    spec = infer_field("Family__c", values, refs)
    assert {k: spec[k] for k in expected} == expected
    assert spec["custom"] is True


def test_the_emulator_serves_an_imported_export(lwc: Path) -> None:
    with run_salesforce(lwc) as endpoint:
        sf = endpoint.client()
        rows = sf.query_all(
            "SELECT LastName, Picture__c, Account.Name FROM Contact ORDER BY LastName"
        )
        by_name = {r["LastName"]: r for r in rows["records"]}
        assert by_name["Taylor"]["Account"]["Name"] == "Alpha Dynamics"
        assert by_name["Taylor"]["Picture__c"].endswith("amy_taylor.jpg")
        assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 20


def test_the_emulator_serves_the_ebikes_cadence(ebikes: Path) -> None:
    with run_salesforce(ebikes) as endpoint:
        sf = endpoint.client()
        steps = sf.query_all("SELECT Id, StepTitle, ActionCadence.Name FROM ActionCadenceStep")
        assert steps["totalSize"] == 13
        assert {s["ActionCadence"]["Name"] for s in steps["records"]} == {"Dealership Sales"}
        products = sf.query(
            "SELECT Name, Product_Family__r.Name FROM Product__c WHERE Name = 'FUSE X1'"
        )
        assert products["records"][0]["Product_Family__r"]["Name"] == "Fuse"


def _migrate(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATION__")}
    return subprocess.run(
        [str(REPO / "migrate"), *args],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


def test_import_tree_command_prints_counts_and_fails_with_exit_2_on_bad_input(
    tmp_path: Path,
) -> None:
    done = _migrate(
        "import-tree", "--plan", str(LWC / "data-plan.json"), "--out", str(tmp_path / "a")
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["counts"]["Contact"] == 6
    missing = _migrate(
        "import-tree", "--plan", str(tmp_path / "nope.json"), "--out", str(tmp_path / "b")
    )
    assert missing.returncode == 2
    assert "nope.json: file not found" in " ".join(missing.stderr.split())


def test_an_exported_id_is_replaced_and_reported(tmp_path: Path) -> None:
    source = tmp_path / "Accounts.json"
    source.write_text(json.dumps({"records": [
        {"attributes": {"type": "Account", "referenceId": "A1"}, "Id": "001000000000042",
         "Name": "X"},
    ]}), encoding="utf-8")  # fmt: skip
    summary = import_tree_export(tmp_path / "org", plans=[], files=[source])
    (account,) = iter_records(tmp_path / "org", "Account")
    assert account["Id"] != "001000000000042" and account["Id"].startswith("001")
    assert any("001000000000042" in w and account["Id"] in w for w in summary.warnings)


@pytest.mark.parametrize(
    "plan", sorted(REAL.glob("*/*plan*.json")), ids=lambda p: p.parent.name + "/" + p.name
)
def test_every_real_plan_imports_on_its_own(plan: Path, tmp_path: Path) -> None:
    summary = import_tree_export(tmp_path / "org", plans=[plan], files=[])
    named = json.loads(plan.read_text(encoding="utf-8"))
    expected = sum(len(_file_records(plan.parent / f)) for entry in named for f in entry["files"])
    assert sum(summary.counts.values()) == expected > 0
