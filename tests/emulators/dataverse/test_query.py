from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from tests.emulators.dataverse.conftest import entity_id


def test_filter_orderby_top_count_and_paging(api: httpx.Client) -> None:
    ids = [
        entity_id(
            api.post(
                "leads",
                json={
                    "lastname": f"Q{i:02d}",
                    "companyname": "Pager Inc",
                    "numberofemployees": i,
                    "leadqualitycode": 1 + i % 3,
                },
            )
        )
        for i in range(12)
    ]
    params = {
        "$filter": "companyname eq 'pager inc' and numberofemployees ge 2",
        "$select": "lastname",
        "$orderby": "numberofemployees desc",
        "$count": "true",
    }
    page = api.get("leads", params=params, headers={"Prefer": "odata.maxpagesize=4"}).json()
    assert page["@odata.count"] == 10
    names = [r["lastname"] for r in page["value"]]
    while "@odata.nextLink" in page:
        page = api.get(page["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=4"}).json()
        names += [r["lastname"] for r in page["value"]]
    assert names == [f"Q{i:02d}" for i in range(11, 1, -1)]
    top = api.get("leads", params={"$filter": "companyname eq 'Pager Inc'", "$top": "3"}).json()
    assert len(top["value"]) == 3 and "@odata.nextLink" not in top
    flt = f"Microsoft.Dynamics.CRM.In(PropertyName='leadid',PropertyValues=['{ids[0]}','{ids[5]}'])"
    assert len(api.get("leads", params={"$filter": flt}).json()["value"]) == 2
    flt = "startswith(lastname,'Q1') and not (leadqualitycode eq 1 or leadqualitycode eq 2)"
    got = sorted(r["lastname"] for r in api.get("leads", params={"$filter": flt}).json()["value"])
    assert got == ["Q11"]
    assert (
        len(
            api.get(
                "leads", params={"$filter": "contains(lastname,'0') and emailaddress1 eq null"}
            ).json()["value"]
        )
        == 11
    )


def test_filter_errors_name_the_property(api: httpx.Client) -> None:
    r = api.get("leads", params={"$filter": "nosuch eq 1"})
    assert (
        r.status_code == 400
        and "Could not find a property named 'nosuch'" in r.json()["error"]["message"]
    )
    assert api.get("leads", params={"$filter": "lastname eq"}).status_code == 400
    assert api.get("nosuchset").status_code == 404


def test_expand_single_valued_lookups_and_parties(api: httpx.Client) -> None:
    acc = entity_id(api.post("accounts", json={"name": "Expand Co"}))
    cid = entity_id(
        api.post(
            "contacts",
            json={"lastname": "Exp", "parentcustomerid_account@odata.bind": f"/accounts({acc})"},
        )
    )
    rows = api.get(
        "contacts",
        params={
            "$filter": f"contactid eq {cid}",
            "$select": "lastname",
            "$expand": (
                "parentcustomerid_account($select=name),parentcustomerid_contact,"
                "ownerid($select=fullname)"
            ),
        },
    ).json()["value"]
    assert rows[0]["parentcustomerid_account"]["name"] == "Expand Co"
    assert rows[0]["parentcustomerid_contact"] is None
    assert rows[0]["ownerid"]["fullname"] == "# Migration Application User"
    one = api.get(f"contacts({cid})", params={"$expand": "parentcustomerid_account($select=name)"})
    assert one.json()["parentcustomerid_account"]["accountid"] == acc
    bad = api.get(f"contacts({cid})", params={"$expand": "nosuch"})
    assert bad.status_code == 400 and "nosuch" in bad.json()["error"]["message"]


def test_metadata_document_is_csdl_xml(api: httpx.Client) -> None:
    r = api.get("$metadata")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(r.text)  # noqa: S314 - our own emulator's reply over loopback
    ns = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}
    sets = {e.get("Name") for e in root.iter("{http://docs.oasis-open.org/odata/ns/edm}EntitySet")}
    assert {"contacts", "accounts", "tasks", "annotations"} <= sets
    contact = root.find(".//edm:EntityType[@Name='contact']", ns)
    assert contact is not None
    props = {p.get("Name"): p.get("Type") for p in contact.findall("edm:Property", ns)}
    assert props["lastname"] == "Edm.String" and props["_parentcustomerid_value"] == "Edm.Guid"
    navs = {n.get("Name") for n in contact.findall("edm:NavigationProperty", ns)}
    assert "parentcustomerid_account" in navs
