"""Built-in metadata: the standard objects the product extracts, and the Leadfwd package exactly
as docs/leadfwd-schema.md documents it (the doc is what mapping authors read)."""

from __future__ import annotations

import re
from pathlib import Path

from emulators.salesforce.metadata import load_builtin_metadata, merge_schema, normalize_field

DOC = Path(__file__).resolve().parents[3] / "docs" / "leadfwd-schema.md"
STANDARD = {
    "Account": "001", "Contact": "003", "Lead": "00Q", "User": "005", "Task": "00T",
    "Event": "00U", "EmailMessage": "02s", "ContentVersion": "068", "ContentDocument": "069",
    "ContentDocumentLink": "06A", "Attachment": "00P", "Note": "002", "Opportunity": "006",
    "ActionCadence": "7Dc", "ActionCadenceStep": "7Dd",
}  # fmt: skip


def test_standard_objects_have_their_real_key_prefixes_and_a_cited_source() -> None:
    meta = load_builtin_metadata()
    for name, prefix in STANDARD.items():
        assert meta[name]["keyPrefix"] == prefix, name
        assert str(meta[name]["source"]).startswith("https://developer.salesforce.com/"), name


def test_every_field_has_the_describe_shape() -> None:
    required = {
        "name", "type", "label", "length", "nillable", "createable", "updateable", "custom",
        "referenceTo", "relationshipName", "picklistValues", "soapType",
    }  # fmt: skip
    for obj in load_builtin_metadata().values():
        names = [f["name"] for f in obj["fields"]]
        assert len(names) == len(set(names)), obj["name"]
        for field in obj["fields"]:
            assert required <= set(field), (obj["name"], field["name"])
            if field["type"] == "reference":
                assert field["referenceTo"] and field["relationshipName"], field["name"]


def _doc_fields() -> dict[str, set[str]]:
    """Object → field API names, read from the two tables of docs/leadfwd-schema.md."""
    out: dict[str, set[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or "leadfwd__" not in cells[1]:
            continue
        objects = re.findall(r"`?([A-Za-z_]+)`?", cells[0])
        fields = set(re.findall(r"`(leadfwd__[A-Za-z_]+__c|Name|OwnerId)`", cells[1]))
        for obj in objects:
            if obj in ("Object", "Fields"):
                continue
            out.setdefault(obj, set()).update(fields)
    return out


def test_leadfwd_package_matches_the_documented_schema() -> None:
    meta = load_builtin_metadata()
    documented = _doc_fields()
    assert {"leadfwd__Sequence__c", "leadfwd__Sequence_Enrollment__c", "Contact", "Task"} <= set(
        documented
    )
    for obj, fields in documented.items():
        have = {f["name"] for f in meta[obj]["fields"]}
        assert fields <= have, (obj, sorted(fields - have))
        if obj.startswith("leadfwd__"):
            custom = {f for f in have if f.startswith("leadfwd__")}
            assert custom == {f for f in fields if f.startswith("leadfwd__")}, obj


def test_documented_picklist_values_are_the_metadata_values() -> None:
    enrollment = {
        f["name"]: f for f in load_builtin_metadata()["leadfwd__Sequence_Enrollment__c"]["fields"]
    }
    values = [p["value"] for p in enrollment["leadfwd__Status__c"]["picklistValues"]]
    assert values == ["Active", "Paused", "Completed", "Ended Early", "Replied", "Bounced",
                      "Unsubscribed", "Opted Out"]  # fmt: skip
    assert enrollment["leadfwd__Sequence__c"]["referenceTo"] == ["leadfwd__Sequence__c"]
    assert enrollment["leadfwd__Sequence__c"]["relationshipName"] == "leadfwd__Sequence__r"


def test_normalize_field_fills_describe_defaults() -> None:
    f = normalize_field({"name": "Region__c", "type": "picklist", "label": "Region",
                         "picklistValues": [{"value": "EMEA"}]})  # fmt: skip
    assert f["custom"] is True and f["length"] == 255 and f["nillable"] is True
    assert f["picklistValues"] == [
        {"active": True, "defaultValue": False, "label": "EMEA", "validFor": None, "value": "EMEA"}
    ]


def test_merge_schema_adds_fields_and_objects_without_touching_the_input() -> None:
    base = load_builtin_metadata()
    merged = merge_schema(base, [
        {"name": "Account", "fields": [{"name": "Tier__c", "type": "string", "label": "Tier"}]},
        {"name": "Project__c", "keyPrefix": "a07", "fields": [{"name": "Id", "type": "id"}]},
    ])  # fmt: skip
    assert "Tier__c" in {f["name"] for f in merged["Account"]["fields"]}
    assert "Tier__c" not in {f["name"] for f in base["Account"]["fields"]}
    assert merged["Project__c"]["custom"] is True
    children = {c["childSObject"] for c in merged["Account"]["childRelationships"]}
    assert {"Contact", "Opportunity"} <= children


def test_child_relationships_carry_salesforce_default_names() -> None:
    meta = load_builtin_metadata()
    account = {(c["childSObject"], c["field"]): c["relationshipName"]
               for c in meta["Account"]["childRelationships"]}  # fmt: skip
    assert account[("Contact", "AccountId")] == "Contacts"
    assert account[("Account", "ParentId")] == "ChildAccounts"
    assert account[("Opportunity", "AccountId")] == "Opportunities"
    sequence = {c["childSObject"]: c["relationshipName"]
                for c in meta["leadfwd__Sequence__c"]["childRelationships"]}  # fmt: skip
    assert sequence["leadfwd__Sequence_Step__c"] == "leadfwd__Sequence_Steps__r"
