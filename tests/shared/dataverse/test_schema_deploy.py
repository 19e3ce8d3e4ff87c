"""deploy-schema against the emulator: plan first, create, keys Active, publish, idempotent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulators.dataverse.testing import DataverseEndpoint, run_dataverse
from shared.cli import main
from shared.dataverse.metadata import fetch_table
from shared.dataverse.schema_deploy import PlanStep, column_body, deploy_schema
from shared.errors import SchemaError
from shared.mapping.columns import ColumnSpec
from tests.shared.dataverse.conftest import make_client

SPECS = [
    ColumnSpec(
        "account",
        "lfwd_sfaccountid",
        "lfwd_sfaccountid",
        "String",
        "SF Id",
        max_length=18,
        alternate_key=True,
    ),
    ColumnSpec("contact", "lfwd_leadscore", "lfwd_leadscore", "Integer", "Score"),
    ColumnSpec(
        "contact",
        "lfwd_status",
        "lfwd_status",
        "Picklist",
        "Status",
        options=((727000000, "Active"), (727000001, "Paused")),
    ),
    ColumnSpec(
        "contact",
        "lfwd_enrolledon",
        "lfwd_enrolledon",
        "DateTime",
        "Enrolled",
        date_format="DateOnly",
    ),
    ColumnSpec("contact", "lfwd_replied", "lfwd_replied", "Boolean", "Replied"),
    ColumnSpec("contact", "lfwd_mrr", "lfwd_mrr", "Money", "MRR", precision=2),
]


@pytest.fixture
def fast_keys(tmp_path: Path) -> Iterator[DataverseEndpoint]:
    with run_dataverse(tmp_path / "dv", key_activation_seconds=0.2) as endpoint:
        yield endpoint


async def test_plan_first_then_create_then_nothing_to_do(fast_keys: DataverseEndpoint) -> None:
    seen: list[list[PlanStep]] = []
    async with httpx.AsyncClient() as http:
        client = make_client(http, fast_keys)
        dry = await deploy_schema(client, SPECS, dry_run=True, on_plan=seen.append)
        assert [(p.kind, p.table, p.name, p.action) for p in dry.plan][:2] == [
            ("column", "account", "lfwd_sfaccountid", "create"),
            ("key", "account", "lfwd_sfaccountid_key", "create"),
        ]
        assert "lfwd_sfaccountid" not in (await fetch_table(client, "account")).attributes
        done = await deploy_schema(client, SPECS, poll_seconds=0.05, on_plan=seen.append)
        assert len(done.created) == len(SPECS) + 1
        assert done.published == ["account", "contact"]
        account = await fetch_table(client, "account", strong=True)
        assert account.attributes["lfwd_sfaccountid"].type == "String"
        assert account.attributes["lfwd_sfaccountid"].max_length == 18
        assert account.keys["lfwd_sfaccountid_key"] == (("lfwd_sfaccountid",), "Active")
        contact = await fetch_table(client, "contact")
        assert contact.attributes["lfwd_status"].type == "Picklist"
        again = await deploy_schema(client, SPECS, on_plan=seen.append)
        assert again.created == [] and again.published == []
        assert {p.action for p in again.plan} == {"exists"}
    assert len(seen) == 3  # the plan was shown before every change


async def test_clashing_column_stops_before_any_change(fast_keys: DataverseEndpoint) -> None:
    async with httpx.AsyncClient() as http:
        client = make_client(http, fast_keys)
        clash = [ColumnSpec("account", "name", "Name", "Integer", "Name"), SPECS[1]]
        with pytest.raises(SchemaError, match=r"account\.name exists as String"):
            await deploy_schema(client, clash)
        assert "lfwd_leadscore" not in (await fetch_table(client, "contact")).attributes


async def test_keys_not_active_in_time_is_a_clear_resumable_error(tmp_path: Path) -> None:
    with run_dataverse(tmp_path / "dv", key_activation_seconds=60) as endpoint:
        async with httpx.AsyncClient() as http:
            client = make_client(http, endpoint)
            with pytest.raises(SchemaError, match=r"not active after.*rerun deploy-schema"):
                await deploy_schema(client, SPECS[:1], key_timeout=0.2, poll_seconds=0.05)


@pytest.mark.parametrize(
    "spec,expected",
    [
        (
            ColumnSpec("c", "p_a", "p_a", "String", "A", max_length=40, format="Email"),
            {
                "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
                "MaxLength": 40,
                "FormatName": {"Value": "Email"},
            },
        ),
        (
            ColumnSpec("c", "p_a", "p_a", "Memo", "A"),
            {
                "@odata.type": "Microsoft.Dynamics.CRM.MemoAttributeMetadata",
                "MaxLength": 2000,
                "Format": "TextArea",
            },
        ),
        (
            ColumnSpec("c", "p_a", "p_a", "Decimal", "A", precision=4, min_value=0, max_value=10),
            {
                "@odata.type": "Microsoft.Dynamics.CRM.DecimalAttributeMetadata",
                "Precision": 4,
                "MinValue": 0,
                "MaxValue": 10,
            },
        ),
        (
            ColumnSpec("c", "p_a", "p_a", "DateTime", "A", date_format="DateOnly"),
            {
                "@odata.type": "Microsoft.Dynamics.CRM.DateTimeAttributeMetadata",
                "Format": "DateOnly",
            },
        ),
        (
            ColumnSpec("c", "p_a", "p_a", "Money", "A", precision=2),
            {"@odata.type": "Microsoft.Dynamics.CRM.MoneyAttributeMetadata", "PrecisionSource": 2},
        ),
    ],
    ids=["string", "memo", "decimal", "date", "money"],
)
def test_column_body_per_type(spec: ColumnSpec, expected: dict[str, object]) -> None:
    body = column_body(spec)
    assert {k: body[k] for k in expected} == expected
    assert body["SchemaName"] == "p_a"
    assert body["RequiredLevel"]["Value"] == "None"  # custom columns are never SystemRequired


def test_choice_without_options_is_refused() -> None:
    with pytest.raises(SchemaError, match="needs options"):
        column_body(ColumnSpec("contact", "p_s", "p_s", "Picklist", "S"))


def test_cli_dry_run_prints_plan_and_changes_nothing(
    fast_keys: DataverseEndpoint,
    tmp_path: Path,
    repo_root: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(
        f"dataverse:\n  url: {fast_keys.base}\n  auth: static_token\n  token: {fast_keys.token}\n"
        f"mapping:\n  file: {repo_root / 'mappings' / 'leadfwd-to-dynamics365.yaml'}\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as done:
        main(["deploy-schema", "--config", str(config), "--dry-run"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "Schema plan:" in out and "+ create column lfwd_sfaccountid" in out
    assert "Dry run: nothing was changed." in out
    rows = httpx.get(
        fast_keys.url + "EntityDefinitions(LogicalName='account')?$expand=Attributes",
        headers=fast_keys.headers(),
    ).json()
    assert "lfwd_sfaccountid" not in {a["LogicalName"] for a in rows["Attributes"]}
