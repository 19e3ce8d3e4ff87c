"""The stored resolution context: JSON lines, streamed both ways, old documents still load."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from shared.mapping.context import DynamicsUser, Flag, ResolutionContext
from shared.run import context_store
from shared.stage.local import LocalStage

NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


def _context(contacts: int) -> ResolutionContext:
    ids = frozenset(f"003{n:012d}AAA" for n in range(contacts))
    leads = frozenset(f"00Q{n:012d}AAA" for n in range(5))
    skipped = frozenset(sorted(leads)[:2])
    user = DynamicsUser("u-1", "Owner@Example.com")
    return ResolutionContext(
        namespace=NS,
        run_id="r1",
        migrated={"Contact": ids, "Lead": leads - skipped},
        present={"Contact": ids, "Lead": leads, "leadfwd__Sequence__c": frozenset()},
        users={"owner@example.com": user},
        fallback_owner=user,
        flags={
            ("Lead", i): (
                Flag("CONVERTED_LEAD", f"Lead {i} was converted", outcome="skipped_by_policy"),
            )
            for i in skipped
        },
        cut_links=frozenset({("Account", "001000000000001AAA", "ParentId")}),
        addresses={"a@example.com": ("contacts", str(uuid.uuid5(NS, "a")))},
    )


def test_a_context_of_many_chunks_round_trips_through_the_stage(tmp_path: Path) -> None:
    stage = LocalStage(tmp_path)
    ctx = _context(context_store.CHUNK * 2 + 7)
    context_store.save(stage, "r1", ctx)
    back = context_store.load(stage, "r1")
    assert back == ctx
    raw = stage.get_bytes(context_store.context_key("r1"))
    assert raw == context_store.encode(ctx)  # equal contexts, equal bytes
    lines = raw.splitlines()
    # Contact ids span three id lines (plus the marker line), none holds more than CHUNK.
    contact = [json.loads(line) for line in lines[1:]]
    contact = [p for p in contact if p.get("object") == "Contact" and p["part"] == "present"]
    assert [len(p["ids"]) for p in contact] == [0, context_store.CHUNK, context_store.CHUNK, 7]


def test_objects_that_skip_nothing_read_back_as_one_shared_set(tmp_path: Path) -> None:
    stage = LocalStage(tmp_path)
    context_store.save(stage, "r1", _context(10))
    back = context_store.load(stage, "r1")
    assert back.migrated["Contact"] is back.present["Contact"]
    assert back.migrated["Lead"] < back.present["Lead"]
    assert back.present["leadfwd__Sequence__c"] == frozenset()
    assert not back.is_migrated("Lead", sorted(back.present["Lead"])[0])


def test_a_context_stored_as_one_document_still_loads(tmp_path: Path) -> None:
    ctx = _context(3)
    document = {
        "namespace": str(ctx.namespace),
        "run_id": ctx.run_id,
        "migrated": {k: sorted(v) for k, v in ctx.migrated.items()},
        "present": {k: sorted(v) for k, v in ctx.present.items()},
        "users": {
            "owner@example.com": {"id": "u-1", "email": "Owner@Example.com", "disabled": False}
        },
        "fallback_owner": {"id": "u-1", "email": "Owner@Example.com", "disabled": False},
        "flags": [[o, i, [f.__dict__ for f in fl]] for (o, i), fl in sorted(ctx.flags.items())],
        "cut_links": [list(link) for link in ctx.cut_links],
        "addresses": {k: list(v) for k, v in ctx.addresses.items()},
        "owner_policy": "fallback",
    }
    stage = LocalStage(tmp_path)
    stage.put_bytes(context_store.context_key("r1"), json.dumps(document).encode())
    assert context_store.load(stage, "r1") == ctx
