"""Owners are matched against the target's enabled users, read live from Dataverse."""

from __future__ import annotations

from pathlib import Path

import httpx

from emulators.dataverse.testing import run_dataverse
from shared.salesforce.dynamics_users import read_live
from shared.settings import DataverseSettings


def test_reads_enabled_user_emails_from_the_dataverse_emulator(tmp_path: Path) -> None:
    with run_dataverse(tmp_path / "dv") as ep:
        users = [
            {"internalemailaddress": "ana@x.test", "fullname": "Ana Ortiz"},
            {"internalemailaddress": "gone@x.test", "fullname": "Gone", "isdisabled": True},
        ]
        httpx.post(ep.admin_url + "systemusers", json=users, timeout=10).raise_for_status()
        settings = DataverseSettings(url=ep.base, auth="static_token", token=ep.token)
        emails, source = read_live(settings)
    assert emails is not None and "ana@x.test" in emails
    assert "gone@x.test" not in emails  # a disabled user cannot own records
    assert source == f"live from {ep.base}"


def test_unreachable_target_is_said_and_not_fatal(tmp_path: Path) -> None:
    settings = DataverseSettings(
        url="http://127.0.0.1:9", auth="static_token", token="t", max_retries=0
    )
    emails, source = read_live(settings)
    assert emails is None
    assert source.startswith("Dataverse at http://127.0.0.1:9 not usable")


def test_not_configured() -> None:
    assert read_live(DataverseSettings()) == (None, "dataverse.url is not configured")
