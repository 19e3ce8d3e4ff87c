"""Tokens: the right credential per setting, the right scope, cached until near expiry."""

from __future__ import annotations

import re
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from pydantic import SecretStr

from shared.dataverse.auth import CredentialToken, StaticToken, scope_for, token_source
from shared.errors import AuthenticationError, ConfigError
from shared.settings import DataverseSettings


class CountingCredential:
    """An azure-core AsyncTokenCredential that records what it was asked for."""

    def __init__(self, lifetime: float, fail: bool = False) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.lifetime = lifetime
        self.fail = fail
        self.closed = False

    async def get_token(self, *scopes: str, **kw: Any) -> AccessToken:
        self.calls.append(scopes)
        if self.fail:
            raise ClientAuthenticationError(message="AADSTS7000215: Invalid client secret")
        return AccessToken(f"tok{len(self.calls)}", int(1_000 + self.lifetime))

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> CountingCredential:
        return self

    async def __aexit__(self, *a: object) -> None:
        await self.close()


def test_scope_is_the_environment_root() -> None:
    assert scope_for("https://acme.crm.dynamics.com/") == "https://acme.crm.dynamics.com/.default"
    assert scope_for("https://acme.crm4.dynamics.com/api/data/v9.2") == (
        "https://acme.crm4.dynamics.com/.default"
    )
    with pytest.raises(ConfigError, match="not an absolute"):
        scope_for("acme.crm.dynamics.com")


async def test_token_cached_until_five_minutes_before_expiry() -> None:
    now = [1_000.0]
    cred = CountingCredential(lifetime=3600)
    source = CredentialToken(cred, "https://o.crm.dynamics.com/.default", clock=lambda: now[0])  # type: ignore[arg-type]
    assert (await source.token()).get_secret_value() == "tok1"
    now[0] += 3000  # 10 minutes left: still cached
    assert (await source.token()).get_secret_value() == "tok1"
    now[0] += 400  # under 5 minutes left: refreshed
    assert (await source.token()).get_secret_value() == "tok2"
    assert (await source.token(force_refresh=True)).get_secret_value() == "tok3"
    assert cred.calls[0] == ("https://o.crm.dynamics.com/.default",)
    await source.close()
    assert cred.closed


async def test_refused_credential_is_authentication_error_without_secret() -> None:
    source = CredentialToken(CountingCredential(0, fail=True), "https://o/.default")  # type: ignore[arg-type]
    with pytest.raises(
        AuthenticationError, match=re.escape("could not get a token for https://o/.default")
    ):
        await source.token()


async def test_static_token_for_the_emulator() -> None:
    settings = DataverseSettings(auth="static_token", token=SecretStr("emu"))
    source = token_source(settings)
    assert isinstance(source, StaticToken)
    assert (await source.token()).get_secret_value() == "emu"
    with pytest.raises(ConfigError, match=r"dataverse\.token"):
        token_source(DataverseSettings(auth="static_token"))


async def test_credential_per_auth_setting() -> None:
    from azure.identity.aio import ClientSecretCredential, ManagedIdentityCredential

    url = "https://acme.crm.dynamics.com"
    managed = token_source(DataverseSettings(url=url, auth="managed_identity"))
    assert isinstance(managed, CredentialToken)
    assert isinstance(managed._credential, ManagedIdentityCredential)
    assert managed._scope == "https://acme.crm.dynamics.com/.default"
    await managed.close()
    secret = token_source(
        DataverseSettings(
            url=url,
            auth="client_secret",
            tenant_id="t",
            client_id="c",
            client_secret=SecretStr("s3cr3t"),
        )
    )
    assert isinstance(secret, CredentialToken)
    assert isinstance(secret._credential, ClientSecretCredential)
    await secret.close()


def test_client_secret_lists_every_missing_setting() -> None:
    with pytest.raises(ConfigError) as err:
        token_source(DataverseSettings(url="https://a.crm.dynamics.com", auth="client_secret"))
    assert err.value.problems == [
        "dataverse.tenant_id: required when dataverse.auth is client_secret",
        "dataverse.client_id: required when dataverse.auth is client_secret",
        "dataverse.client_secret: required when dataverse.auth is client_secret",
    ]
