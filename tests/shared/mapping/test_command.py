"""``./migrate check-mapping``: valid files show the plan; invalid ones name line and key."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shared.cli import app
from shared.errors import ConfigError
from tests.shared.mapping.metadata_fixture import DEFAULT_MAP


def test_default_map_is_valid_and_shows_phases() -> None:
    result = CliRunner().invoke(app, ["check-mapping", str(DEFAULT_MAP), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    first = out["phases"][0]
    assert "account" in first["objects"]
    assert ["account", "parentaccountid"] in first["second_pass"]
    assert "contact.lfwd_sfcontactid" in out["columns"]


def test_invalid_file_is_a_config_error_naming_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nname: x\nobjects:\n  - name: a\n    source: A\n    target: account\n"
        "    entity_set: accounts\n    colour: red\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["check-mapping", str(bad)])
    assert isinstance(result.exception, ConfigError)
    assert result.exception.exit_code == 2
    assert result.exception.problems == [
        f"{bad}:8: objects[0].colour: unknown key; see docs/mapping.md for the valid keys"
    ]
