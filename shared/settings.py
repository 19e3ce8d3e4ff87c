"""The one typed settings object, built once at the entry point.

Settings come from a YAML config file, overridden by environment variables named
``MIGRATION__<SECTION>__<KEY>`` (``__`` as the nested delimiter, as Azure app settings use).
Every secret is a :class:`pydantic.SecretStr`: it never appears in ``repr``, logs, errors or
reports. Nothing here reads the environment at import time; call :func:`load_settings`.

Every setting and its default is documented in ``docs/configuration.md``; a test keeps the two
in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shared.errors import ConfigError

ENV_PREFIX = "MIGRATION__"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunSettings(_Section):
    """Where a run keeps its state and reports."""

    workdir: Path = Field(
        Path("work"), description="Work directory; runs live in <workdir>/runs/<run-id>/."
    )
    run_id: str | None = Field(
        None, description="Fixed run id; generated from the clock when empty."
    )


class SalesforceSettings(_Section):
    """The source org. Leadfwd data is read from here."""

    instance_url: str | None = Field(None, description="e.g. https://acme.my.salesforce.com")
    auth: Literal["password", "client_credentials", "access_token"] = Field(
        "password", description="OAuth flow used to get a session."
    )
    login_url: str | None = Field(
        None,
        description="Token endpoint host; defaults to instance_url.",
    )
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    api_version: str = "59.0"
    ca_cert: Path | None = Field(None, description="PEM bundle to trust (emulator in --tls mode).")
    verify_tls: bool = True
    namespace: str = Field("leadfwd__", description="Leadfwd managed-package namespace prefix.")
    bulk_threshold: int = Field(
        10_000, ge=0, description="Objects above this count use Bulk API 2.0."
    )
    max_retries: int = Field(
        6, ge=0, description="Retries of one call after REQUEST_LIMIT_EXCEEDED, 5xx and drops."
    )
    retry_base_seconds: float = Field(
        1.0, gt=0, description="First backoff between retries; doubles each time, max 60."
    )
    bulk_poll_seconds: float = Field(
        2.0, ge=0, description="Wait before polling a Bulk API 2.0 query job for completion."
    )
    timeout_seconds: float = Field(120.0, gt=0, description="Timeout of one HTTP request.")


class DataverseSettings(_Section):
    """The target environment."""

    url: str | None = Field(None, description="Environment URL, e.g. https://org.crm.dynamics.com")
    auth: Literal["managed_identity", "default", "client_secret", "static_token"] = Field(
        "managed_identity", description="How to get a token; managed identity is the Azure default."
    )
    tenant_id: str | None = None
    client_id: str | None = Field(
        None, description="App registration, or user-assigned identity client id."
    )
    client_secret: SecretStr | None = None
    token: SecretStr | None = Field(None, description="Static bearer token (the emulator only).")
    ca_cert: Path | None = None
    verify_tls: bool = True
    fallback_owner_email: str | None = Field(
        None,
        description="Owner for records whose Salesforce owner is inactive or has no Dynamics user.",
    )
    solution: str | None = Field(None, description="Solution unique name for new columns and keys.")
    publisher_prefix: str = Field(
        "lfwd", description="Publisher customization prefix for new columns."
    )
    option_value_prefix: int = Field(
        72_700, description="Publisher option value prefix (first choice = prefix*10000)."
    )
    max_concurrency: int = Field(16, ge=1, description="Upper bound on parallel requests.")
    batch_size: int = Field(500, ge=1, le=1000, description="Records per bulk request.")
    timeout_seconds: float = Field(120.0, gt=0)
    max_retries: int = Field(
        8, ge=0, description="Retries of one request after 429s, 5xx, drops and timeouts."
    )
    retry_backoff_seconds: float = Field(
        1.0, gt=0, description="First backoff when no Retry-After is given; doubles, max 60."
    )
    custom_table_limit: int | None = Field(
        15,
        ge=1,
        description="Custom tables the licence plan allows; deploy-schema warns from 80%.",
    )
    key_timeout_seconds: float = Field(
        600.0, gt=0, description="How long deploy-schema waits for alternate keys to be Active."
    )


class StageSettings(_Section):
    """Where extracted batches live. Same layout in both backends."""

    backend: Literal["local", "blob"] = "local"
    path: Path | None = Field(
        None, description="Local stage directory; defaults to <workdir>/stage."
    )
    account_url: str | None = Field(
        None, description="Blob account URL (used with azure-identity)."
    )
    connection_string: SecretStr | None = Field(
        None, description="Blob connection string (Azurite)."
    )
    container: str = "staging"
    api_version: str | None = Field(None, description="Blob API version to pin (Azurite).")


class ExtractSettings(_Section):
    """Extraction from Salesforce."""

    batch_size: int = Field(2000, ge=1, description="Records per staged batch.")
    objects: list[str] | None = Field(
        None, description="Restrict to these objects; all mapped objects when empty."
    )
    parent_chunk: int = Field(
        200, ge=1, le=800, description="Parent ids per LinkedEntityId IN (...) query."
    )


class MappingSettings(_Section):
    """Which mapping file drives the run."""

    file: Path = Field(Path("mappings/leadfwd-to-dynamics365.yaml"))


class ReconcileSettings(_Section):
    """Per-phase gates."""

    tolerance: int = Field(
        0, ge=0, description="Unexplained differences allowed before a phase stops the run."
    )
    readback_sample: int = Field(
        10_000,
        ge=0,
        description="Read back every record up to this many per object, a sample above.",
    )
    spot_check: int = Field(
        30, ge=25, le=50, description="Records in the side-by-side spot-check sheet."
    )


class DeltaSettings(_Section):
    """Delta sync and cutover."""

    schedule: str | None = Field(
        None, description="NCRONTAB for the timer trigger; off when empty."
    )
    overlap_minutes: int = Field(
        15,
        ge=0,
        description="Minutes a delta re-reads before the last watermark (late commits).",
    )
    delete_policy: Literal["delete", "deactivate", "report"] = Field(
        "delete",
        description="What a delta does to rows deleted in Salesforce: delete (journalled, "
        "undone by rollback), deactivate (statecode), or report only.",
    )
    full_compare_hours: float = Field(
        24.0,
        gt=0,
        description="Compare full source id sets (finds rows purged from the recycle bin) "
        "when the last comparison is older than this; always at cutover.",
    )


class Settings(BaseSettings):
    """Everything a run needs. Built once by :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    run: RunSettings = Field(default_factory=RunSettings)
    salesforce: SalesforceSettings = Field(default_factory=SalesforceSettings)
    dataverse: DataverseSettings = Field(default_factory=DataverseSettings)
    stage: StageSettings = Field(default_factory=StageSettings)
    extract: ExtractSettings = Field(default_factory=ExtractSettings)
    mapping: MappingSettings = Field(default_factory=MappingSettings)
    reconcile: ReconcileSettings = Field(default_factory=ReconcileSettings)
    delta: DeltaSettings = Field(default_factory=DeltaSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over the file (passed as init kwargs); no .env or secrets dir.
        return (env_settings, init_settings)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"config file {path} does not exist"], source=str(path)) from None
    except OSError as exc:
        raise ConfigError(
            [f"config file {path} cannot be read: {exc.strerror}"], source=str(path)
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            [f"not valid YAML{where}: {getattr(exc, 'problem', exc)}"], source=str(path)
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            [f"top level must be a mapping of sections, got {type(data).__name__}"],
            source=str(path),
        )
    return data


def _describe(errors: list[Any], env: Mapping[str, str]) -> list[str]:
    problems = []
    for err in errors:
        key = ".".join(str(p) for p in err["loc"])
        value = err.get("input")
        env_name = ENV_PREFIX + "__".join(str(p) for p in err["loc"]).upper()
        origin = f" (from environment {env_name})" if env_name in {k.upper() for k in env} else ""
        if err["type"] == "extra_forbidden":
            problems.append(
                f"{key}: unknown setting{origin}; see docs/configuration.md for the valid keys"
            )
            continue
        if err["type"] == "missing":
            problems.append(f"{key}: required setting is missing{origin}")
            continue
        shown = "<secret>" if _looks_secret(key) else repr(value)
        problems.append(f"{key}: {shown} is not valid{origin}: {err['msg']}")
    return problems


def _looks_secret(key: str) -> bool:
    last = key.rsplit(".", 1)[-1]
    return last in {
        "password",
        "security_token",
        "client_secret",
        "access_token",
        "token",
        "connection_string",
    }


def load_settings(
    config_file: Path | str | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from a YAML file, overridden by ``MIGRATION__*`` environment variables.

    Args:
        config_file: YAML file; omitted means defaults plus environment only.
        overrides: Section dicts merged over the file (used by the demo and tests).

    Raises:
        ConfigError: One message per problem, naming the key, the value and what is expected.
    """
    data: dict[str, Any] = _read_yaml(Path(config_file)) if config_file is not None else {}
    for section, values in (overrides or {}).items():
        if isinstance(values, Mapping) and isinstance(data.get(section), dict):
            data[section] = {**data[section], **values}
        else:
            data[section] = values
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(
            _describe(exc.errors(), os.environ), source=str(config_file) if config_file else None
        ) from None


def render_reference() -> str:
    """The settings table of docs/configuration.md, generated from the models above."""
    lines = ["| Setting | Default | Environment variable | Meaning |", "|---|---|---|---|"]
    for section, top in Settings.model_fields.items():
        model = top.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for key, field in model.model_fields.items():
            default = field.get_default(call_default_factory=True)
            shown = "(secret)" if _looks_secret(f"{section}.{key}") and default is None else default
            shown = "—" if shown is None else shown
            env = f"{ENV_PREFIX}{section.upper()}__{key.upper()}"
            meaning = (field.description or "").replace("|", "\\|")
            lines.append(f"| `{section}.{key}` | `{shown}` | `{env}` | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_reference(), end="")
