"""Target metadata read from the emulator: tables, bulk support, upload limit, choices."""

from __future__ import annotations

import httpx
import pytest

from emulators.dataverse.testing import DataverseEndpoint
from shared.dataverse.context import LoadContext
from shared.dataverse.metadata import (
    bulk_support,
    fetch_table,
    fetch_target_metadata,
    max_upload_file_size,
    missing_columns,
)
from shared.errors import SchemaError


async def test_table_names_primary_key_and_columns(context: LoadContext) -> None:
    account = await fetch_table(context.client, "account")
    assert (account.entity_set, account.primary_id) == ("accounts", "accountid")
    assert account.attributes["name"].type == "String"
    assert account.odata_type == "Microsoft.Dynamics.CRM.account"
    task = await fetch_table(context.client, "task")
    assert task.is_activity and task.primary_id == "activityid"


async def test_unknown_table_is_a_schema_error(context: LoadContext) -> None:
    with pytest.raises(SchemaError, match="table 'lfwd_nothing' does not exist"):
        await fetch_table(context.client, "lfwd_nothing")


async def test_bulk_support_is_asked_per_table(context: LoadContext) -> None:
    account = await bulk_support(context.client, "account")
    assert account.upsert_multiple and account.create_multiple and account.update_multiple
    user = await bulk_support(context.client, "systemuser")
    assert not (user.upsert_multiple or user.create_multiple or user.update_multiple)


async def test_max_upload_file_size_follows_the_organization(
    context: LoadContext, dataverse: DataverseEndpoint
) -> None:
    assert await max_upload_file_size(context.client) == 5_242_880
    httpx.patch(dataverse.admin_url + "organization", json={"maxuploadfilesize": 10_485_760})
    assert await max_upload_file_size(context.client) == 10_485_760


async def test_target_metadata_for_validation_carries_choices(context: LoadContext) -> None:
    meta = await fetch_target_metadata(context.client, ["account", "task"])
    industry = meta.table("account").columns["industrycode"]
    assert industry.options == frozenset(range(1, 34))
    assert meta.table("task").columns["statuscode"].options is not None
    assert meta.max_upload_bytes == 5_242_880


async def test_missing_columns_checks_plain_columns_and_binds(context: LoadContext) -> None:
    account = await fetch_table(context.client, "account")
    columns = [
        "name",
        "lfwd_sfaccountid",
        "parentaccountid@odata.bind",
        "ownerid@odata.bind",
        "nonsense@odata.bind",
    ]
    assert missing_columns(account, columns) == ["lfwd_sfaccountid", "nonsense@odata.bind"]
    contact = await fetch_table(context.client, "contact")
    assert missing_columns(contact, ["parentcustomerid_account@odata.bind"]) == []
