from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulators.dataverse.testing import DataverseEndpoint, run_dataverse


@pytest.fixture(scope="module")
def dv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataverseEndpoint]:
    with run_dataverse(tmp_path_factory.mktemp("dv"), key_activation_seconds=0.6) as endpoint:
        yield endpoint


@pytest.fixture
def api(dv: DataverseEndpoint) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=dv.url, headers=dv.headers(), timeout=30) as client:
        yield client


def entity_id(response: httpx.Response) -> str:
    """The id inside an OData-EntityId header."""
    return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    return tmp_path / "data"
