from __future__ import annotations

import httpx

from emulators.dataverse.testing import DataverseEndpoint


def _batch(
    dv: DataverseEndpoint, body: str, boundary: str, prefer: str | None = None
) -> httpx.Response:
    headers = {**dv.headers(), "Content-Type": f"multipart/mixed; boundary={boundary}"}
    if prefer:
        headers["Prefer"] = prefer
    return httpx.post(
        dv.url + "$batch", content=body.replace("\n", "\r\n").encode(), headers=headers
    )


def _changeset(dv: DataverseEndpoint, second_body: str) -> str:
    return f"""--batch_A
Content-Type: multipart/mixed; boundary=changeset_B

--changeset_B
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

POST {dv.url}accounts HTTP/1.1
Content-Type: application/json

{{"name": "Batch parent"}}
--changeset_B
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

POST {dv.url}contacts HTTP/1.1
Content-Type: application/json

{second_body}
--changeset_B--

--batch_A
Content-Type: application/http
Content-Transfer-Encoding: binary

GET {dv.url}accounts?$select=name&$filter=name eq 'Batch parent' HTTP/1.1
Accept: application/json


--batch_A--
"""


def test_changeset_with_content_id_reference_commits(dv: DataverseEndpoint) -> None:
    r = _batch(
        dv,
        _changeset(dv, '{"lastname": "Kid", "parentcustomerid_account@odata.bind": "$1"}'),
        "batch_A",
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "multipart/mixed; boundary=batchresponse_"
    )
    assert r.text.count("HTTP/1.1 204 No Content") == 2 and "HTTP/1.1 200 OK" in r.text
    api = httpx.Client(base_url=dv.url, headers=dv.headers())
    kid = api.get(
        "contacts", params={"$filter": "lastname eq 'Kid'", "$select": "_parentcustomerid_value"}
    ).json()["value"][0]
    parent = api.get("accounts", params={"$filter": "name eq 'Batch parent'"}).json()["value"][0]
    assert kid["_parentcustomerid_value"] == parent["accountid"]


def test_failing_changeset_rolls_back_and_stops_unless_continue_on_error(
    dv: DataverseEndpoint,
) -> None:
    api = httpx.Client(base_url=dv.url, headers=dv.headers())
    before = len(api.get("accounts").json()["value"])
    r = _batch(dv, _changeset(dv, '{"lastname": "Bad", "nosuch": 1}'), "batch_A")
    assert r.status_code == 200
    assert "HTTP/1.1 400 Bad Request" in r.text and "0x80048d19" in r.text
    assert "HTTP/1.1 200 OK" not in r.text  # stopped at the first failure
    assert len(api.get("accounts").json()["value"]) == before  # the change set rolled back
    r = _batch(
        dv, _changeset(dv, '{"lastname": "Bad", "nosuch": 1}'), "batch_A", "odata.continue-on-error"
    )
    assert "HTTP/1.1 400 Bad Request" in r.text and "HTTP/1.1 200 OK" in r.text


def test_more_than_1000_requests_is_refused(dv: DataverseEndpoint) -> None:
    part = (
        "--b\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\n"
        f"GET {dv.url}WhoAmI HTTP/1.1\n\n\n"
    )
    r = _batch(dv, part * 1001 + "--b--\n", "b")
    assert r.status_code == 400 and "1000" in r.json()["error"]["message"]


def test_content_id_in_url_and_get_in_changeset(dv: DataverseEndpoint) -> None:
    body = f"""--batch_C
Content-Type: multipart/mixed; boundary=cs_D

--cs_D
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

POST {dv.url}leads HTTP/1.1
Content-Type: application/json

{{"lastname": "Ref"}}
--cs_D
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

PATCH $1 HTTP/1.1
Content-Type: application/json

{{"companyname": "Patched via $1"}}
--cs_D--
--batch_C--
"""
    assert _batch(dv, body, "batch_C").status_code == 200
    api = httpx.Client(base_url=dv.url, headers=dv.headers())
    lead = api.get("leads", params={"$filter": "lastname eq 'Ref'"}).json()["value"][0]
    assert lead["companyname"] == "Patched via $1"
    bad = body.replace("PATCH $1 HTTP/1.1", f"GET {dv.url}leads HTTP/1.1")
    r = _batch(dv, bad, "batch_C")
    assert r.status_code == 400 and "GET requests are not allowed" in r.json()["error"]["message"]
