"""End to end: a generated org migrated through both emulators by the real pipeline.

One module-scoped pipeline (org generated, Salesforce emulator up over HTTPS) is shared by
the end-to-end tests of a module, which run in the order they are written. Each test asks
for fresh Dataverse targets: the first call prepares a template environment once (users
seeded, schema deployed, mapping confirmed); every target is a new emulator started on a
copy of the template's data directory, with its own service-protection limits (throttling
on by default) and faults.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
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
from shared.mapping_review.gate import confirm, confirmation_path
from shared.settings import Settings, load_settings

SCALE = 60
SEED = 11
LIMITS = "scaled:30"
KEY_ACTIVATION_SECONDS = 0.1


@dataclass
class Target:
    """One Dataverse environment prepared for a run (users seeded, schema deployed)."""

    workdir: Path
    config: Path
    settings: Settings
    dv: DataverseEndpoint

    def tls(self) -> ssl.SSLContext:
        """Trust the emulator's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.dv.ca_cert))

    def dump(self) -> dict[str, Any]:
        """The emulator's canonical dump (volatile columns split out)."""
        response = httpx.get(self.dv.admin_url + "dump", verify=self.tls(), timeout=60)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def counters(self) -> dict[str, Any]:
        """The emulator's request counters since this target started."""
        response = httpx.get(self.dv.admin_url + "counters", verify=self.tls())
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def as_a_person(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request a person makes in Dynamics (an edit, a delete) while the environment is
        throttled: like any client, it waits out a 429 and tries again."""
        kwargs.setdefault("headers", self.dv.headers())
        for _attempt in range(30):
            reply = httpx.request(method, self.dv.url + path, verify=self.tls(), **kwargs)
            if reply.status_code != 429:
                return reply
            time.sleep(float(reply.headers.get("Retry-After", "1")))
        return reply

    def faults(self, **faults: float) -> None:
        """Change the emulator's injected faults (``rate_5xx``, ``drop_rate``, ``slow_seconds``)."""
        httpx.put(
            self.dv.admin_url + "faults", json=faults, verify=self.tls(), timeout=30
        ).raise_for_status()


def _dv_info(dv: DataverseEndpoint) -> dict[str, Any]:
    return {"url": dv.url, "token": dv.token, "admin_url": dv.admin_url, "ca_cert": str(dv.ca_cert)}


@dataclass
class Pipeline:
    """The source org and a way to prepare fresh targets against it."""

    root: Path
    org: Path
    sf: SalesforceEndpoint
    stack: contextlib.ExitStack
    _template: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _sf_info(self) -> dict[str, Any]:
        return {
            "instance_url": self.sf.instance_url,
            "username": self.sf.username,
            "password": self.sf.password,
            "ca_cert": str(self.sf.ca_cert),
        }

    def _prepared(self) -> Path:
        """The template workdir: users seeded, schema deployed, mapping confirmed (once)."""
        if self._template is None:
            work = self.root / "template"
            work.mkdir()
            # Deployed unthrottled: 140 metadata writes at 2 s of modelled server time each
            # would wait out half a minute of Retry-After under LIMITS, once per module.
            with run_dataverse(
                work / "dataverse", tls=True, key_activation_seconds=KEY_ACTIVATION_SECONDS
            ) as dv:
                _seed_dynamics_users(self.org, _dv_info(dv))
                settings = load_settings(
                    _write_config(work, self.org, self._sf_info(), _dv_info(dv))
                )
                propose_org_mapping(settings, DEFAULT_MAPPING, settings.mapping.file)
                _deploy_schema(settings)
                confirm(settings.mapping.file, "e2e")
            self._template = work
        return self._template

    def target(self, name: str, *, limits: str = LIMITS, **faults: float) -> Target:
        """A fresh Dataverse emulator with users, schema and a confirmed mapping.

        Args:
            name: The target's work directory under the module's root (must be new).
            limits: The emulator's service protection for the migration (``off``, ``real``,
                ``scaled:F``; see docs/emulators/dataverse.md).
            faults: ``rate_5xx``, ``drop_rate``, ``slow_seconds``, on from the start.

        Safe to call from several threads.
        """
        with self._lock:
            template = self._prepared()
            workdir = self.root / name
            workdir.mkdir()
            shutil.copytree(template / "dataverse", workdir / "dataverse")
            mapping = template / "mapping.yaml"
            for path in (mapping, confirmation_path(mapping)):
                shutil.copy2(path, workdir / path.name)
            dv = self.stack.enter_context(
                run_dataverse(
                    workdir / "dataverse",
                    tls=True,
                    limits=limits,
                    key_activation_seconds=KEY_ACTIVATION_SECONDS,
                )
            )
        config = _write_config(workdir, self.org, self._sf_info(), _dv_info(dv))
        target = Target(workdir, config, load_settings(config), dv)
        if faults:
            target.faults(**faults)
        return target


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    root = tmp_path_factory.mktemp("e2e")
    org = root / "org"
    generate_org(org, scale=SCALE, seed=SEED)
    with contextlib.ExitStack() as stack:
        sf = stack.enter_context(run_salesforce(org, tls=True))
        yield Pipeline(root, org, sf, stack)


def tables(dump: dict[str, Any]) -> dict[str, Any]:
    """A dump's tables without ``systemuser`` (the users seeded before any run)."""
    return {k: v for k, v in dump["tables"].items() if k != "systemuser"}


def _row_key(table: str, rows: list[dict[str, Any]]) -> str | None:
    """The column that identifies each row of ``table``, or None when none does.

    ``activitypartyid`` is volatile (moved out of the tables), and several parties share one
    ``activityid``: such tables are compared as multisets of whole rows.
    """
    for key in (f"{table}id", "activityid"):
        values = [r.get(key) for r in rows]
        if None not in values and len(set(values)) == len(values):
            return key
    return None


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Readable row/column differences between two dumps' tables (``a`` is the reference)."""
    out = []
    for table in sorted(set(a) | set(b)):
        rows_a, rows_b = a.get(table, []), b.get(table, [])
        key = _row_key(table, rows_a)
        if rows_b and _row_key(table, rows_b) != key:
            key = None
        if key is None:
            whole_a = Counter(json.dumps(r, sort_keys=True) for r in rows_a)
            whole_b = Counter(json.dumps(r, sort_keys=True) for r in rows_b)
            out += [f"{table}: only in the first dump: {r}" for r in sorted(whole_a - whole_b)]
            out += [f"{table}: only in the second dump: {r}" for r in sorted(whole_b - whole_a)]
            continue
        by_a = {r[key]: r for r in rows_a}
        by_b = {r[key]: r for r in rows_b}
        for rid in sorted(set(by_a) ^ set(by_b), key=str):
            out.append(f"{table} {rid}: only in the {'first' if rid in by_a else 'second'} dump")
        for rid in sorted(set(by_a) & set(by_b), key=str):
            for col in sorted(set(by_a[rid]) | set(by_b[rid])):
                if by_a[rid].get(col) != by_b[rid].get(col):
                    out.append(
                        f"{table} {rid} {col}: {by_a[rid].get(col)!r} != {by_b[rid].get(col)!r}"
                    )
    return out
