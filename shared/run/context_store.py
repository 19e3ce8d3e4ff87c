"""Keep the run's resolution context on the stage as JSON lines.

The pre-passes (owners, duplicates, lead/contact overlap, account-parent cycles, which ids
will exist) run once, after extraction; every load activity, in any process, reads the same
result back. JSON rather than pickle: a person can open it, and nothing executable is read
from the stage.

The context holds every id of the org, so it is written and read in parts, never as one
document: a header line (namespace, run, users, owner policy), then lines of at most
``CHUNK`` ids or addresses or ``FLAG_CHUNK`` flags each. Writing streams line by line and
reading builds each object's id set from its lines, so neither holds a second copy of the
whole context as text.
An object that skips nothing stores its migrated ids as ``same_as_present`` and reads back as
one shared set. Contexts stored as one JSON document (before this format) still load.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from io import BytesIO
from typing import IO, Any

from shared.mapping.context import DynamicsUser, Flag, ResolutionContext
from shared.stage.base import Stage

CHUNK = 20_000
FLAG_CHUNK = 1_000
"""Flags per line: a flag is ~350 bytes of JSON, so 20,000 made a 7 MB line and ~50 MB of
Python while it was built or read, the peak of the context step and of a loader's index
build from 100,000 contacts on."""
FORMAT = 2


def context_key(run_id: str) -> str:
    """Where a run's resolution context is kept."""
    return f"{run_id}/context.json"


def _user(user: DynamicsUser | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "email": user.email, "disabled": user.disabled}


def _line(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, default=str).encode("utf-8") + b"\n"


def _chunks(items: list[Any], size: int | None = None) -> Iterator[list[Any]]:
    step = size or CHUNK
    for start in range(0, len(items), step):
        yield items[start : start + step]


def encode_lines(ctx: ResolutionContext) -> Iterator[bytes]:
    """The stored form, line by line (sorted, so equal contexts give equal bytes)."""
    yield _line(
        {
            "format": FORMAT,
            "namespace": str(ctx.namespace),
            "run_id": ctx.run_id,
            "users": {k: _user(v) for k, v in sorted(ctx.users.items())},
            "fallback_owner": _user(ctx.fallback_owner),
            "cut_links": sorted(list(link) for link in ctx.cut_links),
            "owner_policy": ctx.owner_policy,
        }
    )
    for obj, ids in sorted(ctx.present.items()):
        ordered = sorted(ids)
        yield _line({"part": "present", "object": obj, "ids": []})  # objects without ids too
        for part in _chunks(ordered):
            yield _line({"part": "present", "object": obj, "ids": part})
    for obj, ids in sorted(ctx.migrated.items()):
        if ids == ctx.present.get(obj):
            yield _line({"part": "migrated", "object": obj, "same_as_present": True})
            continue
        yield _line({"part": "migrated", "object": obj, "ids": []})
        for part in _chunks(sorted(ids)):
            yield _line({"part": "migrated", "object": obj, "ids": part})
    flags = sorted(ctx.flags.items())
    for part in _chunks(flags, FLAG_CHUNK):
        items = [[obj, sf_id, [f.__dict__ for f in fl]] for (obj, sf_id), fl in part]
        yield _line({"part": "flags", "items": items})
    for part in _chunks(sorted(ctx.addresses.items())):
        yield _line({"part": "addresses", "items": {k: list(v) for k, v in part}})


def encode(ctx: ResolutionContext) -> bytes:
    """The whole stored form as bytes (for small contexts and tests)."""
    return b"".join(encode_lines(ctx))


def user_from(value: dict[str, Any] | None) -> DynamicsUser | None:
    """A stored user (None stays None)."""
    return None if value is None else DynamicsUser(value["id"], value["email"], value["disabled"])


def _decode_document(raw: dict[str, Any]) -> ResolutionContext:
    """A context stored as one JSON document (the format before JSON lines)."""
    present = {k: frozenset(v) for k, v in raw["present"].items()}
    migrated = {
        k: present[k] if k in present and v == raw["present"][k] else frozenset(v)
        for k, v in raw["migrated"].items()
    }
    return _context(raw, present, migrated, raw["flags"], raw["addresses"])


def flag_from(stored: dict[str, Any]) -> Flag:
    """A stored pre-pass flag."""
    return Flag(**stored)


def _context(
    head: dict[str, Any],
    present: dict[str, frozenset[str]],
    migrated: dict[str, frozenset[str]],
    flags: Iterable[list[Any]],
    addresses: dict[str, list[str]],
) -> ResolutionContext:
    users = {k: u for k, v in head["users"].items() if (u := user_from(v)) is not None}
    return ResolutionContext(
        namespace=uuid.UUID(head["namespace"]),
        run_id=head["run_id"],
        migrated=migrated,
        present=present,
        users=users,
        fallback_owner=user_from(head["fallback_owner"]),
        flags={(obj, sf_id): tuple(flag_from(f) for f in fl) for obj, sf_id, fl in flags},
        cut_links=frozenset((a, b, c) for a, b, c in head["cut_links"]),
        addresses={k: (v[0], v[1]) for k, v in addresses.items()},
        owner_policy=head["owner_policy"],
    )


def read_parts(stream: IO[bytes]) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """The header of a stored context (JSON-lines format) and an iterator over its parts.

    Each part is one line: ``{"part": "present"|"migrated", "object", "ids"}`` (or
    ``"same_as_present": true``), ``{"part": "flags", "items"}`` or
    ``{"part": "addresses", "items"}``. A context stored as one document has no parts: its
    header is the whole document (no ``format`` key).
    """
    head: dict[str, Any] = json.loads(stream.readline())
    if "format" not in head:
        return head, iter(())
    return head, (json.loads(line) for line in stream)


def context_from_parts(head: dict[str, Any], parts: Iterable[dict[str, Any]]) -> ResolutionContext:
    """Build the in-memory context from :func:`read_parts` (either format)."""
    if "format" not in head:
        return _decode_document(head)
    present_ids: dict[str, list[str]] = {}
    migrated_ids: dict[str, list[str]] = {}
    same: list[str] = []
    flags: list[list[Any]] = []
    addresses: dict[str, list[str]] = {}
    for part in parts:
        kind = part["part"]
        if kind == "present":
            present_ids.setdefault(part["object"], []).extend(part["ids"])
        elif kind == "migrated" and part.get("same_as_present"):
            same.append(part["object"])
        elif kind == "migrated":
            migrated_ids.setdefault(part["object"], []).extend(part["ids"])
        elif kind == "flags":
            flags += part["items"]
        elif kind == "addresses":
            addresses.update(part["items"])
    present = {k: frozenset(present_ids.pop(k)) for k in list(present_ids)}
    migrated = {k: frozenset(migrated_ids.pop(k)) for k in list(migrated_ids)}
    migrated.update({k: present[k] for k in same})
    return _context(head, present, dict(sorted(migrated.items())), flags, addresses)


def decode_lines(stream: IO[bytes]) -> ResolutionContext:
    """Read a stored context line by line (either format) into memory."""
    return context_from_parts(*read_parts(stream))


def decode(data: bytes) -> ResolutionContext:
    """Inverse of :func:`encode`."""
    return decode_lines(BytesIO(data))


def _blocks(lines: Iterable[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    """Lines gathered into blocks of about ``size`` bytes (fewer, larger uploads)."""
    block: list[bytes] = []
    held = 0
    for line in lines:
        block.append(line)
        held += len(line)
        if held >= size:
            yield b"".join(block)
            block, held = [], 0
    if block:
        yield b"".join(block)


def digest_key(run_id: str) -> str:
    """Where the SHA-256 of a run's stored context is kept (names its local index)."""
    return f"{run_id}/context.sha256"


def save(stage: Stage, run_id: str, ctx: ResolutionContext) -> None:
    """Store an in-memory context (streamed, atomically), then its digest."""
    save_lines(stage, run_id, encode_lines(ctx))


def save_lines(stage: Stage, run_id: str, lines: Iterable[bytes]) -> None:
    """Store a context given as its stored lines (e.g. built on disk), then its digest."""
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for block in _blocks(lines):
            digest.update(block)
            yield block

    if stage.exists(digest_key(run_id)):
        # A digest must never name other content: a crash before the new one is written
        # leaves none, and readers then build their index without reusing a cached one.
        stage.delete(digest_key(run_id))
    stage.put_stream(context_key(run_id), hashed())
    stage.put_bytes(digest_key(run_id), digest.hexdigest().encode("ascii"))


def stored_digest(stage: Stage, run_id: str) -> str | None:
    """The digest :func:`save` wrote (None for contexts stored before digests)."""
    key = digest_key(run_id)
    return stage.get_bytes(key).decode("ascii").strip() if stage.exists(key) else None


def load(stage: Stage, run_id: str) -> ResolutionContext:
    """Read the run's context into memory (StageError when the run never got that far)."""
    with stage.open_read(context_key(run_id)) as stream:
        return decode_lines(stream)
