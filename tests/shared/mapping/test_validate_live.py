"""Validation reads the live target: the Dataverse emulator over a real socket.

The default map's custom columns are deployed with the loader's ``deploy_schema`` (exactly the
``required_columns`` of the map), then the metadata is read the way a run reads it
(``EntityDefinitions(...)?$expand=Attributes`` plus the typed casts for option sets and
``organizations?$select=maxuploadfilesize``) and the map must fit it with no problem. A column
changed in the environment is caught before any record moves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from emulators.dataverse.testing import DataverseEndpoint, run_dataverse
from shared.dataverse.auth import StaticToken
from shared.dataverse.client import DataverseClient
from shared.dataverse.schema_deploy import deploy_schema
from shared.errors import SchemaError
from shared.mapping.columns import required_columns
from shared.mapping.target_metadata import TargetMetadata
from shared.mapping.transform import compile_mapping
from shared.mapping.validate import check_mapping
from tests.shared.mapping.metadata_fixture import default_mapping

CASTS = (
    "PicklistAttributeMetadata",
    "MultiSelectPicklistAttributeMetadata",
    "StatusAttributeMetadata",
    "StateAttributeMetadata",
)


def read_metadata(http: httpx.Client, dv: DataverseEndpoint, tables: list[str]) -> TargetMetadata:
    """What a run reads once: entity definitions, option sets, the upload limit."""
    entities: list[dict[str, Any]] = []
    picklists: dict[str, list[dict[str, Any]]] = {}
    for table in tables:
        base = f"{dv.url}EntityDefinitions(LogicalName='{table}')"
        reply = http.get(base + "?$expand=Attributes", headers=dv.headers())
        reply.raise_for_status()
        entities.append(reply.json())
        for cast in CASTS:
            got = http.get(
                f"{base}/Attributes/Microsoft.Dynamics.CRM.{cast}"
                "?$select=LogicalName&$expand=OptionSet",
                headers=dv.headers(),
            )
            if got.status_code == 200:
                picklists.setdefault(table, []).extend(got.json()["value"])
    org = http.get(dv.url + "organizations?$select=maxuploadfilesize", headers=dv.headers())
    org.raise_for_status()
    return TargetMetadata.from_entity_definitions(entities, picklists, org.json()["value"][0])


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with run_dataverse(tmp_path_factory.mktemp("dv"), key_activation_seconds=0.05) as dv:
        import asyncio

        async def deploy() -> None:
            async with httpx.AsyncClient(timeout=30) as http:
                client = DataverseClient(
                    http,
                    url=dv.base,
                    tokens=StaticToken(SecretStr(dv.token)),
                    backoff_seconds=0.02,
                )
                await deploy_schema(client, required_columns(default_mapping()), poll_seconds=0.02)

        asyncio.run(deploy())
        yield dv


TABLES = sorted({o.target for o in default_mapping().objects})


def test_default_map_fits_the_live_environment(deployed: DataverseEndpoint) -> None:
    with httpx.Client(timeout=30) as http:
        metadata = read_metadata(http, deployed, TABLES)
    assert check_mapping(default_mapping(), metadata) == []
    contact = metadata.table("contact")
    assert contact.column("lfwd_icebreakertext").max_length == 4000  # type: ignore[union-attr]
    assert contact.column("lfwd_engagementstatus").options == frozenset(  # type: ignore[union-attr]
        range(727000000, 727000006)
    )
    assert metadata.max_upload_bytes is not None
    compile_mapping(default_mapping(), metadata)


def test_problems_are_all_listed_before_any_write(deployed: DataverseEndpoint) -> None:
    with httpx.Client(timeout=30) as http:
        metadata = read_metadata(http, deployed, ["account", "contact"])
    mapping = default_mapping()
    contact = mapping.by_name("contact")
    broken = contact.model_copy(
        update={
            "fields": [
                *contact.fields,
                contact.fields[0].model_copy(update={"target": "lfwd_nosuchcolumn"}),
                contact.fields[1].model_copy(
                    update={"target": "birthdate", "transform": "integer"}
                ),
                contact.fields[1].model_copy(
                    update={
                        "target": "preferredcontactmethodcode",
                        "transform": "choice",
                        "values": {"Email": 2, "Pigeon": 99},
                    }
                ),
            ],
            "lookups": [contact.lookups[0].model_copy(update={"nav": "parentcustomerid_lead"})],
        }
    )
    small = mapping.model_copy(update={"objects": [mapping.by_name("account"), broken]})
    problems = check_mapping(small, metadata)
    assert problems == [
        "object 'contact' field Id → contact.lfwd_nosuchcolumn: column does not exist in the "
        "target (run deploy-schema first)",
        "object 'contact' field FirstName → contact.birthdate: transform 'integer' cannot fill "
        "a DateTime column",
        "object 'contact' field FirstName → contact.preferredcontactmethodcode: option value(s) "
        "99 do not exist in the target choice",
        "object 'contact': navigation 'parentcustomerid_lead' does not exist on contact",
    ]
    with pytest.raises(SchemaError) as info:
        compile_mapping(small, metadata)
    assert str(info.value).count("\n  - ") == 4


def test_missing_table_is_a_schema_problem(tmp_path: Path) -> None:
    metadata = TargetMetadata.from_entity_definitions([])
    problems = check_mapping(default_mapping(), metadata)
    assert "object 'account': table 'account' does not exist" in problems
    with pytest.raises(SchemaError):
        metadata.table("account")
