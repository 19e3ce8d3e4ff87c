"""Keep the run's resolution context on the stage as JSON.

The pre-passes (owners, duplicates, lead/contact overlap, account-parent cycles, which ids
will exist) run once, after extraction; every load activity, in any process, reads the same
result back. JSON rather than pickle: a person can open it, and nothing executable is read
from the stage.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from shared.mapping.context import DynamicsUser, Flag, ResolutionContext
from shared.stage.base import Stage


def context_key(run_id: str) -> str:
    """Where a run's resolution context is kept."""
    return f"{run_id}/context.json"


def _user(user: DynamicsUser | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "email": user.email, "disabled": user.disabled}


def encode(ctx: ResolutionContext) -> bytes:
    """The JSON form of a context (sorted, so equal contexts give equal bytes)."""
    data = {
        "namespace": str(ctx.namespace),
        "run_id": ctx.run_id,
        "migrated": {k: sorted(v) for k, v in sorted(ctx.migrated.items())},
        "present": {k: sorted(v) for k, v in sorted(ctx.present.items())},
        "users": {k: _user(v) for k, v in sorted(ctx.users.items())},
        "fallback_owner": _user(ctx.fallback_owner),
        "flags": [
            [obj, sf_id, [flag.__dict__ for flag in flags]]
            for (obj, sf_id), flags in sorted(ctx.flags.items())
        ],
        "cut_links": sorted(list(link) for link in ctx.cut_links),
        "addresses": {k: list(v) for k, v in sorted(ctx.addresses.items())},
        "owner_policy": ctx.owner_policy,
    }
    return json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")


def decode(data: bytes) -> ResolutionContext:
    """Inverse of :func:`encode`."""
    raw = json.loads(data)

    def user(value: dict[str, Any] | None) -> DynamicsUser | None:
        return (
            None if value is None else DynamicsUser(value["id"], value["email"], value["disabled"])
        )

    users = {k: u for k, v in raw["users"].items() if (u := user(v)) is not None}
    return ResolutionContext(
        namespace=uuid.UUID(raw["namespace"]),
        run_id=raw["run_id"],
        migrated={k: frozenset(v) for k, v in raw["migrated"].items()},
        present={k: frozenset(v) for k, v in raw["present"].items()},
        users=users,
        fallback_owner=user(raw["fallback_owner"]),
        flags={(obj, sf_id): tuple(Flag(**f) for f in flags) for obj, sf_id, flags in raw["flags"]},
        cut_links=frozenset((a, b, c) for a, b, c in raw["cut_links"]),
        addresses={k: (v[0], v[1]) for k, v in raw["addresses"].items()},
        owner_policy=raw["owner_policy"],
    )


def save(stage: Stage, run_id: str, ctx: ResolutionContext) -> None:
    """Store the run's context."""
    stage.put_bytes(context_key(run_id), encode(ctx))


def load(stage: Stage, run_id: str) -> ResolutionContext:
    """Read the run's context (StageError when the run never got that far)."""
    return decode(stage.get_bytes(context_key(run_id)))
