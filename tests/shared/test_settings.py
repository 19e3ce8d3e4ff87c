"""Settings: file + environment, one message per problem, secrets never shown."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_values_and_defaults(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        "salesforce:\n  instance_url: https://acme.my.salesforce.com\n  username: int@acme.com\n"
        "dataverse:\n  url: https://acme.crm.dynamics.com\n  batch_size: 250\n",
    )
    s = load_settings(cfg)
    assert s.salesforce.instance_url == "https://acme.my.salesforce.com"
    assert s.dataverse.batch_size == 250
    assert s.dataverse.auth == "managed_identity"  # the Azure default
    assert s.stage.backend == "local"


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path, "dataverse:\n  batch_size: 250\n")
    monkeypatch.setenv("MIGRATION__DATAVERSE__BATCH_SIZE", "100")
    monkeypatch.setenv("MIGRATION__SALESFORCE__CLIENT_SECRET", "from-key-vault")
    s = load_settings(cfg)
    assert s.dataverse.batch_size == 100
    assert s.salesforce.client_secret is not None
    assert s.salesforce.client_secret.get_secret_value() == "from-key-vault"


def test_one_message_per_problem_naming_key_value_and_expectation(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        "salesforce:\n  auth: oauth3\n  bulk_threshold: -5\n"
        "dataverse:\n  batch_size: 5000\n  colour: blue\n"
        "nonsense_section:\n  a: 1\n",
    )
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    problems = err.value.problems
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert "salesforce.auth: 'oauth3'" in text and "'password'" in text
    assert "salesforce.bulk_threshold: -5" in text and "greater than or equal to 0" in text
    assert "dataverse.batch_size: 5000" in text and "less than or equal to 1000" in text
    assert "dataverse.colour: unknown setting" in text
    assert "nonsense_section: unknown setting" in text
    assert str(cfg) in str(err.value)
    assert err.value.exit_code == 2


def test_environment_origin_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRATION__DATAVERSE__MAX_CONCURRENCY", "zero")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "from environment MIGRATION__DATAVERSE__MAX_CONCURRENCY" in str(err.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("salesforce: [1, 2\n", "not valid YAML at line"),
        ("- just\n- a list\n", "top level must be a mapping"),
    ],
)
def test_unparseable_files(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_settings(write(tmp_path, text))


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_secrets_never_appear_in_repr_errors_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Sup3r-Secret-Value"
    cfg = write(
        tmp_path,
        f"salesforce:\n  password: {secret}\n  client_secret: {secret}\n"
        f"  security_token: {secret}\n"
        f"dataverse:\n  client_secret: {secret}\n  token: {secret}\n"
        f"stage:\n  connection_string: {secret}\n",
    )
    s = load_settings(cfg)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("settings: %s / %r", s, s)
    assert secret not in repr(s)
    assert secret not in str(s)
    assert secret not in s.model_dump_json()
    assert secret not in caplog.text
    # A validation error on a secret field does not echo the secret either.
    bad = write(tmp_path, f"dataverse:\n  token: {{nested: {secret}}}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(bad)
    assert secret not in str(err.value)


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+\.[a-z_0-9]+)`", doc))
    declared = {
        f"{section}.{key}"
        for section, field in Settings.model_fields.items()
        for key in field.annotation.model_fields  # type: ignore[union-attr]
    }
    assert declared - documented == set(), "settings missing from docs/configuration.md"
    assert documented - declared == set(), "docs/configuration.md lists settings that do not exist"
