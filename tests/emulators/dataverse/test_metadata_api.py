from __future__ import annotations

import time

import httpx

from emulators.dataverse.metadata import load_standard_tables


def test_standard_metadata_is_real() -> None:
    tables = load_standard_tables()
    lead = tables["lead"]
    assert sorted(lead.columns["leadsourcecode"].options) == list(range(1, 11))
    assert sorted(tables["account"].columns["industrycode"].options) == list(range(1, 34))
    assert tables["contact"].columns["emailaddress1"].max_length == 100
    assert tables["task"].columns["statecode"].valid_create is False
    assert "parentcustomerid_account" in tables["contact"].navigation()
    assert "regardingobjectid_contact_task" in tables["task"].navigation()
    assert "objectid_contact" in tables["annotation"].navigation()
    assert "partyid_systemuser" in tables["activityparty"].navigation()


def test_entity_definitions_read(api: httpx.Client) -> None:
    body = api.get(
        "EntityDefinitions",
        params={
            "$filter": "LogicalName eq 'contact'",
            "$select": "LogicalName,EntitySetName,PrimaryIdAttribute",
        },
    ).json()
    assert (
        body["value"][0]["EntitySetName"] == "contacts"
        and body["value"][0]["PrimaryIdAttribute"] == "contactid"
    )
    attr = api.get(
        "EntityDefinitions(LogicalName='lead')/Attributes(LogicalName='leadsourcecode')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={"$select": "LogicalName", "$expand": "OptionSet"},
    ).json()
    assert [o["Value"] for o in attr["OptionSet"]["Options"]] == list(range(1, 11))
    one = api.get(
        "EntityDefinitions(LogicalName='contact')",
        params={"$expand": "Attributes($select=LogicalName,MaxLength)"},
    ).json()
    by_name = {a["LogicalName"]: a for a in one["Attributes"]}
    assert by_name["lastname"]["MaxLength"] == 50
    assert api.get("EntityDefinitions(LogicalName='nosuch')").status_code == 404


def test_custom_column_and_alternate_key_address_and_bind(api: httpx.Client) -> None:
    col = {
        "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
        "SchemaName": "lfwd_SfContactId",
        "MaxLength": 18,
        "RequiredLevel": {"Value": "None"},
        "DisplayName": {"LocalizedLabels": [{"Label": "SF Id", "LanguageCode": 1033}]},
    }
    r = api.post(
        "EntityDefinitions(LogicalName='contact')/Attributes",
        json=col,
        headers={"MSCRM.SolutionUniqueName": "lfwd"},
    )
    assert r.status_code == 204, r.text
    assert (
        api.post("EntityDefinitions(LogicalName='contact')/Attributes", json=col).status_code == 400
    )
    attrs = api.get(
        "EntityDefinitions(LogicalName='contact')/Attributes",
        params={"$filter": "IsCustomAttribute eq true", "$select": "LogicalName"},
    ).json()
    assert [a["LogicalName"] for a in attrs["value"]] == ["lfwd_sfcontactid"]
    assert (
        api.post(
            "contacts", json={"lastname": "K", "lfwd_sfcontactid": "003000000000001AAA"}
        ).status_code
        == 204
    )
    assert (
        api.post("contacts", json={"lastname": "K", "lfwd_sfcontactid": "x" * 19}).json()["error"][
            "code"
        ]
        == "0x80044331"
    )
    picklist = {
        "@odata.type": "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        "SchemaName": "lfwd_Tier",
        "OptionSet": {
            "Options": [
                {
                    "Value": 727000000,
                    "Label": {"LocalizedLabels": [{"Label": "Gold", "LanguageCode": 1033}]},
                }
            ]
        },
    }
    assert (
        api.post("EntityDefinitions(LogicalName='contact')/Attributes", json=picklist).status_code
        == 204
    )
    assert (
        api.post("contacts", json={"lastname": "K", "lfwd_tier": 1}).json()["error"]["code"]
        == "0x8004431A"
    )
    key = {
        "SchemaName": "lfwd_sfcontactid_key",
        "KeyAttributes": ["lfwd_sfcontactid"],
        "DisplayName": {"LocalizedLabels": [{"Label": "SF", "LanguageCode": 1033}]},
    }
    assert api.post("EntityDefinitions(LogicalName='contact')/Keys", json=key).status_code == 204
    status = api.get(
        "EntityDefinitions(LogicalName='contact')",
        params={"$expand": "Keys($select=SchemaName,EntityKeyIndexStatus)"},
    ).json()
    assert status["Keys"][0]["EntityKeyIndexStatus"] == "Pending"
    assert api.get("contacts(lfwd_sfcontactid='003000000000001AAA')").status_code == 400
    time.sleep(0.7)
    got = api.get("contacts(lfwd_sfcontactid='003000000000001AAA')")
    assert got.status_code == 200 and got.json()["lastname"] == "K"
    r = api.post(
        "tasks",
        json={
            "subject": "s",
            "regardingobjectid_contact_task@odata.bind": (
                "/contacts(lfwd_sfcontactid='003000000000001AAA')"
            ),
        },
        headers={"Prefer": "return=representation"},
    )
    assert r.json()["_regardingobjectid_value"] == got.json()["contactid"]
    r = api.post("contacts", json={"lastname": "Dup", "lfwd_sfcontactid": "003000000000001AAA"})
    assert (r.status_code, r.json()["error"]["code"]) == (412, "0x80060892")
    r = api.patch("contacts(lfwd_sfcontactid='003000000000002AAA')", json={"lastname": "ByKey"})
    assert (
        r.status_code == 204
        and "lfwd_sfcontactid='003000000000002AAA'" in r.headers["OData-EntityId"]
    )
    assert api.get("contacts(lfwd_sfcontactid='003000000000002AAA')").json()["lastname"] == "ByKey"
    assert api.post("PublishXml", json={"ParameterXml": "<importexportxml/>"}).status_code == 204


def test_float_columns_can_be_created_with_their_precision_limit(api: httpx.Client) -> None:
    # Geolocation parts of Salesforce custom fields land in Float (Double) columns.
    body = {
        "@odata.type": "Microsoft.Dynamics.CRM.DoubleAttributeMetadata",
        "SchemaName": "lfwd_HqLatitude",
        "MinValue": -90,
        "MaxValue": 90,
        "Precision": 5,
    }
    created = api.post("EntityDefinitions(LogicalName='account')/Attributes", json=body)
    assert created.status_code == 204, created.text
    attr = api.get(
        "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='lfwd_hqlatitude')"
    ).json()
    assert attr["@odata.type"].endswith("DoubleAttributeMetadata")
    assert (attr["MinValue"], attr["MaxValue"], attr["Precision"]) == (-90, 90, 5)
    row = api.post(
        "accounts",
        json={"name": "Geo", "lfwd_hqlatitude": 48.85661},
        headers={"Prefer": "return=representation"},
    )
    assert row.status_code == 201 and row.json()["lfwd_hqlatitude"] == 48.85661
    out_of_range = api.post("accounts", json={"name": "Bad", "lfwd_hqlatitude": 91})
    assert out_of_range.status_code == 400
    too_precise = dict(body, SchemaName="lfwd_HqLongitude", Precision=6)
    refused = api.post("EntityDefinitions(LogicalName='account')/Attributes", json=too_precise)
    assert refused.status_code == 400 and "between 0 and 5" in refused.text
