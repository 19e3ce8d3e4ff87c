"""Rules a loader must respect: keys, bind targets, owners, states, single properties."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx

from emulators.dataverse.testing import DataverseEndpoint, run_dataverse
from tests.emulators.dataverse.conftest import entity_id


def test_undefined_key_and_wrong_bind_target(api: httpx.Client) -> None:
    r = api.get("contacts(emailaddress1='a@b.c')")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "0x80060890")
    con = entity_id(api.post("contacts", json={"lastname": "C"}))
    r = api.post("accounts", json={"name": "A", "parentaccountid@odata.bind": f"/contacts({con})"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x80048d19"
    r = api.post("accounts", json={"name": "A", "_parentaccountid_value": con})
    assert r.json()["error"]["code"] == "0x80048d19"


def test_owner_disabled_check_can_be_turned_off(tmp_path: Path) -> None:
    with run_dataverse(tmp_path, owner_disabled_check=False) as dv:
        users = [{"internalemailaddress": "gone@x.com", "fullname": "Gone", "isdisabled": True}]
        user = httpx.post(dv.admin_url + "systemusers", json=users).json()[0]
        body = {"name": "A", "ownerid@odata.bind": f"/systemusers({user['systemuserid']})"}
        r = httpx.post(
            dv.url + "accounts",
            json=body,
            headers={**dv.headers(), "Prefer": "return=representation"},
        )
        assert r.status_code == 201 and r.json()["_ownerid_value"] == user["systemuserid"]


def test_team_owner_and_created_by_caller(api: httpx.Client, dv: DataverseEndpoint) -> None:
    team = entity_id(api.post("teams", json={"name": "Sales", "teamtype": 0}))
    r = api.post(
        "leads",
        json={"lastname": "L", "ownerid@odata.bind": f"/teams({team})"},
        headers={"Prefer": "return=representation", "odata.include-annotations": "*"},
    )
    body = r.json()
    assert body["_ownerid_value"] == team and body["_owningteam_value"] == team
    me = api.get("WhoAmI").json()["UserId"]
    assert body["_createdby_value"] == me


def test_state_transitions(api: httpx.Client) -> None:
    tid = entity_id(api.post("tasks", json={"subject": "t", "statuscode": 3}))
    assert api.get(f"tasks({tid})").json()["statuscode"] == 3
    assert (
        api.patch(f"tasks({tid})", json={"statuscode": 5}).status_code == 204
    )  # moves to Completed
    task = api.get(f"tasks({tid})").json()
    assert (task["statecode"], task["statuscode"]) == (1, 5)
    assert api.patch(f"tasks({tid})", json={"description": "late"}).status_code == 400
    assert api.patch(f"tasks({tid})", json={"statecode": 0}).status_code == 204  # reopen
    assert api.patch(f"tasks({tid})", json={"description": "now ok"}).status_code == 204
    lead = entity_id(api.post("leads", json={"lastname": "L"}))
    r = api.patch(f"leads({lead})", json={"statecode": 2, "statuscode": 3})
    assert r.status_code == 400 and "LeadState.Disqualified" in r.json()["error"]["message"]
    assert api.patch(f"leads({lead})", json={"statecode": 2, "statuscode": 6}).status_code == 204


def test_single_property_and_annotations(api: httpx.Client) -> None:
    cid = entity_id(api.post("contacts", json={"lastname": "P", "gendercode": 2}))
    assert api.put(f"contacts({cid})/jobtitle", json={"value": "CTO"}).status_code == 204
    assert api.get(f"contacts({cid})/jobtitle").json()["value"] == "CTO"
    assert api.delete(f"contacts({cid})/jobtitle").status_code == 204
    assert api.get(f"contacts({cid})/jobtitle").json()["value"] is None
    r = api.get(
        f"contacts({cid})",
        params={"$select": "gendercode"},
        headers={"Prefer": 'odata.include-annotations="*"'},
    )
    assert r.json()["gendercode@OData.Community.Display.V1.FormattedValue"] == "Female"
    assert r.headers["ETag"] == r.json()["@odata.etag"]


def test_customisations_survive_restart(tmp_path: Path) -> None:
    col = {
        "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
        "SchemaName": "lfwd_SfId",
        "MaxLength": 18,
    }
    key = {"SchemaName": "lfwd_sfid_key", "KeyAttributes": ["lfwd_sfid"]}
    with run_dataverse(tmp_path, key_activation_seconds=0.05) as dv:
        api = httpx.Client(base_url=dv.url, headers=dv.headers())
        assert (
            api.post("EntityDefinitions(LogicalName='lead')/Attributes", json=col).status_code
            == 204
        )
        assert api.post("EntityDefinitions(LogicalName='lead')/Keys", json=key).status_code == 204
        time.sleep(0.1)
        assert api.patch("leads(lfwd_sfid='00Q1')", json={"lastname": "K"}).status_code == 204
    with run_dataverse(tmp_path, key_activation_seconds=0.05) as dv:
        api = httpx.Client(base_url=dv.url, headers=dv.headers())
        assert api.get("leads(lfwd_sfid='00Q1')").json()["lastname"] == "K"
        r = api.post("leads", json={"lastname": "Dup", "lfwd_sfid": "00Q1"})
        assert r.json()["error"]["code"] == "0x80060892"


def test_metadata_write_refusals(api: httpx.Client) -> None:
    col = {
        "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
        "SchemaName": "NoPrefix",
    }
    assert (
        api.post("EntityDefinitions(LogicalName='account')/Attributes", json=col).status_code == 400
    )
    col = {"@odata.type": "Microsoft.Dynamics.CRM.ImageAttributeMetadata", "SchemaName": "x_Img"}
    assert (
        api.post("EntityDefinitions(LogicalName='account')/Attributes", json=col).status_code == 400
    )
    key = {"SchemaName": "x_desc_key", "KeyAttributes": ["description"]}
    r = api.post("EntityDefinitions(LogicalName='account')/Keys", json=key)
    assert r.status_code == 400 and "description" in r.json()["error"]["message"]


def test_latency_mode_delays_by_the_cost_model(tmp_path: Path) -> None:
    with run_dataverse(tmp_path, latency="scaled:0.1") as dv:  # 10x slower than modelled
        start = time.perf_counter()
        r = httpx.post(
            dv.url + "contacts",
            json={"lastname": "slow", "contactid": str(uuid.uuid4())},
            headers=dv.headers(),
        )
        assert r.status_code == 204
        assert time.perf_counter() - start >= 0.35  # 0.040 s single create x 10


def test_lookup_annotations_name_target_and_navigation(api: httpx.Client) -> None:
    acc = entity_id(api.post("accounts", json={"name": "Parent"}))
    cid = entity_id(
        api.post(
            "contacts",
            json={"lastname": "Kid", "parentcustomerid_account@odata.bind": f"/accounts({acc})"},
        )
    )
    prefer = (
        'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname,'
        'Microsoft.Dynamics.CRM.associatednavigationproperty"'
    )
    row = api.get(
        "contacts",
        params={"$filter": f"contactid eq {cid}", "$select": "_parentcustomerid_value,gendercode"},
        headers={"Prefer": prefer},
    ).json()["value"][0]
    key = "_parentcustomerid_value@Microsoft.Dynamics.CRM."
    assert row[key + "lookuplogicalname"] == "account"
    assert row[key + "associatednavigationproperty"] == "parentcustomerid_account"
    assert not any(k.endswith("FormattedValue") for k in row)  # not asked for
    plain = api.get(f"contacts({cid})", params={"$select": "_parentcustomerid_value"}).json()
    assert not any("@Microsoft" in k for k in plain)


def test_lookups_are_cleared_by_null_bind_or_ref_delete(api: httpx.Client) -> None:
    acc = entity_id(api.post("accounts", json={"name": "P"}))
    bind = {"parentcustomerid_account@odata.bind": f"/accounts({acc})"}
    cid = entity_id(api.post("contacts", json={"lastname": "K", **bind}))
    assert (
        api.patch(
            f"contacts({cid})", json={"parentcustomerid_account@odata.bind": None}
        ).status_code
        == 204
    )
    assert api.get(f"contacts({cid})").json()["_parentcustomerid_value"] is None
    assert api.patch(f"contacts({cid})", json=bind).status_code == 204
    assert api.delete(f"contacts({cid})/parentcustomerid_account/$ref").status_code == 204
    assert api.get(f"contacts({cid})").json()["_parentcustomerid_value"] is None
    r = api.patch(f"contacts({cid})", json={"ownerid@odata.bind": None})
    assert r.status_code == 400


def test_key_over_duplicated_data_fails_instead_of_activating(tmp_path: Path) -> None:
    col = {
        "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
        "SchemaName": "lfwd_Ext",
    }
    key = {"SchemaName": "lfwd_ext_key", "KeyAttributes": ["lfwd_ext"]}
    with run_dataverse(tmp_path, key_activation_seconds=0.05) as dv:
        api = httpx.Client(base_url=dv.url, headers=dv.headers())
        assert (
            api.post("EntityDefinitions(LogicalName='account')/Attributes", json=col).status_code
            == 204
        )
        for _ in range(2):
            assert api.post("accounts", json={"name": "Twin", "lfwd_ext": "X1"}).status_code == 204
        assert (
            api.post("EntityDefinitions(LogicalName='account')/Keys", json=key).status_code == 204
        )
        time.sleep(0.1)
        keys = api.get("EntityDefinitions(LogicalName='account')/Keys").json()["value"]
        assert keys[0]["EntityKeyIndexStatus"] == "Failed"
        assert api.get("accounts(lfwd_ext='X1')").json()["error"]["code"] == "0x80060890"


def test_fullname_is_composed_and_is_the_lookup_formatted_value(api: httpx.Client) -> None:
    cid = entity_id(api.post("contacts", json={"firstname": "Ada", "lastname": "Lovelace"}))
    assert api.get(f"contacts({cid})").json()["fullname"] == "Ada Lovelace"
    api.patch(f"contacts({cid})", json={"firstname": "Augusta"})
    tid = entity_id(
        api.post(
            "tasks",
            json={"subject": "s", "regardingobjectid_contact_task@odata.bind": f"/contacts({cid})"},
        )
    )
    task = api.get(
        f"tasks({tid})",
        params={"$select": "_regardingobjectid_value"},
        headers={"Prefer": 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'},
    ).json()
    assert (
        task["_regardingobjectid_value@OData.Community.Display.V1.FormattedValue"]
        == "Augusta Lovelace"
    )


def test_key_values_with_reserved_characters_cannot_address_rows(tmp_path: Path) -> None:
    col = {
        "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
        "SchemaName": "lfwd_Mail",
    }
    key = {"SchemaName": "lfwd_mail_key", "KeyAttributes": ["lfwd_mail"]}
    with run_dataverse(tmp_path, key_activation_seconds=0.05) as dv:
        api = httpx.Client(base_url=dv.url, headers=dv.headers())
        api.post("EntityDefinitions(LogicalName='contact')/Attributes", json=col)
        api.post("EntityDefinitions(LogicalName='contact')/Keys", json=key)
        time.sleep(0.1)
        assert (
            api.patch("contacts(lfwd_mail='a@b.com')", json={"lastname": "ok"}).status_code == 204
        )
        r = api.patch("contacts(lfwd_mail='a+tag@b.com')", json={"lastname": "plus"})
        assert r.status_code == 400 and "a+tag@b.com" in r.json()["error"]["message"]


def test_opportunities_close_only_through_win_or_lose(api: httpx.Client) -> None:
    opp = entity_id(api.post("opportunities", json={"name": "Deal", "estimatedvalue": 1000}))
    r = api.patch(f"opportunities({opp})", json={"statecode": 1, "statuscode": 3})
    assert r.status_code == 400 and "WinOpportunity" in r.json()["error"]["message"]
    close = {
        "opportunityid@odata.bind": f"/opportunities({opp})",
        "subject": "Won it",
        "actualrevenue": 900,
        "actualend": "2024-02-03",
    }
    assert (
        api.post("WinOpportunity", json={"Status": 3, "OpportunityClose": close}).status_code == 204
    )
    won = api.get(f"opportunities({opp})").json()
    assert (won["statecode"], won["statuscode"], won["actualvalue"]) == (1, 3, 900.0)
    assert won["actualclosedate"].startswith("2024-02-03")
    assert api.patch(f"opportunities({opp})", json={"statecode": 0}).status_code == 204  # reopen
    r = api.post("LoseOpportunity", json={"Status": 3, "OpportunityClose": close})
    assert r.status_code == 400 and "not a valid status code" in r.json()["error"]["message"]
    assert (
        api.post("LoseOpportunity", json={"Status": 5, "OpportunityClose": close}).status_code
        == 204
    )
    assert api.get(f"opportunities({opp})").json()["statuscode"] == 5
