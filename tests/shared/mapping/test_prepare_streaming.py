"""The pre-passes stream: one pass over each object, the same context as over whole records.

A generated org (with its planted duplicates, converted leads, lead/contact overlaps, parent
cycles and superseded tasks) is extracted through the Salesforce emulator into a stage; the
context built from one-shot generators over the stage must equal the one built from lists, and
its flags must equal the pre-passes run over the complete, materialised records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.ids import to_18
from shared.mapping import dedup
from shared.mapping.activities import matches
from shared.mapping.models import Mapping
from shared.mapping.prepare import build_context, fields_read
from shared.run import context_store
from tests.shared.mapping.defects_run import generated_org
from tests.shared.mapping.orgdata import OneShot, context_kwargs


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Mapping, dict[str, Any]]:
    return generated_org(tmp_path_factory.mktemp("streaming"), scale=300, seed=5)


def test_one_pass_per_object_gives_the_same_context_as_lists(
    org: tuple[Path, Mapping, dict[str, Any]],
) -> None:
    out, mapping, staged = org
    from_lists = build_context(staged, mapping, **context_kwargs(out))
    streams = {obj: OneShot(recs) for obj, recs in staged.items()}
    streamed = build_context(streams, mapping, **context_kwargs(out))
    assert all(s.passes == 1 for s in streams.values())
    assert context_store.encode(streamed) == context_store.encode(from_lists)


def _materialised_flags(staged: dict[str, Any], mapping: Mapping) -> dict[Any, Any]:
    """The pre-passes over whole records, every object held in memory at once."""
    live = {o: dedup.live(r, mapping.policies.deleted_field) for o, r in staged.items()}
    dd, pol = mapping.dedup, mapping.policies
    parts = []
    for person in dd.people:
        parts.append(dedup.duplicate_emails(person, live.get(person, []), dd.email_field))
        assert dd.external_id_field and dd.created_by_sync_field
        parts.append(
            dedup.missing_external_ids(
                person, live.get(person, []), dd.external_id_field, dd.created_by_sync_field
            )
        )
    parts.append(dedup.converted_leads(live.get("Lead", []), pol))
    leads = [r for r in live.get("Lead", []) if r.get(pol.converted_field) is not True]
    parts.append(
        dedup.lead_contact_overlap(
            live.get("Contact", []), leads, dd.email_field, pol.lead_contact_same_person
        )
    )
    for obj in mapping.objects:
        if obj.superseded_by is not None:
            route = obj.route
            parts.append(
                dedup.superseded(
                    obj.source,
                    live.get(obj.source, []),
                    obj.superseded_by.object,
                    live.get(obj.superseded_by.object, []),
                    obj.superseded_by.field,
                    lambda rec, route=route: route is None or matches(route, rec),
                )
            )
        for lk in obj.lookups:
            if lk.object == obj.name:
                parts.append(
                    dedup.parent_cycles(obj.source, live.get(obj.source, []), lk.source)[0]
                )
    return dedup.merge(*parts)


def test_streamed_flags_and_ids_equal_the_materialised_pre_passes(
    org: tuple[Path, Mapping, dict[str, Any]],
) -> None:
    out, mapping, staged = org
    ctx = build_context({o: iter(r) for o, r in staged.items()}, mapping, **context_kwargs(out))
    expected = _materialised_flags(staged, mapping)
    assert ctx.flags == expected
    codes = {f.reason_code for flags in ctx.flags.values() for f in flags}
    # The generated org plants each defect the pre-passes look for.
    assert {"DUPLICATE_EMAIL", "CONVERTED_LEAD", "LEAD_CONTACT_SAME_PERSON"} <= codes
    for obj, recs in staged.items():
        live_ids = {to_18(str(r["Id"])) for r in recs if not r.get("IsDeleted")}
        assert ctx.present[obj] == live_ids


def test_only_objects_a_pre_pass_reads_keep_fields(
    org: tuple[Path, Mapping, dict[str, Any]],
) -> None:
    _out, mapping, staged = org
    wanted = fields_read(mapping)
    assert {"Contact", "Lead"} <= set(wanted)
    assert wanted["Contact"] >= {"Id", mapping.dedup.email_field}
    # Engagement events are half an org: only their ids are kept.
    assert "leadfwd__Engagement_Event__c" in staged
    assert "leadfwd__Engagement_Event__c" not in wanted


def test_objects_without_skips_share_one_id_set(
    org: tuple[Path, Mapping, dict[str, Any]],
) -> None:
    out, mapping, staged = org
    ctx = build_context(staged, mapping, **context_kwargs(out))
    skipped_objects = {
        obj
        for (obj, _id), flags in ctx.flags.items()
        if any(f.outcome == "skipped_by_policy" for f in flags)
    }
    for obj, ids in ctx.migrated.items():
        if obj in skipped_objects:
            assert ids < ctx.present[obj]
        else:
            assert ids is ctx.present[obj]
    # The stored context keeps the sharing when it is read back.
    back = context_store.decode(context_store.encode(ctx))
    assert back == ctx
    for obj in ctx.migrated:
        if obj not in skipped_objects:
            assert back.migrated[obj] is back.present[obj]
