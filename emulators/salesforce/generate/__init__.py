"""Generate a Leadfwd customer's Salesforce org as an org directory (docs/org-directory.md).

``generate_org(out, scale=..., seed=...)`` writes, in this order: users, accounts,
opportunities, contacts, leads, Leadfwd sequences/steps, enrollments with their engagement
events, activities, files, then the planted defects, the schema extensions, ``org.json``,
``dataverse-users.json`` and ``defects.json``. The same ``(scale, seed)`` always gives the same
bytes: all randomness comes from ``random.Random`` seeded per section, time from a fixed base
date, and ids from counters.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.salesforce.generate import activities, companies, files, leadfwd, people
from emulators.salesforce.generate.defects import plant_defects
from emulators.salesforce.generate.defects_log import DefectLog
from emulators.salesforce.generate.population import MIN_SCALE, PLANTED_CONTACTS, Population
from emulators.salesforce.generate.schema import HIDDEN_FIELDS, schema_files
from emulators.salesforce.generate.sfids import make_id
from emulators.salesforce.generate.values import EMAIL_DOMAIN
from emulators.salesforce.generate.writer import IdAllocator, OrgWriter
from shared.errors import ConfigError

__all__ = ["GENERATED_PATHS", "GenerationSummary", "generate_org", "prepare_out_dir"]

# What a generated org directory consists of; ``--force`` removes exactly these.
GENERATED_PATHS = (
    "data", "files", "schema", "org.json", "defects.json", "dataverse-users.json", "org.sqlite",
)  # fmt: skip


@dataclass
class GenerationSummary:
    """What was written: counts per object, bytes of file bodies, planted defect rows."""

    out: Path
    scale: int
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    file_bytes: int = 0
    defects: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "scale": self.scale,
            "seed": self.seed,
            "records": sum(self.counts.values()),
            "counts": dict(sorted(self.counts.items())),
            "file_bytes": self.file_bytes,
            "defects": self.defects,
        }


def prepare_out_dir(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError([f"--out {out} exists and is not a directory"])
    existing = [p for p in GENERATED_PATHS if (out / p).exists()]
    if existing and not force:
        raise ConfigError(
            [f"--out {out} already holds an org ({', '.join(existing)}): "
             "choose an empty directory or pass --force to replace it"]
        )  # fmt: skip
    for name in existing:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    out.mkdir(parents=True, exist_ok=True)


def org_config(pop: Population) -> dict[str, Any]:
    """``org.json``: identity, integration user (emulator test credentials) and FLS."""
    rng = random.Random(f"{pop.seed}:credentials")
    return {
        "org_id": make_id("00D", 1 + pop.seed % 62**8),
        "name": f"Acme Outbound (generated, seed {pop.seed})",
        "namespace": "leadfwd__",
        "api_version": "59.0",
        "integration_user": {
            "id": pop.user_id(pop.integration_user_index),
            "username": f"integration@{EMAIL_DOMAIN}",
            "password": f"emulator-{rng.getrandbits(64):016x}",
            "client_id": f"3MVG9emulator{rng.getrandbits(96):024x}",
            "client_secret": f"{rng.getrandbits(256):064x}",
        },
        "daily_api_requests": max(15_000, 100_000 + pop.active_users * 1_000),
        "hidden_fields": HIDDEN_FIELDS,
        "source": {"generator": "generate-org", "seed": pop.seed, "scale": pop.scale},
    }


def generate_org(out: Path, *, scale: int, seed: int, force: bool = False) -> GenerationSummary:
    """Write a generated org with ``scale`` live contacts to ``out``.

    Args:
        out: The org directory to create.
        scale: Number of live contacts; every other object scales with it.
        seed: Seed of every random choice; same seed and scale give byte-identical output.
        force: Replace an org already in ``out`` (only the generator's own files are removed).

    Raises:
        ConfigError: ``scale`` is below the minimum or ``out`` already holds an org.
    """
    if scale < MIN_SCALE:
        raise ConfigError([f"--scale {scale} is too small: the minimum is {MIN_SCALE} contacts"])
    if seed < 0:
        raise ConfigError([f"--seed {seed} must be zero or positive"])
    prepare_out_dir(out, force)
    pop = Population(seed=seed, scale=scale)
    ids = IdAllocator()
    for sobject, count in (
        ("User", pop.users), ("Account", pop.accounts), ("Contact", pop.contacts),
        ("Lead", pop.leads), ("Opportunity", pop.opportunities),
        ("leadfwd__Sequence__c", pop.sequences),
    ):  # fmt: skip
        ids.reserve(sobject, count)
    log = DefectLog()
    with OrgWriter(out) as w:
        dynamics_users = companies.write_users(pop, w)
        companies.write_accounts(pop, w)
        companies.write_opportunities(pop, w)
        people.write_contacts(pop, w)
        people.write_leads(pop, w, log)
        leadfwd.write_sequences(pop, w, ids)
        leadfwd.write_enrollments(pop, w, ids)
        activities.write_activities(pop, w, ids)
        files.write_files(pop, w, ids)
        planted_contacts = plant_defects(pop, w, ids, log)
        if planted_contacts != PLANTED_CONTACTS:  # a programming error, caught by the tests
            raise RuntimeError(f"planted {planted_contacts} contacts, expected {PLANTED_CONTACTS}")
        for name, schema in schema_files().items():
            w.json_file(f"schema/{name}.json", schema)
        w.json_file("org.json", org_config(pop))
        w.json_file("dataverse-users.json", dynamics_users)
        w.json_file("defects.json", log.rows)
    return GenerationSummary(out, scale, seed, dict(w.counts), w.file_bytes, len(log.rows))
