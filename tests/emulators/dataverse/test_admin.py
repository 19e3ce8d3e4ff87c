from __future__ import annotations

import base64
from pathlib import Path

import httpx

from emulators.dataverse.testing import run_dataverse


def test_dump_is_canonical_and_survives_restart(tmp_path: Path) -> None:
    with run_dataverse(tmp_path) as dv:
        api = httpx.Client(base_url=dv.url, headers=dv.headers())
        api.post("accounts", json={"name": "Keep"})
        first = httpx.get(dv.admin_url + "dump").json()
        token = dv.token
    with run_dataverse(tmp_path) as dv:
        assert dv.token == token
        again = httpx.get(dv.admin_url + "dump").json()
        assert again["tables"] == first["tables"]
        assert [r["name"] for r in again["tables"]["account"]] == ["Keep"]
        assert "versionnumber" not in again["tables"]["account"][0]
        assert next(iter(again["volatile"]["account"].values()))["versionnumber"] > 0
        httpx.post(dv.admin_url + "reset").raise_for_status()
        assert httpx.get(dv.admin_url + "dump").json()["tables"]["account"] == []
        assert httpx.get(dv.url + "WhoAmI", headers=dv.headers()).status_code == 200


def test_custom_choice_columns_survive_restart(tmp_path: Path) -> None:
    tier = {
        "@odata.type": "Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        "SchemaName": "lfwd_Tier",
        "OptionSet": {"Options": [{"Value": 727000000, "Label": {"LocalizedLabels": []}}]},
    }
    with run_dataverse(tmp_path) as dv:
        api = httpx.Client(base_url=dv.url, headers=dv.headers())
        created = api.post("EntityDefinitions(LogicalName='account')/Attributes", json=tier)
        assert created.status_code == 204, created.text
    with run_dataverse(tmp_path) as dv:
        api = httpx.Client(base_url=dv.url, headers=dv.headers())
        assert api.post("accounts", json={"name": "A", "lfwd_tier": 727000000}).status_code == 204
        refused = api.post("accounts", json={"name": "B", "lfwd_tier": 1})
        assert refused.json()["error"]["code"] == "0x8004431A"


def test_faults_are_settable_and_injected(tmp_path: Path) -> None:
    with run_dataverse(tmp_path, fault_5xx=1.0) as dv:
        assert httpx.get(dv.url + "WhoAmI", headers=dv.headers()).status_code == 503
        assert (
            httpx.put(dv.admin_url + "faults", json={"rate_5xx": 0, "drop_rate": 1}).json()[
                "drop_rate"
            ]
            == 1
        )
        try:
            httpx.get(dv.url + "WhoAmI", headers=dv.headers())
            raise AssertionError("expected a dropped connection")
        except httpx.TransportError:
            pass
        httpx.put(dv.admin_url + "faults", json={"drop_rate": 0})
        assert httpx.get(dv.url + "WhoAmI", headers=dv.headers()).status_code == 200
        assert httpx.put(dv.admin_url + "faults", json={"rate_5xx": 2}).status_code == 400
        counters = httpx.get(dv.admin_url + "counters").json()
        assert counters["injected"] == {"5xx": 1, "drop": 1}


def test_chunked_note_upload_and_download(tmp_path: Path) -> None:
    with run_dataverse(tmp_path) as dv:
        api = httpx.Client(base_url=dv.url, headers=dv.headers())
        httpx.patch(dv.admin_url + "organization", json={"maxuploadfilesize": 10})
        note = "a6f3c1d2-0000-4000-8000-000000000001"
        target = {
            "annotationid": note,
            "subject": "big",
            "filename": "f.bin",
            "mimetype": "application/octet-stream",
            "@odata.type": "Microsoft.Dynamics.CRM.annotation",
        }
        token = api.post("InitializeAnnotationBlocksUpload", json={"Target": target}).json()[
            "FileContinuationToken"
        ]
        content = bytes(range(256)) * 3
        blocks = []
        for i in range(3):
            block_id = base64.b64encode(f"{i:08d}".encode()).decode()
            blocks.append(block_id)
            r = api.post(
                "UploadBlock",
                json={
                    "BlockId": block_id,
                    "FileContinuationToken": token,
                    "BlockData": base64.b64encode(content[i * 256 : (i + 1) * 256]).decode(),
                },
            )
            assert r.status_code == 204
        done = api.post(
            "CommitAnnotationBlocksUpload",
            json={"Target": target, "BlockList": blocks, "FileContinuationToken": token},
        ).json()
        assert done == {"AnnotationId": note, "FileSizeInBytes": 768}
        body = api.get(f"annotations({note})/documentbody/$value").text
        assert base64.b64decode(body) == content
        dl = api.post(
            "InitializeAnnotationBlocksDownload",
            json={
                "Target": {"annotationid": note, "@odata.type": "Microsoft.Dynamics.CRM.annotation"}
            },
        ).json()
        assert dl["FileSizeInBytes"] == 768
        part = api.post(
            "DownloadBlock",
            json={
                "Offset": 256,
                "BlockLength": 256,
                "FileContinuationToken": dl["FileContinuationToken"],
            },
        ).json()
        assert base64.b64decode(part["Data"]) == content[256:512]
