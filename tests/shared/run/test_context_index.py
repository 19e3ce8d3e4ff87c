"""The on-disk context answers every batch exactly as the whole in-memory context does.

A load activity transforms a batch against ``ContextIndex.view(compiled.references(...))``:
a small context holding only what that batch refers to. If the references missed a field, a
lookup would silently be cleared or a party written as a bare address, so every record of a
generated org (defects included) and the golden samples are transformed both ways, in
batches, also after parents were quarantined (``without``).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from shared.mapping.context import DynamicsUser, Flag, References, ResolutionContext
from shared.mapping.prepare import build_context
from shared.mapping.transform import CompiledMapping, compile_mapping
from shared.run import context_index, context_store
from shared.run.context_index import ContextIndex, index_of
from shared.stage.local import LocalStage
from tests.shared.mapping.defects_run import generated_org
from tests.shared.mapping.metadata_fixture import (
    default_mapping,
    default_metadata,
    golden_context,
    golden_samples,
    metadata_for,
)
from tests.shared.mapping.orgdata import context_kwargs


def outcome(compiled: CompiledMapping, sobject: str, record: Any, ctx: ResolutionContext) -> str:
    try:
        return repr(compiled.transform(sobject, record, ctx))
    except Exception as exc:  # both ways must fail alike, too
        return f"raised {type(exc).__name__}: {exc}"


def compare_in_batches(
    compiled: CompiledMapping,
    staged: dict[str, list[dict[str, Any]]],
    ctx: ResolutionContext,
    index: ContextIndex,
    size: int = 97,
) -> dict[str, int]:
    """Transform every record both ways; return how much the views had to carry."""
    seen = {"records": 0, "flags": 0, "addresses": 0, "migrated": 0}
    for sobject, records in staged.items():
        if sobject not in compiled.by_source:
            continue
        for start in range(0, len(records), size):
            batch = records[start : start + size]
            view = index.view(compiled.references(sobject, batch))
            for record in batch:
                assert outcome(compiled, sobject, record, view) == outcome(
                    compiled, sobject, record, ctx
                ), (sobject, record.get("Id"))
                seen["records"] += 1
            seen["flags"] += len(view.flags)
            seen["addresses"] += len(view.addresses)
            seen["migrated"] += sum(len(ids) for ids in view.migrated.values())
    return seen


def test_every_record_of_a_generated_org_transforms_the_same_from_the_index(
    tmp_path: Path,
) -> None:
    org, mapping, staged = generated_org(tmp_path)
    ctx = build_context(staged, mapping, **context_kwargs(org))
    compiled = compile_mapping(mapping, metadata_for(mapping), check=False)
    index = index_of(ctx, tmp_path / "ctx.sqlite")
    seen = compare_in_batches(compiled, staged, ctx, index)
    # The comparison reached what could go wrong: flags, email parties, parents.
    assert seen["records"] > 1000
    assert seen["flags"] > 10 and seen["addresses"] > 10 and seen["migrated"] > 500

    # Parents quarantined by an earlier phase: the same on both sides.
    gone = {
        obj: frozenset(sorted(ctx.migrated[obj])[::3]) for obj in ("Account", "Contact", "Lead")
    }
    narrowed, narrowed_index = ctx, index
    for obj, ids in gone.items():
        narrowed = narrowed.without(obj, ids)
        narrowed_index = narrowed_index.without(obj, ids)
    compare_in_batches(compiled, staged, narrowed, narrowed_index, size=500)
    assert index.excluded == {}  # ``without`` leaves the original as it was


def test_golden_samples_transform_the_same_from_the_index(tmp_path: Path) -> None:
    samples = golden_samples()
    mapping = default_mapping()
    ctx = golden_context(mapping, samples)
    compiled = compile_mapping(mapping, default_metadata(), check=False)
    index = index_of(ctx, tmp_path / "ctx.sqlite")
    seen = compare_in_batches(compiled, samples["records"], ctx, index, size=3)
    assert seen["records"] >= len(mapping.objects)


CTX = ResolutionContext(
    namespace=uuid.UUID(int=7),
    run_id="r1",
    present={"Account": frozenset({"001A", "001B"}), "Sequence": frozenset({"a01A"})},
    migrated={"Account": frozenset({"001A"})},
    users={"u@x.com": DynamicsUser("u1", "u@x.com")},
    flags={("Account", "001B"): (Flag("DUPLICATE_EMAIL", "dup", "Email", "x"),)},
    cut_links=frozenset({("Account", "001A", "ParentId")}),
    addresses={"p@x.com": ("contacts", "c1")},
)


def test_a_view_holds_exactly_the_answers_asked_for(tmp_path: Path) -> None:
    odd = tmp_path / "temp dir #1?x%20"  # a temp directory may be named anything
    odd.mkdir()
    index = index_of(CTX, odd / "ctx.sqlite")
    view = index.view(
        References(
            "Account",
            frozenset({"001B", "001Z"}),
            frozenset({"001A", "001B", "a01A", "nope"}),
            frozenset({"p@x.com", "q@x.com"}),
        )
    )
    assert view.present == {"Account": {"001A", "001B"}, "Sequence": {"a01A"}}
    assert view.migrated == {"Account": {"001A"}}  # an object not migrated stays absent
    assert view.flags == CTX.flags and view.addresses == CTX.addresses
    assert (view.users, view.cut_links, view.namespace) == (CTX.users, CTX.cut_links, CTX.namespace)
    empty = index.view(References("Account", frozenset(), frozenset(), frozenset()))
    # Objects are known even when the batch refers to none of their ids (a check still runs).
    assert empty.present == {"Account": frozenset(), "Sequence": frozenset()}
    assert empty.flags == {} and empty.addresses == {}


def test_processes_of_one_machine_share_one_index_per_stored_context(tmp_path: Path) -> None:
    stage = LocalStage(tmp_path / "stage")
    context_store.save(stage, "r1", CTX)
    cache = tmp_path / "cache"
    first = context_index.open_local(stage, "r1", cache)
    again = context_index.open_local(stage, "r1", cache)
    assert first.path == again.path and first.path.exists()
    # Stored anew (a resumed run's pre-passes), the context gets a new index, never the old one.
    changed = ResolutionContext(
        namespace=CTX.namespace, run_id="r1", present={"Account": frozenset({"001Q"})}
    )
    context_store.save(stage, "r1", changed)
    fresh = context_index.open_local(stage, "r1", cache)
    assert fresh.path != first.path
    assert fresh.view(
        References("Account", frozenset(), frozenset({"001Q"}), frozenset())
    ).present == {"Account": {"001Q"}}
    # Another run whose name starts the same is not touched when this one is cleaned up.
    context_store.save(stage, "r1-b", CTX)
    other = context_index.open_local(stage, "r1-b", cache)
    assert context_index.remove_local("r1", cache) == 2
    assert other.path.exists() and not first.path.exists()


def test_a_context_stored_without_digest_or_as_one_document_still_loads(tmp_path: Path) -> None:
    stage = LocalStage(tmp_path / "stage")
    context_store.save(stage, "r1", CTX)
    stage.delete(context_store.digest_key("r1"))
    private = context_index.open_local(stage, "r1", tmp_path / "cache")
    assert "private" in private.path.name
    refs = References("Account", frozenset({"001B"}), frozenset({"001A"}), frozenset())
    assert private.view(refs).flags == CTX.flags
    # The format before JSON lines: one document.
    legacy = {
        "namespace": str(CTX.namespace),
        "run_id": "r1",
        "present": {k: sorted(v) for k, v in CTX.present.items()},
        "migrated": {k: sorted(v) for k, v in CTX.migrated.items()},
        "users": {"u@x.com": {"id": "u1", "email": "u@x.com", "disabled": False}},
        "fallback_owner": None,
        "flags": [["Account", "001B", [f.__dict__ for f in CTX.flags[("Account", "001B")]]]],
        "cut_links": [["Account", "001A", "ParentId"]],
        "addresses": {"p@x.com": ["contacts", "c1"]},
        "owner_policy": "fallback",
    }
    stage.put_bytes(context_store.context_key("r2"), json.dumps(legacy).encode())
    old = context_index.open_local(stage, "r2", tmp_path / "cache")
    assert old.view(refs).migrated == {"Account": {"001A"}}
    assert old.view(refs).flags == CTX.flags


def test_answers_forgotten_at_the_memo_bound_are_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context_index, "ANSWER_MEMO", 2)
    index = index_of(CTX, tmp_path / "ctx.sqlite")
    for ids in ({"001A", "001B", "a01A"}, {"001A"}, {"001B", "nope"}, {"001A", "001B", "a01A"}):
        view = index.view(References("Account", frozenset(), frozenset(ids), frozenset()))
        assert view.present["Account"] == CTX.present["Account"] & ids
        assert view.migrated["Account"] == CTX.migrated["Account"] & ids
        assert len(index._memo) <= 3  # the bound, or one batch's ids when it asks more
