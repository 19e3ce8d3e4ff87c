"""The three commands end to end: ./migrate discover, extract and inventory on a generated org."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from emulators.salesforce.generate import generate_org
from emulators.salesforce.testing import SalesforceEndpoint, run_salesforce
from shared.cli import main
from shared.errors import ConfigError
from shared.salesforce.command import read_dynamics_users

REPO = Path(__file__).resolve().parents[3]


def migrate(*argv: str) -> int:
    """Run ``./migrate`` in-process and return its exit code (click exits via SystemExit)."""
    try:
        return main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)


def _config(ep: SalesforceEndpoint, tmp_path: Path) -> Path:
    cfg = {
        "run": {"workdir": str(tmp_path / "work")},
        "salesforce": {
            "instance_url": ep.instance_url,
            "username": ep.username,
            "password": ep.password,
            "client_id": ep.client_id,
            "client_secret": ep.client_secret,
            "retry_base_seconds": 0.01,
        },
        "mapping": {"file": str(REPO / "mappings" / "leadfwd-to-dynamics365.yaml")},
        "extract": {"batch_size": 50},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cmd") / "org"
    generate_org(out, scale=50, seed=11)
    return out


def test_discover_extract_inventory(
    org: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_salesforce(org) as ep:
        config = _config(ep, tmp_path)
        users = org / "dataverse-users.json"
        code = migrate(
            "discover", "--config", str(config), "--run-id", "r1", "--dynamics-users", str(users)
        )
        assert code == 0
        assert migrate("extract", "--config", str(config), "--run-id", "r1") == 0
        assert migrate("inventory", "--config", str(config), "--run-id", "r1") == 0
    reports = tmp_path / "work" / "runs" / "r1" / "reports"
    names = sorted(p.name for p in reports.iterdir())
    assert names == [
        "discovery.json",
        "discovery.md",
        "enrollments.csv",
        "extraction.json",
        "extraction.md",
        "sequences.csv",
        "sequences.json",
    ]
    discovery = json.loads((reports / "discovery.json").read_text())
    assert discovery["users"]["dynamics_checked"] is True
    extraction = json.loads((reports / "extraction.json").read_text())
    assert {o["status"] for o in extraction["objects"]} <= {"reconciled", "explained"}
    counts = {o["name"]: o["count"] for o in discovery["objects"]}
    by_object = {o["object"]: o for o in extraction["objects"]}
    assert by_object["Contact"]["extracted"] == counts["Contact"]
    assert by_object["Account"]["extracted"] == counts["Account"]
    # The stage holds what the report says.
    stage = tmp_path / "work" / "stage" / "r1" / "raw" / "Contact"
    manifests = [json.loads(p.read_text()) for p in sorted(stage.glob("*.manifest.json"))]
    assert sum(m["count"] for m in manifests) == by_object["Contact"]["extracted"]
    out = capsys.readouterr().out
    assert "complexity:" in out and "Contact:" in out and "sequences" in out


def test_unreachable_org_exits_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "salesforce": {
                    "instance_url": "https://127.0.0.1:9",
                    "username": "u",
                    "password": "p",
                    "client_id": "c",
                    "client_secret": "s",
                },
                "run": {"workdir": str(tmp_path)},
            }
        )
    )
    assert migrate("discover", "--config", str(cfg)) == 1
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "cannot connect" in err and "instance_url" in err
    assert err.count("error:") == 1


def test_dynamics_users_file_formats(tmp_path: Path) -> None:
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"internalemailaddress": "a@x"}, {"internalemailaddress": "b@x"}]))
    assert read_dynamics_users(rows) == ["a@x", "b@x"]
    odata = tmp_path / "odata.json"
    odata.write_text(json.dumps({"value": [{"internalemailaddress": "c@x"}]}))
    assert read_dynamics_users(odata) == ["c@x"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"name": "no email"}]))
    with pytest.raises(ConfigError, match="entry 1 has no email"):
        read_dynamics_users(bad)
