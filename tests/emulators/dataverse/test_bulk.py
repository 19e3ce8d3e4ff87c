from __future__ import annotations

import uuid

import httpx

T = "Microsoft.Dynamics.CRM."


def test_create_update_upsert_multiple(api: httpx.Client) -> None:
    r = api.post(
        "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [{"@odata.type": T + "account", "name": f"B{i}"} for i in range(3)]},
    )
    assert r.status_code == 200
    ids = r.json()["Ids"]
    assert len(ids) == 3
    r = api.post(
        "accounts/Microsoft.Dynamics.CRM.UpdateMultiple",
        json={
            "Targets": [
                {"@odata.type": T + "account", "accountid": i, "telephone1": "1"} for i in ids
            ]
        },
    )
    assert r.status_code == 204
    assert api.get(f"accounts({ids[0]})").json()["telephone1"] == "1"
    new = str(uuid.uuid4())
    r = api.post(
        "accounts/Microsoft.Dynamics.CRM.UpsertMultiple",
        json={
            "Targets": [
                {"@odata.type": T + "account", "@odata.id": f"accounts({ids[1]})", "name": "Upd"},
                {"@odata.type": T + "account", "@odata.id": f"accounts({new})", "name": "Ins"},
            ]
        },
    )
    assert r.status_code == 200
    assert api.get(f"accounts({ids[1]})").json()["name"] == "Upd"
    assert api.get(f"accounts({new})").json()["name"] == "Ins"


def test_multiple_is_atomic_and_names_the_failing_item(api: httpx.Client) -> None:
    before = api.get(
        "contacts", params={"$filter": "lastname eq 'Atomic'", "$count": "true"}
    ).json()["@odata.count"]
    r = api.post(
        "contacts/Microsoft.Dynamics.CRM.CreateMultiple",
        json={
            "Targets": [
                {"@odata.type": T + "contact", "lastname": "Atomic"},
                {"@odata.type": T + "contact", "lastname": "Atomic", "gendercode": 9},
            ]
        },
    )
    assert (r.status_code, r.json()["error"]["code"]) == (400, "0x8004431A")
    assert r.headers["x-emulator-failed-item"] == "1"
    after = api.get(
        "contacts", params={"$filter": "lastname eq 'Atomic'", "$count": "true"}
    ).json()["@odata.count"]
    assert after == before
    r = api.post(
        "contacts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": [{"lastname": "NoType"}]}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x80048d19"
    dup = str(uuid.uuid4())
    r = api.post(
        "contacts/Microsoft.Dynamics.CRM.UpsertMultiple",
        json={
            "Targets": [
                {"@odata.type": T + "contact", "contactid": dup, "lastname": "a"},
                {"@odata.type": T + "contact", "contactid": dup, "lastname": "b"},
            ]
        },
    )
    assert r.status_code == 400


def test_sdkmessagefilters_and_bulkdelete(api: httpx.Client) -> None:
    q = {
        "$select": "sdkmessagefilterid",
        "$filter": "sdkmessageid/name eq @message and primaryobjecttypecode eq @table",
        "@message": "'UpsertMultiple'",
        "@table": "'contact'",
    }
    assert len(api.get("sdkmessagefilters", params=q).json()["value"]) == 1
    q["@table"] = "'systemuser'"
    assert api.get("sdkmessagefilters", params=q).json()["value"] == []
    api.post("contacts", json={"lastname": "Doomed"})
    r = api.post(
        "BulkDelete",
        json={
            "QuerySet": [
                {
                    "EntityName": "contact",
                    "Criteria": {
                        "FilterOperator": "And",
                        "Conditions": [
                            {
                                "AttributeName": "lastname",
                                "Operator": "Equal",
                                "Values": [{"Value": "Doomed", "Type": "System.String"}],
                            }
                        ],
                    },
                }
            ],
            "JobName": "x",
        },
    )
    assert r.status_code == 200 and "JobId" in r.json()
    assert api.get("contacts", params={"$filter": "lastname eq 'Doomed'"}).json()["value"] == []


def test_update_multiple_names_the_missing_row(api: httpx.Client) -> None:
    ids = api.post(
        "leads/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [{"@odata.type": T + "lead", "lastname": "U"} for _ in range(2)]},
    ).json()["Ids"]
    ghost = str(uuid.uuid4())
    targets = [{"@odata.type": T + "lead", "leadid": i, "companyname": "changed"} for i in ids]
    targets.append({"@odata.type": T + "lead", "leadid": ghost, "companyname": "changed"})
    r = api.post("leads/Microsoft.Dynamics.CRM.UpdateMultiple", json={"Targets": targets})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "0x80040217")
    assert ghost in r.json()["error"]["message"] and r.headers["x-emulator-failed-item"] == "2"
    assert api.get(f"leads({ids[0]})").json()["companyname"] is None  # nothing was written
