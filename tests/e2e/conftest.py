"""End to end: a generated org migrated through both emulators by the real pipeline.

One module-scoped pipeline (org generated, emulators up over HTTPS with Dataverse throttling
on, schema deployed, mapping confirmed) is shared by the end-to-end tests, which run in the
order they are written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulators.dataverse.testing import DataverseEndpoint, run_dataverse
from emulators.salesforce.generate import generate_org
from emulators.salesforce.testing import SalesforceEndpoint, run_salesforce
from shared.demo import (
    DEFAULT_MAPPING,
    _deploy_schema,
    _seed_dynamics_users,
    _write_config,
    propose_org_mapping,
)
from shared.mapping_review.gate import confirm
from shared.settings import Settings, load_settings

SCALE = 60
SEED = 11
LIMITS = "scaled:30"


@dataclass
class Target:
    """One Dataverse environment prepared for a run (users seeded, schema deployed)."""

    workdir: Path
    config: Path
    settings: Settings
    dv: DataverseEndpoint

    def dump(self) -> dict[str, Any]:
        """The emulator's canonical dump (volatile columns split out)."""
        response = httpx.get(self.dv.admin_url + "dump", verify=str(self.dv.ca_cert), timeout=60)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


@dataclass
class Pipeline:
    """The source org and a way to prepare fresh targets against it."""

    root: Path
    org: Path
    sf: SalesforceEndpoint
    stack: Any

    def target(self, name: str, **faults: float) -> Target:
        """A fresh Dataverse emulator with users, schema and a confirmed mapping.

        ``faults`` (``rate_5xx``, ``drop_rate``, ``slow_seconds``) are switched on after the
        schema is deployed, for the migration itself.
        """
        workdir = self.root / name
        workdir.mkdir()
        dv = self.stack.enter_context(
            run_dataverse(
                workdir / "dataverse", tls=True, limits=LIMITS, key_activation_seconds=0.1
            )
        )
        dv_info = {
            "url": dv.url,
            "token": dv.token,
            "admin_url": dv.admin_url,
            "ca_cert": str(dv.ca_cert),
        }
        sf_info = {
            "instance_url": self.sf.instance_url,
            "username": self.sf.username,
            "password": self.sf.password,
            "ca_cert": str(self.sf.ca_cert),
        }
        _seed_dynamics_users(self.org, dv_info)
        config = _write_config(workdir, self.org, sf_info, dv_info)
        settings = load_settings(config)
        propose_org_mapping(settings, DEFAULT_MAPPING, settings.mapping.file)
        _deploy_schema(settings)
        confirm(settings.mapping.file, "e2e")
        if faults:
            httpx.put(
                dv.admin_url + "faults", json=faults, verify=str(dv.ca_cert), timeout=30
            ).raise_for_status()
        return Target(workdir, config, settings, dv)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    import contextlib

    root = tmp_path_factory.mktemp("e2e")
    org = root / "org"
    generate_org(org, scale=SCALE, seed=SEED)
    with contextlib.ExitStack() as stack:
        sf = stack.enter_context(run_salesforce(org, tls=True))
        yield Pipeline(root, org, sf, stack)
