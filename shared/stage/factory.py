"""Build the configured stage backend from settings (the one place that decides which)."""

from __future__ import annotations

from typing import Any

from shared.errors import ConfigError
from shared.settings import Settings
from shared.stage.base import Stage


def open_stage(settings: Settings) -> Stage:
    """Open the stage the settings describe.

    ``local`` (default): ``stage.path``, or ``<workdir>/stage`` when unset.
    ``blob``: ``stage.connection_string`` (Azurite, or a key-based account), else
    ``stage.account_url`` with azure-identity's ``DefaultAzureCredential`` (managed identity on
    Azure). ``stage.api_version`` pins the Blob REST version (Azurite lags the SDK).

    Raises:
        ConfigError: blob backend without a connection string or account URL.
    """
    cfg = settings.stage
    if cfg.backend == "local":
        from shared.stage.local import LocalStage

        return LocalStage(cfg.path or settings.run.workdir / "stage")

    from azure.storage.blob import BlobServiceClient

    from shared.stage.blob import BlobStage

    extra: dict[str, Any] = {}
    if cfg.api_version:
        extra["api_version"] = cfg.api_version
    if cfg.connection_string is not None:
        service = BlobServiceClient.from_connection_string(
            cfg.connection_string.get_secret_value(), **extra
        )
    elif cfg.account_url:
        from azure.identity import DefaultAzureCredential

        service = BlobServiceClient(cfg.account_url, credential=DefaultAzureCredential(), **extra)
    else:
        raise ConfigError(
            [
                "stage.backend is 'blob' but neither stage.connection_string nor "
                "stage.account_url is set"
            ]
        )
    return BlobStage(service.get_container_client(cfg.container))
