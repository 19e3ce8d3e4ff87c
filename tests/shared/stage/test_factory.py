"""open_stage builds the backend the settings name."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.settings import load_settings
from shared.stage.blob import BlobStage
from shared.stage.factory import open_stage
from shared.stage.local import LocalStage


def test_factory_defaults_to_workdir_stage(tmp_path: Path) -> None:
    settings = load_settings(overrides={"run": {"workdir": str(tmp_path)}})
    stage = open_stage(settings)
    assert isinstance(stage, LocalStage)
    assert stage.root == tmp_path / "stage"


def test_factory_blob_needs_a_location(tmp_path: Path) -> None:
    settings = load_settings(overrides={"stage": {"backend": "blob"}})
    with pytest.raises(ConfigError, match="connection_string"):
        open_stage(settings)


def test_factory_opens_blob_with_connection_string(azurite_connection_string: str) -> None:
    settings = load_settings(
        overrides={
            "stage": {
                "backend": "blob",
                "connection_string": azurite_connection_string,
                "container": "factorytest",
                "api_version": "2021-08-06",
            }
        }
    )
    stage = open_stage(settings)
    assert isinstance(stage, BlobStage)
    stage.put_bytes("k/x", b"1")
    assert stage.get_bytes("k/x") == b"1"
    assert "AccountKey" not in repr(settings.stage)
