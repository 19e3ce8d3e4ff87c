"""Which Salesforce users have a Dynamics user: the enabled ``systemuser`` emails of the target.

Discovery matches owners by email. When ``dataverse.url`` is configured and reachable the
emails are read live through the loader's Dataverse client (its retries, throttling and
error classification); otherwise discovery says the match was not checked and goes on.
Disabled Dynamics users do not count as matches: they cannot own records.
"""

from __future__ import annotations

import asyncio
from typing import Any

from shared.errors import MigrationError
from shared.settings import DataverseSettings

_QUERY = {"$select": "internalemailaddress,isdisabled", "$filter": "isdisabled eq false"}


async def fetch_enabled_user_emails(client: Any) -> list[str]:
    """Every enabled systemuser's ``internalemailaddress``, following ``@odata.nextLink``."""
    emails: list[str] = []
    response = await client.request("GET", "systemusers", params=_QUERY, action="systemusers")
    while True:
        body = response.json()
        emails.extend(
            str(row["internalemailaddress"])
            for row in body.get("value", [])
            if row.get("internalemailaddress") and not row.get("isdisabled")
        )
        link = body.get("@odata.nextLink")
        if not link:
            return emails
        response = await client.request("GET", str(link), action="systemusers")


def read_live(settings: DataverseSettings) -> tuple[list[str] | None, str]:
    """``(emails, where from)``; ``(None, why not)`` when the target is not configured/reachable."""
    if not settings.url:
        return None, "dataverse.url is not configured"

    async def run() -> list[str]:
        from shared.dataverse.auth import token_source
        from shared.dataverse.client import DataverseClient, http_client

        async with http_client(settings) as http:
            client = DataverseClient.from_settings(http, settings, token_source(settings))
            return await fetch_enabled_user_emails(client)

    try:
        return asyncio.run(run()), f"live from {settings.url}"
    except MigrationError as exc:
        return None, f"Dataverse at {settings.url} not usable: {exc.message}"
