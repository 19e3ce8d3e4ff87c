from __future__ import annotations

import uuid

import httpx

from emulators.dataverse.testing import DataverseEndpoint
from tests.emulators.dataverse.conftest import entity_id


def test_create_returns_204_with_entity_id_and_representation_on_request(api: httpx.Client) -> None:
    r = api.post("accounts", json={"name": "Acme", "revenue": 5000000, "industrycode": 7})
    assert r.status_code == 204
    aid = entity_id(r)
    r2 = api.post("accounts", json={"name": "B"}, headers={"Prefer": "return=representation"})
    assert r2.status_code == 201
    assert r2.json()["name"] == "B" and r2.json()["@odata.etag"].startswith('W/"')
    got = api.get(f"accounts({aid})", params={"$select": "name,revenue,industrycode"}).json()
    assert got["name"] == "Acme" and got["revenue"] == 5000000 and got["industrycode"] == 7
    assert "telephone1" not in got


def test_undeclared_property_is_refused_with_the_real_code_and_message(api: httpx.Client) -> None:
    r = api.post("contacts", json={"lastname": "X", "lastnam": "Y"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "0x80048d19"
    assert (
        "The property 'lastnam' does not exist on type 'Microsoft.Dynamics.CRM.contact'"
        in err["message"]
    )
    assert err["message"].startswith(
        "Error identified in Payload provided by the user for Entity :'contacts'"
    )


def test_wrong_type_choice_range_length_and_int_range(api: httpx.Client) -> None:
    r = api.post("accounts", json={"name": "A", "industrycode": "Charity"})
    assert r.json()["error"]["code"] == "0x80048d19"
    assert (
        "Cannot convert the literal 'Charity' to the expected type 'Edm.Int32'"
        in r.json()["error"]["message"]
    )
    r = api.post("leads", json={"leadsourcecode": 11})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "0x8004431A")
    r = api.post("contacts", json={"firstname": "x" * 51})
    assert r.json()["error"]["code"] == "0x80044331"
    assert "maximum allowed length of '50'" in r.json()["error"]["message"]
    r = api.post("accounts", json={"name": "A", "numberofemployees": 1000000001})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "0x8004432F")


def test_missing_row_and_missing_bind_target_are_404_0x80040217(api: httpx.Client) -> None:
    missing = str(uuid.uuid4())
    r = api.get(f"contacts({missing})")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "0x80040217")
    r = api.post(
        "contacts",
        json={"lastname": "X", "parentcustomerid_account@odata.bind": f"/accounts({missing})"},
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "0x80040217")
    r = api.post(
        "contacts",
        json={"lastname": "X", "ParentCustomerId_account@odata.bind": f"/accounts({missing})"},
    )
    assert r.json()["error"]["code"] == "0x80048d19"
    assert "An undeclared property 'ParentCustomerId_account'" in r.json()["error"]["message"]


def test_polymorphic_binds_and_owner(api: httpx.Client, dv: DataverseEndpoint) -> None:
    acc = entity_id(api.post("accounts", json={"name": "P"}))
    con = entity_id(
        api.post(
            "contacts",
            json={"lastname": "C", "parentcustomerid_account@odata.bind": f"accounts({acc})"},
        )
    )
    user = httpx.post(
        dv.admin_url + "systemusers",
        json=[{"internalemailaddress": "a@x.com", "fullname": "A B", "isdisabled": False}],
    ).json()[0]
    task = api.post(
        "tasks",
        json={
            "subject": "t",
            "regardingobjectid_contact_task@odata.bind": f"/contacts({con})",
            "ownerid@odata.bind": f"/systemusers({user['systemuserid']})",
        },
        headers={"Prefer": "return=representation"},
    ).json()
    assert (
        task["_regardingobjectid_value"] == con and task["_ownerid_value"] == user["systemuserid"]
    )
    note = api.post(
        "annotations",
        json={"notetext": "n", "objectid_contact@odata.bind": f"/contacts({con})"},
        headers={"Prefer": "return=representation"},
    ).json()
    assert note["objecttypecode"] == "contact"


def test_disabled_owner_is_refused(api: httpx.Client, dv: DataverseEndpoint) -> None:
    user = httpx.post(
        dv.admin_url + "systemusers",
        json=[{"internalemailaddress": "d@x.com", "fullname": "D", "isdisabled": True}],
    ).json()[0]
    r = api.post(
        "accounts",
        json={"name": "A", "ownerid@odata.bind": f"/systemusers({user['systemuserid']})"},
    )
    assert (r.status_code, r.json()["error"]["code"]) == (400, "0x8004022b")


def test_client_chosen_key_duplicate_and_conditional_upsert(api: httpx.Client) -> None:
    cid = str(uuid.uuid4())
    assert api.post("contacts", json={"contactid": cid, "lastname": "A"}).status_code == 204
    r = api.post("contacts", json={"contactid": cid, "lastname": "A"})
    assert (r.status_code, r.json()["error"]["code"]) == (412, "0x80040237")
    r = api.patch(f"contacts({cid})", json={"lastname": "B"}, headers={"If-None-Match": "*"})
    assert (
        r.status_code == 412
        and r.json()["error"]["message"] == "A record with matching key values already exists."
    )
    other = str(uuid.uuid4())
    r = api.patch(f"contacts({other})", json={"lastname": "B"}, headers={"If-Match": "*"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "0x80040217")
    r = api.patch(
        f"contacts({other})", json={"lastname": "New"}, headers={"Prefer": "return=representation"}
    )
    assert r.status_code == 201
    r = api.patch(
        f"contacts({other})",
        json={"lastname": "Newer"},
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 200 and r.json()["lastname"] == "Newer"
    etag = r.json()["@odata.etag"]
    assert (
        api.patch(
            f"contacts({other})", json={"lastname": "x"}, headers={"If-Match": 'W/"1"'}
        ).status_code
        == 412
    )
    assert (
        api.patch(
            f"contacts({other})", json={"lastname": "y"}, headers={"If-Match": etag}
        ).status_code
        == 204
    )
    assert api.delete(f"contacts({other})").status_code == 204
    assert api.delete(f"contacts({other})").status_code == 404


def test_overriddencreatedon_sets_createdon(api: httpx.Client) -> None:
    r = api.post(
        "contacts",
        json={"lastname": "Old", "overriddencreatedon": "2015-03-04T05:06:07Z"},
        headers={"Prefer": "return=representation"},
    )
    body = r.json()
    assert body["createdon"] == "2015-03-04T05:06:07Z"
    assert (
        body["overriddencreatedon"] is not None and body["overriddencreatedon"] != body["createdon"]
    )


def test_activity_state_rules(api: httpx.Client) -> None:
    r = api.post(
        "phonecalls",
        json={"subject": "c", "statecode": 1, "statuscode": 1, "directioncode": True},
        headers={"Prefer": "return=representation"},
    )
    call = r.json()
    assert (call["statecode"], call["statuscode"]) == (0, 1)  # statecode ignored on create
    pid = call["activityid"]
    r = api.patch(f"phonecalls({pid})", json={"statecode": 1, "statuscode": 3})
    assert r.status_code == 400 and "not a valid status code" in r.json()["error"]["message"]
    assert (
        api.patch(f"phonecalls({pid})", json={"statecode": 1, "statuscode": 2}).status_code == 204
    )
    closed = api.get(f"phonecalls({pid})").json()
    assert closed["statecode"] == 1 and closed["actualend"]
    r = api.patch(f"phonecalls({pid})", json={"subject": "changed"})
    assert r.status_code == 400 and "cannot be modified" in r.json()["error"]["message"]


def test_activity_parties_by_deep_insert(api: httpx.Client, dv: DataverseEndpoint) -> None:
    con = entity_id(api.post("contacts", json={"lastname": "P"}))
    me = api.get("WhoAmI").json()["UserId"]
    r = api.post(
        "emails",
        json={
            "subject": "hi",
            "email_activity_parties": [
                {
                    "partyid_systemuser@odata.bind": f"/systemusers({me})",
                    "participationtypemask": 1,
                },
                {
                    "partyid_contact@odata.bind": f"/contacts({con})",
                    "participationtypemask": 2,
                    "addressused": "p@x.com",
                },
            ],
        },
    )
    eid = entity_id(r)
    got = api.get(f"emails({eid})", params={"$expand": "email_activity_parties"}).json()
    parties = got["email_activity_parties"]
    assert [(p["participationtypemask"], p["_partyid_value"]) for p in parties] == [
        (1, me),
        (2, con),
    ]
    r = api.post(
        "emails",
        json={
            "subject": "x",
            "email_activity_parties": [
                {
                    "partyid_contact@odata.bind": f"/contacts({uuid.uuid4()})",
                    "participationtypemask": 2,
                }
            ],
        },
    )
    assert r.status_code == 404


def test_note_body_over_maxuploadfilesize_is_refused(
    api: httpx.Client, dv: DataverseEndpoint
) -> None:
    assert (
        api.get("organizations", params={"$select": "maxuploadfilesize"}).json()["value"][0][
            "maxuploadfilesize"
        ]
        == 5242880
    )
    httpx.patch(dv.admin_url + "organization", json={"maxuploadfilesize": 100}).raise_for_status()
    try:
        r = api.post("annotations", json={"documentbody": "QUJD" * 26, "filename": "a.txt"})
        assert (r.status_code, r.json()["error"]["code"]) == (400, "0x80044a02")
        assert (
            api.post(
                "annotations", json={"documentbody": "QUJD" * 25, "filename": "a.txt"}
            ).status_code
            == 204
        )
    finally:
        httpx.patch(dv.admin_url + "organization", json={"maxuploadfilesize": 5242880})


def test_no_token_is_401(dv: DataverseEndpoint) -> None:
    r = httpx.get(dv.url + "WhoAmI")
    assert r.status_code == 401 and "error" in r.json()
    r = httpx.get(dv.url + "WhoAmI", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_conditional_delete_and_retrieve(api: httpx.Client) -> None:
    r = api.post("accounts", json={"name": "V1"}, headers={"Prefer": "return=representation"})
    aid, first = r.json()["accountid"], r.json()["@odata.etag"]
    assert api.get(f"accounts({aid})", headers={"If-None-Match": first}).status_code == 304
    api.patch(f"accounts({aid})", json={"name": "V2"})  # someone changes the row
    assert api.get(f"accounts({aid})", headers={"If-None-Match": first}).status_code == 200
    r = api.delete(f"accounts({aid})", headers={"If-Match": first})
    assert (r.status_code, r.json()["error"]["code"]) == (412, "0x80060882")
    current = api.get(f"accounts({aid})").json()["@odata.etag"]
    assert api.delete(f"accounts({aid})", headers={"If-Match": current}).status_code == 204


def test_delete_clears_links_and_cascades_to_activities_and_notes(api: httpx.Client) -> None:
    acc = entity_id(api.post("accounts", json={"name": "Gone"}))
    child = entity_id(
        api.post(
            "accounts", json={"name": "Child", "parentaccountid@odata.bind": f"/accounts({acc})"}
        )
    )
    con = entity_id(
        api.post(
            "contacts",
            json={"lastname": "C", "parentcustomerid_account@odata.bind": f"/accounts({acc})"},
        )
    )
    task = entity_id(
        api.post(
            "tasks",
            json={"subject": "t", "regardingobjectid_account_task@odata.bind": f"/accounts({acc})"},
        )
    )
    note = entity_id(
        api.post(
            "annotations",
            json={"notetext": "n", "objectid_account@odata.bind": f"/accounts({acc})"},
        )
    )
    mail = entity_id(
        api.post(
            "emails",
            json={
                "subject": "m",
                "email_activity_parties": [
                    {"partyid_account@odata.bind": f"/accounts({acc})", "participationtypemask": 2}
                ],
            },
        )
    )
    assert api.delete(f"accounts({acc})").status_code == 204
    assert api.get(f"accounts({child})").json()["_parentaccountid_value"] is None
    assert api.get(f"contacts({con})").json()["_parentcustomerid_value"] is None
    assert api.get(f"tasks({task})").status_code == 404
    assert api.get(f"annotations({note})").status_code == 404
    parties = api.get(f"emails({mail})", params={"$expand": "email_activity_parties"}).json()
    assert parties["email_activity_parties"][0]["ispartydeleted"] is True
