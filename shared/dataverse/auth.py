"""Bearer tokens for the Dataverse Web API.

On Azure the Function App's managed identity is the default (no secret to rotate); locally a
developer uses ``DefaultAzureCredential`` (az login) or an app registration's client secret.
The emulator accepts a static token. All of them ask for the scope ``<environment url>/.default``
and the token is cached until five minutes before it expires, so a long load never sends an
expired token and never asks Entra for one per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError
from pydantic import SecretStr

from shared.errors import AuthenticationError, ConfigError
from shared.settings import DataverseSettings

__all__ = ["CredentialToken", "StaticToken", "TokenSource", "scope_for", "token_source"]

REFRESH_MARGIN_SECONDS = 300


class TokenSource(Protocol):
    """Something that hands out a current bearer token."""

    async def token(self, *, force_refresh: bool = False) -> SecretStr:
        """A token valid for at least a few minutes (a fresh one when ``force_refresh``)."""
        ...

    async def close(self) -> None:
        """Release any credential resources."""
        ...


def scope_for(url: str) -> str:
    """The token scope of an environment: ``https://org.crm.dynamics.com/.default``.

    Raises:
        ConfigError: ``url`` is not an absolute http(s) URL.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError([f"dataverse.url: {url!r} is not an absolute https URL"])
    return f"{parts.scheme}://{parts.netloc}/.default"


class StaticToken:
    """A fixed token (the emulator, or a token a person pasted for a one-off dry run)."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    async def token(self, *, force_refresh: bool = False) -> SecretStr:
        """The same token every time; a refresh cannot help a static token."""
        return self._token

    async def close(self) -> None:
        """Nothing to release."""


class CredentialToken:
    """Tokens from any azure-identity async credential, cached until near expiry.

    Args:
        credential: ManagedIdentityCredential, DefaultAzureCredential, ClientSecretCredential
            or any other ``AsyncTokenCredential``.
        scope: ``<environment url>/.default``.
        clock: Wall clock in epoch seconds (tokens carry ``expires_on`` in epoch seconds).
    """

    def __init__(
        self,
        credential: AsyncTokenCredential,
        scope: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credential = credential
        self._scope = scope
        self._clock = clock
        self._cached: tuple[SecretStr, float] | None = None

    async def token(self, *, force_refresh: bool = False) -> SecretStr:
        """A cached token, or a new one when it expires within five minutes.

        Raises:
            AuthenticationError: The identity platform refused the credential; the message
                names the scope, never a secret.
        """
        now = self._clock()
        if (
            not force_refresh
            and self._cached is not None
            and self._cached[1] - REFRESH_MARGIN_SECONDS > now
        ):
            return self._cached[0]
        try:
            access = await self._credential.get_token(self._scope)
        except ClientAuthenticationError as exc:
            raise AuthenticationError(
                f"could not get a token for {self._scope}: {type(exc).__name__}: "
                f"{exc.message or 'authentication failed'}. Check dataverse.auth, tenant_id and "
                "client_id, and that an application user exists in the environment."
            ) from None
        self._cached = (SecretStr(access.token), float(access.expires_on))
        return self._cached[0]

    async def close(self) -> None:
        """Close the underlying credential's HTTP pipeline."""
        await self._credential.close()


def token_source(settings: DataverseSettings) -> TokenSource:
    """Build the token source ``dataverse.auth`` asks for.

    Raises:
        ConfigError: A setting the chosen method needs is missing (one message each).
    """
    if settings.auth == "static_token":
        if settings.token is None:
            raise ConfigError(["dataverse.token: required when dataverse.auth is static_token"])
        return StaticToken(settings.token)
    if not settings.url:
        raise ConfigError(["dataverse.url: required to request a token"])
    scope = scope_for(settings.url)
    from azure.identity.aio import (
        ClientSecretCredential,
        DefaultAzureCredential,
        ManagedIdentityCredential,
    )

    credential: AsyncTokenCredential
    if settings.auth == "managed_identity":
        credential = ManagedIdentityCredential(client_id=settings.client_id)
    elif settings.auth == "default":
        credential = DefaultAzureCredential()
    else:
        problems = [
            f"dataverse.{name}: required when dataverse.auth is client_secret"
            for name, value in (
                ("tenant_id", settings.tenant_id),
                ("client_id", settings.client_id),
                ("client_secret", settings.client_secret),
            )
            if not value
        ]
        if problems:
            raise ConfigError(problems)
        assert settings.tenant_id and settings.client_id and settings.client_secret
        credential = ClientSecretCredential(
            settings.tenant_id, settings.client_id, settings.client_secret.get_secret_value()
        )
    return CredentialToken(credential, scope)
