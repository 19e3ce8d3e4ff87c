"""Read and write org directories (format: ``docs/org-directory.md``).

``read_org_config`` validates ``org.json``; ``write_org_dir`` builds a small org directory
from Python dicts so tests anywhere in the project can serve an org without the generator.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.salesforce.errors import OrgDirectoryError

__all__ = ["IntegrationUser", "OrgConfig", "read_org_config", "read_schema_files", "write_org_dir"]

DEFAULT_ORG_ID = "00D000000000001EAA"
DEFAULT_USER_ID = "005000000000001AAA"


@dataclass(frozen=True)
class IntegrationUser:
    """The user the migration logs in as (its profile decides field-level security)."""

    id: str
    username: str
    password: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class OrgConfig:
    """``org.json``: identity, integration user, API allocation and hidden fields."""

    org_id: str
    name: str
    api_version: str
    user: IntegrationUser
    daily_api_requests: int
    hidden_fields: dict[str, list[str]]
    namespace: str = "leadfwd__"


def read_org_config(org_dir: Path) -> OrgConfig:
    """Load and check ``org_dir/org.json``.

    Raises:
        OrgDirectoryError: the file is missing, not JSON, or lacks a required key.
    """
    path = org_dir / "org.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OrgDirectoryError(
            [f"{path} does not exist: is {org_dir} an org directory (see docs/org-directory.md)?"],
            source=str(org_dir),
        ) from None
    except json.JSONDecodeError as exc:
        raise OrgDirectoryError(
            [f"{path} line {exc.lineno}: not valid JSON ({exc.msg})"], source=str(org_dir)
        ) from None
    problems: list[str] = []
    user = raw.get("integration_user") or {}
    for key in ("username", "password"):
        if not user.get(key):
            problems.append(f"{path}: integration_user.{key} is required")
    hidden = raw.get("hidden_fields") or {}
    if not isinstance(hidden, dict) or not all(isinstance(v, list) for v in hidden.values()):
        problems.append(f"{path}: hidden_fields must map object names to lists of field names")
        hidden = {}
    if problems:
        raise OrgDirectoryError(problems, source=str(org_dir))
    return OrgConfig(
        org_id=str(raw.get("org_id", DEFAULT_ORG_ID)),
        name=str(raw.get("name", org_dir.name)),
        api_version=str(raw.get("api_version", "59.0")),
        user=IntegrationUser(
            id=str(user.get("id", DEFAULT_USER_ID)),
            username=str(user["username"]),
            password=str(user["password"]),
            client_id=str(user.get("client_id", "emulator-client-id")),
            client_secret=str(user.get("client_secret", "emulator-client-secret")),
        ),
        daily_api_requests=int(raw.get("daily_api_requests", 100_000)),
        hidden_fields={str(k): [str(f) for f in v] for k, v in hidden.items()},
        namespace=str(raw.get("namespace", "leadfwd__")),
    )


def read_schema_files(org_dir: Path) -> list[dict[str, Any]]:
    """The org-specific ``schema/<Object>.json`` entries, in name order."""
    out: list[dict[str, Any]] = []
    folder = org_dir / "schema"
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise OrgDirectoryError(
                [f"{path} line {exc.lineno}: not valid JSON ({exc.msg})"], source=str(org_dir)
            ) from None
        if not isinstance(entry, dict) or "name" not in entry:
            raise OrgDirectoryError(
                [f"{path}: expected an object with 'name' and 'fields'"], source=str(org_dir)
            )
        out.append(entry)
    return out


def write_org_dir(
    path: Path,
    records: Mapping[str, list[dict[str, Any]]],
    *,
    schema: Mapping[str, list[dict[str, Any]] | dict[str, Any]] | None = None,
    hidden_fields: Mapping[str, list[str]] | None = None,
    files: Mapping[str, bytes] | None = None,
    daily_api_requests: int = 100_000,
    username: str = "integration@example.test",
    password: str = "emulator-password",  # noqa: S107 - a local test org's documented default
) -> Path:
    """Write a small org directory from plain dicts (for tests; the generator does big ones).

    Args:
        path: Directory to create (may exist; ``org.sqlite`` in it is removed so the next
            start loads these files).
        records: Object API name to records (API field names; ``Id`` required).
        schema: Object name to extra field entries (describe ``fields[]`` shape) for custom
            fields on standard objects; a name ending ``__c`` that is not built in becomes a
            custom object. The value may also be a whole ``schema/<Object>.json`` entry
            (``{"keyPrefix": "a07", "label": ..., "fields": [...]}``).
        hidden_fields: Object name to fields hidden from the integration user by FLS.
        files: Record id to binary body (ContentVersion.VersionData, Attachment.Body).
        daily_api_requests: The org's daily API request allocation.
        username: Integration user's username.
        password: Integration user's password.

    Returns:
        ``path``.
    """
    path.mkdir(parents=True, exist_ok=True)
    org = {
        "org_id": DEFAULT_ORG_ID,
        "name": f"Test org ({path.name})",
        "namespace": "leadfwd__",
        "api_version": "59.0",
        "integration_user": {
            "id": DEFAULT_USER_ID,
            "username": username,
            "password": password,
            "client_id": "emulator-client-id",
            "client_secret": "emulator-client-secret",
        },
        "daily_api_requests": daily_api_requests,
        "hidden_fields": dict(hidden_fields or {}),
        "source": {"generator": "write_org_dir"},
    }
    (path / "org.json").write_text(json.dumps(org, indent=2) + "\n", encoding="utf-8")
    if schema:
        (path / "schema").mkdir(exist_ok=True)
        for name, spec in schema.items():
            entry: dict[str, Any] = {"name": name, "custom": name.endswith("__c")}
            entry.update(spec if isinstance(spec, dict) else {"fields": spec})
            (path / "schema" / f"{name}.json").write_text(
                json.dumps(entry, indent=1) + "\n", encoding="utf-8"
            )
    (path / "data").mkdir(exist_ok=True)
    for name, rows in records.items():
        with (path / "data" / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    if files:
        (path / "files").mkdir(exist_ok=True)
        for record_id, body in files.items():
            (path / "files" / record_id).write_bytes(body)
    (path / "org.sqlite").unlink(missing_ok=True)
    return path
