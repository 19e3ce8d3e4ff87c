"""propose-map → review → confirm-map as a user runs them: real ./migrate processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import MappingNotConfirmedError
from shared.mapping_review.gate import require_confirmed
from tests.test_cli import run_migrate


@pytest.fixture(scope="module")
def flow(vendor_dirs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "maps" / "acme.yaml"
    src, tgt = vendor_dirs
    result = run_migrate(
        "propose-map",
        "--out",
        str(out),
        "--source-describe",
        str(src),
        "--target-metadata",
        str(tgt),
    )
    assert result.returncode == 0, result.stderr
    assert "mapped" in result.stdout and "Next: ./migrate review" in result.stdout
    return out


def test_propose_writes_the_mapping_and_the_proposal_beside_it(flow: Path) -> None:
    assert flow.read_text(encoding="utf-8").startswith("# status: proposed by")
    assert flow.with_name("acme.yaml.proposal.json").is_file()


def test_propose_will_not_overwrite_without_force(
    flow: Path, vendor_dirs: tuple[Path, Path]
) -> None:
    src, tgt = vendor_dirs
    args = ["propose-map", "--out", str(flow), "--source-describe", str(src)]
    result = run_migrate(*args, "--target-metadata", str(tgt))
    assert result.returncode == 2 and "pass --force" in result.stderr
    half = run_migrate(
        "propose-map", "--out", str(flow.with_name("x.yaml")), "--source-describe", str(src)
    )
    assert half.returncode == 2 and "give both" in half.stderr


def test_live_mode_needs_the_connections_configured(tmp_path: Path) -> None:
    result = run_migrate("propose-map", "--out", str(tmp_path / "m.yaml"))
    assert result.returncode == 2
    assert "salesforce.instance_url" in result.stderr
    assert not (tmp_path / "m.yaml").exists()


def test_review_then_confirm_then_edit(flow: Path) -> None:
    reviewed = run_migrate("review", str(flow))
    assert reviewed.returncode == 0, reviewed.stderr
    assert f"{flow}: proposed" in reviewed.stdout
    page = flow.with_name("mapping-review.html")
    assert page.is_file() and "Mapping review: acme.yaml" in page.read_text(encoding="utf-8")

    with pytest.raises(MappingNotConfirmedError, match="has not been confirmed"):
        require_confirmed(flow)

    confirmed = run_migrate("confirm-map", str(flow), "--by", "Dana Admin")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "confirmed" in confirmed.stdout and "Dana Admin" in confirmed.stdout
    assert "unresolved" in confirmed.stdout  # the header still lists open decisions
    assert require_confirmed(flow).by == "Dana Admin"

    flow.write_text(flow.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(MappingNotConfirmedError, match="changed after Dana Admin confirmed"):
        require_confirmed(flow)


def test_review_without_a_proposal_is_a_usage_error(tmp_path: Path) -> None:
    lone = tmp_path / "m.yaml"
    lone.write_text("version: 1\n", encoding="utf-8")
    result = run_migrate("review", str(lone))
    assert result.returncode == 2 and "propose-map" in result.stderr
