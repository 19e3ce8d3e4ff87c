"""The generated field functions give exactly the rows of the interpretive reference path.

``compile_mapping(..., generated=False)`` keeps the per-field loop the generated code replaces;
every test here runs both paths on the same records with the same context and compares the
``repr`` of each result (payload values, their types and the payload's key order included), or
the exception both raise. Records come from the golden samples, from a whole generated org
(every staged record, planted defects included) and from hypothesis, which throws awkward
values (control characters, emoji past half the MaxLength, unknown labels, numbers as text,
wrong types) at every field of every entry of the default map and at an entry that uses every
transform and every ``on_error`` policy.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.ids import org_namespace, target_id
from shared.mapping.context import ResolutionContext
from shared.mapping.fields import FieldPlan
from shared.mapping.memo import TargetIds
from shared.mapping.models import Mapping
from shared.mapping.prepare import build_context
from shared.mapping.target_metadata import Column, Table, TargetMetadata
from shared.mapping.transform import (
    CompiledMapping,
    CompiledObject,
    compile_mapping,
    generated_source,
)
from shared.mapping.types import ValueProblemError, make_datetime, to_utc_iso
from tests.shared.mapping.defects_run import generated_org
from tests.shared.mapping.metadata_fixture import (
    default_mapping,
    default_metadata,
    golden_context,
    golden_samples,
    metadata_for,
)
from tests.shared.mapping.orgdata import context_kwargs

NS = org_namespace("00D000000000001EAA")


def outcome(compiled: CompiledMapping, sobject: str, record: Any, ctx: ResolutionContext) -> str:
    """What a user gets from one record: the row or rejection, or the error raised."""
    try:
        return repr(compiled.transform(sobject, record, ctx))
    except Exception as exc:  # both paths must fail alike, too
        return f"raised {type(exc).__name__}: {exc}"


def both(mapping: Mapping, metadata: TargetMetadata | None) -> tuple[CompiledMapping, ...]:
    return tuple(
        compile_mapping(mapping, metadata, check=False, generated=g) for g in (True, False)
    )


def assert_same(
    pair: tuple[CompiledMapping, ...], sobject: str, record: Any, ctx: ResolutionContext
) -> None:
    generated, reference = (outcome(c, sobject, record, ctx) for c in pair)
    assert generated == reference, record


# ---- golden samples and a generated org ---------------------------------------------------


def test_golden_samples_give_the_same_rows_on_both_paths() -> None:
    samples = golden_samples()
    mapping = default_mapping()
    ctx = golden_context(mapping, samples)
    pair = both(mapping, default_metadata())
    assert all(comp.generated for comp in pair[0].objects)
    assert not any(comp.generated for comp in pair[1].objects)
    seen = 0
    for sobject, records in samples["records"].items():
        for record in records:
            assert_same(pair, sobject, record, ctx)
            seen += 1
    assert seen >= len(mapping.objects)


def test_every_record_of_a_generated_org_gives_the_same_row_on_both_paths(
    tmp_path: Path,
) -> None:
    org, mapping, staged = generated_org(tmp_path)
    ctx = build_context(staged, mapping, **context_kwargs(org))
    pair = both(mapping, metadata_for(mapping))
    defects = json.loads((org / "defects.json").read_text())
    checked: set[tuple[str, str]] = set()
    for sobject, records in staged.items():
        if sobject not in pair[0].by_source:
            continue
        for record in records:
            assert_same(pair, sobject, record, ctx)
            checked.add((sobject, record["Id"]))
    assert len(checked) > 1000
    planted = {(d["object"], d["id"]) for d in defects if d["object"] in pair[0].by_source}
    assert len(planted) > 20 and planted <= checked


# ---- hypothesis: awkward values in every field ----------------------------------------------

AWKWARD_TEXTS = [
    "A", "B", "A;B", "A;;Z", "true", "false", "TRUE", "Inbound", "1", "Email", "Call",
    "x@y.co", " x@y.co ", "bob@", "a@b@c.de", "😀😀😀😀😀😀", "ééééééééé",
    "2023-06-07T08:09:10.000+0000", "2023-06-07T08:09:10+0000", "1980-01-01",
    "1700-01-01", "9999-12-31T23:00:00.000+0000", "2023-06-07T08:09:10+02:00",
    "2023-02-30", "12", " 7 ", "1e400", "nan", "0.125", "tab\there", "ctl\x01x", "\x7f",
    "003000000000001AAA", "001000000000001AAA", "00Q000000000001AAA",
]  # fmt: skip
AWKWARD = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=14),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=30),
    st.text(alphabet="é😀\x01\t\n ab", max_size=12),
    st.text(alphabet="é😀ab", min_size=2, max_size=20),  # printable, past half the MaxLength
    st.sampled_from(AWKWARD_TEXTS),
    st.booleans(),
    st.integers(),
    st.integers(-200, 200),
    st.floats(),
    st.lists(st.integers(), max_size=2),
)
IDS = st.sampled_from(["a0X000000000001AAA", "a0X000000000002", "a0X00000000000zAAA"])
FUZZ = settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _sources(mapping: Mapping, name: str) -> list[str]:
    entry = mapping.by_name(name)
    names = {f.source for f in entry.fields if f.source}
    names |= {s for f in entry.fields for s in f.sources or []}
    if entry.route:
        names.add(entry.route.field)
    if entry.file:
        names |= {entry.file.id_field, entry.file.filename, entry.file.size_field}
    return sorted(names - {"Id"})  # the record's own id is drawn from valid ids


FINE = [
    *AWKWARD_TEXTS, "Li", "Acme", "ab", "x", "ana@acme.example", "https://x.example/a",
    0, 1, 5, 42, -3, 0.5, 12.25, True, False,
]  # fmt: skip


def mostly(fine: st.SearchStrategy[Any], edges: list[str] | None = None) -> st.SearchStrategy[Any]:
    """Seven values in eight from ``fine``, else an awkward one or one at a column's length
    limits: records get deep enough to become rows, and every field still meets bad values."""
    if edges:  # half and half (st.one_of would flatten AWKWARD's branches and drown the edges)
        limits = st.sampled_from(edges)
        bad = st.booleans().flatmap(lambda edge: limits if edge else AWKWARD)
    else:
        bad = AWKWARD
    return st.integers(0, 7).flatmap(lambda n: bad if n == 0 else fine)


def _edges(plans: list[FieldPlan]) -> list[str]:
    """Texts around half the MaxLength and the MaxLength, in ASCII, accents and emoji."""
    out: list[str] = []
    for plan in plans:
        half, full = plan.plain_text_limit, plan.ascii_text_limit
        if half < 0 or full > 4000:  # longer columns: the cost is in the strings, not the test
            continue
        for n in sorted({half, half + 1, full, full + 1}):
            out += ["a" * n, "é" * n, "😀" * n, "😀" * (n // 2), "a😀" * (n // 2), "\x01" * n]
    return sorted(set(out))


def _values(comp: CompiledObject, name: str) -> st.SearchStrategy[Any]:
    """Values of source field ``name`` that every field map reading it takes without a word."""
    labels = [label for f in comp.obj.fields for label in f.values or {}]
    readers = [p for p in comp.fields if p.read({name: "\ue000"}) != p.read({})]
    fine = [v for v in [*FINE, *labels] if all(not p.apply({name: v}, {}) for p in readers)]
    return mostly(st.sampled_from(fine) if fine else st.none(), _edges(readers))


def _fields(comp: CompiledObject, mapping: Mapping) -> dict[str, st.SearchStrategy[Any]]:
    return {name: _values(comp, name) for name in _sources(mapping, comp.obj.name)}


PARENTS = {
    "Account": "001000000000001AAA",
    "Contact": "003000000000001AAA",
    "Lead": "00Q000000000001AAA",
    "Opportunity": "006000000000001AAA",
}
USERS = [{"systemuserid": "u-ana", "internalemailaddress": "ana@acme.example"}]


def _references(mapping: Mapping, name: str) -> dict[str, st.SearchStrategy[Any]]:
    """Links, parents, owners and parties: mostly live parents and known users."""
    entry = mapping.by_name(name)
    ref = mostly(st.sampled_from(sorted(PARENTS.values())))
    out: dict[str, st.SearchStrategy[Any]] = {lk.source: ref for lk in entry.lookups}
    for cand in entry.parent.candidates if entry.parent else []:
        out[cand.source] = ref
        if cand.type_field:
            out[cand.type_field] = st.sampled_from([None, "Case", *sorted(PARENTS)])
    for chk in entry.checks:
        out[chk.source] = ref
    if entry.owner:
        out[entry.owner.email] = st.sampled_from(["ana@acme.example", "nobody@x.example", None])
        if entry.owner.active:
            out[entry.owner.active] = st.sampled_from([True, False, None])
    return out


DEFAULT = default_mapping()
DEFAULT_PAIR = both(DEFAULT, default_metadata())
DEFAULT_CTX = build_context(
    {sobject: [{"Id": sf_id, "LastName": "Li"}] for sobject, sf_id in PARENTS.items()},
    DEFAULT,
    namespace=NS,
    users=USERS,
    fallback_owner_email="ana@acme.example",
)


@pytest.mark.parametrize("entry", [o.name for o in DEFAULT.objects])
@FUZZ
@given(data=st.data())
def test_awkward_values_give_the_same_result_on_every_default_entry(
    entry: str, data: st.DataObject
) -> None:
    obj = DEFAULT.by_name(entry)
    fields = _fields(next(c for c in DEFAULT_PAIR[1].objects if c.obj.name == entry), DEFAULT)
    fields.update(_references(DEFAULT, entry))
    record = data.draw(st.fixed_dictionaries({"Id": IDS}, optional=fields))
    if obj.route:  # mostly routed to this entry, sometimes to none
        choice = st.sampled_from([*obj.route.in_, "Unrouted"])
        record[obj.route.field] = data.draw(choice)
    assert_same(DEFAULT_PAIR, obj.source, record, DEFAULT_CTX)


ODD = 'Odd\'"\n\\"""__c'  # a field name that would break naive code generation

SINK_FIELDS: list[dict[str, Any]] = [
    {"source": "Id", "target": "sfid", "transform": "text"},
    {"source": "Short__c", "target": "short", "transform": "text"},
    {"source": "Short__c", "target": "short_cut", "transform": "text", "on_error": "truncate"},
    {"source": "Memo__c", "target": "memo", "transform": "memo", "on_error": "truncate"},
    {"source": "Email__c", "target": "email", "transform": "email", "on_error": "null"},
    {
        "source": "Phone__c",
        "target": "phone",
        "transform": "phone",
        "on_error": "default",
        "default": "n/a",
    },
    {"source": "Url__c", "target": "url", "transform": "url"},
    {
        "source": "Pick__c",
        "target": "pick",
        "transform": "choice",
        "values": {"A": 1, "B": 2, "": 3, "true": 4, "1": 5},
        "on_error": "null",
    },
    {
        "source": "Pick__c",
        "target": "multi",
        "transform": "multichoice",
        "values": {"A": 1, "B": 2},
        "on_error": "null",
    },
    {"source": "Flag__c", "target": "flag", "transform": "boolean", "on_error": "null"},
    {
        "source": "Flag__c",
        "target": "flag_mapped",
        "transform": "boolean",
        "values": {"Inbound": False, "Outbound": True, "true": True},
        "on_error": "default",
        "default": False,
    },
    {"source": "Num__c", "target": "int", "transform": "integer", "on_error": "null"},
    {"source": "Num__c", "target": "big", "transform": "bigint", "on_error": "null"},
    {"source": "Num__c", "target": "dec", "transform": "decimal", "on_error": "null"},
    {"source": "Num__c", "target": "money", "transform": "money", "on_error": "null"},
    {"source": "Num__c", "target": "dbl", "transform": "copy", "on_error": "null"},
    {"source": "When__c", "target": "when", "transform": "datetime", "on_error": "null"},
    {"source": "When__c", "target": "day", "transform": "date", "on_error": "null"},
    {"source": "When__c", "target": "when_copy", "transform": "copy", "on_error": "null"},
    {
        "source": "Num__c",
        "target": "mins",
        "transform": "duration_minutes",
        "round": "ceiling",
        "on_error": "null",
    },
    {"source": "Any__c", "target": "raw", "transform": "copy"},
    {"source": "Short__c", "target": "copied", "transform": "copy", "on_error": "null"},
    {"sources": ["Short__c", "Memo__c"], "target": "either", "transform": "text"},
    {
        "sources": ["Short__c", "Pick__c"],
        "target": "tmpl",
        "transform": "template",
        "template": "{Short__c}-{Pick__c}",
        "on_error": "truncate",
    },
    {"transform": "constant", "value": 7, "target": "seven"},
    {"source": "Req__c", "target": "req", "transform": "text", "on_error": "null"},
    {"source": ODD, "target": ODD.lower(), "transform": "text"},
    {"source": "Flag__c", "target": "check", "transform": "text"},  # last: quarantines
]


def _sink() -> tuple[Mapping, TargetMetadata]:
    mapping = Mapping.model_validate(
        {
            "version": 1,
            "name": "sink",
            "objects": [
                {
                    "name": 'sink\'\n"entry"',
                    "source": "Sink__c",
                    "target": "sink",
                    "entity_set": "sinks",
                    "fields": SINK_FIELDS,
                }
            ],
        }
    )

    def col(name: str, kind: str, **kw: Any) -> Column:
        return Column(name, name, kind, **kw)

    columns = [
        col("sfid", "String", max_length=18),
        col("short", "String", max_length=6),
        col("short_cut", "String", max_length=6),
        col("memo", "Memo", max_length=12),
        col("email", "String", max_length=20),
        col("phone", "String", max_length=8),
        col("int", "Integer", min_value=-5, max_value=5),
        col("big", "BigInt"),
        col("dec", "Decimal", min_value=-100, max_value=100, precision=2),
        col("money", "Money", precision=4),
        col("dbl", "Double", precision=3),
        col("when", "DateTime"),
        col("day", "DateTime", date_only=True),
        col("when_copy", "DateTime", date_only=True),
        col("mins", "Integer", min_value=0, max_value=1000),
        col("copied", "String", max_length=6),
        col("either", "String", max_length=10),
        col("tmpl", "String", max_length=10),
        col("req", "String", max_length=10, required=True),
        col(ODD.lower(), "String", max_length=4),
        col("check", "String", max_length=4),
    ]
    table = Table("sink", "sinks", "sinkid", {c.logical_name: c for c in columns})
    return mapping, TargetMetadata({"sink": table})


SINK, SINK_META = _sink()
SINK_PAIR = both(SINK, SINK_META)
SINK_CTX = build_context({}, SINK, namespace=NS)


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_awkward_values_give_the_same_result_for_every_transform_and_policy(
    data: st.DataObject,
) -> None:
    fields = _fields(SINK_PAIR[1].objects[0], SINK)
    record = data.draw(st.fixed_dictionaries({"Id": IDS}, optional=fields))
    assert_same(SINK_PAIR, "Sink__c", record, SINK_CTX)


def test_the_sink_entry_reaches_every_outcome() -> None:
    """The fuzzed entry is not vacuous: rows, reports and rejections all come out of it."""
    base = {"Id": "a0X000000000001AAA", "Req__c": "ok", "Flag__c": True}
    row = SINK_PAIR[0].transform("Sink__c", {**base, ODD: "abcd", "Pick__c": "B"}, SINK_CTX)
    assert repr(row) == repr(
        SINK_PAIR[1].transform("Sink__c", {**base, ODD: "abcd", "Pick__c": "B"}, SINK_CTX)
    )
    assert getattr(row, "payload", {})[ODD.lower()] == "abcd"
    cases = [
        ({"Email__c": "bob@"}, "INVALID_EMAIL"),
        ({"Short__c": "abcdefgh"}, "TEXT_TOO_LONG"),
        ({"Short__c": "😀😀😀😀"}, "TEXT_TOO_LONG"),  # 4 characters, 8 UTF-16 units
        ({"Short__c": "a\x01b"}, "CONTROL_CHARACTERS_REMOVED"),
        ({"Pick__c": "Z"}, "CHOICE_UNMAPPED"),
        ({"Req__c": None}, "REQUIRED_MISSING"),
        ({"Flag__c": False}, "TEXT_TOO_LONG"),
    ]
    for change, code in cases:
        outs = [c.transform("Sink__c", {**base, **change}, SINK_CTX) for c in SINK_PAIR]
        assert repr(outs[0]) == repr(outs[1])
        codes = getattr(outs[0], "reason_code", None) or {
            e.reason_code for e in getattr(outs[0], "entries", ())
        }
        assert code in codes, (change, outs[0])


# ---- converter shortcuts ----------------------------------------------------------------


def _iso_or_error(convert: Callable[[], Any]) -> Any:
    try:
        return convert()
    except ValueProblemError as problem:
        return ("error", problem.code, problem.message)


SF_DATETIMES = st.from_regex(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,4})?\+0000\Z")


@settings(FUZZ, max_examples=300)
@given(value=st.one_of(SF_DATETIMES, AWKWARD))
def test_the_datetime_shortcut_gives_what_to_utc_iso_gives(value: Any) -> None:
    """``make_datetime`` answers Salesforce datetimes itself; out of range or odd, it defers."""
    for date_only in (False, True):
        convert = make_datetime(None, date_only=date_only)
        got = _iso_or_error(lambda c=convert: c(value, []))
        want = _iso_or_error(lambda: to_utc_iso(value))
        if date_only and isinstance(want, str):
            want = want[:10]
        assert got == want


# ---- the generated source ---------------------------------------------------------------


def test_generated_source_is_deterministic_readable_python() -> None:
    first = {c.obj.name: generated_source(c) for c in DEFAULT_PAIR[0].objects}
    again = compile_mapping(DEFAULT, default_metadata())
    assert first == {c.obj.name: generated_source(c) for c in again.objects}
    contact = first["contact"]
    compile(contact, "<contact>", "exec")
    assert contact.startswith("def fields_contact(record, sf_id, entries):")
    assert "    value = get('FirstName')\n" in contact
    assert "payload['firstname'] = value" in contact  # fits as it is: no converter call
    assert "payload['lfwd_engagementstatus'] = choices_" in contact  # labels looked up inline


def test_odd_names_stay_literals_in_the_generated_source() -> None:
    source = generated_source(SINK_PAIR[0].objects[0])
    compile(source, "<sink>", "exec")
    assert f"value = get({ODD!r})" in source
    assert source.count("\ndef ") == 0 and source.startswith("def fields_sink___entry_(")


def test_a_traceback_through_generated_code_shows_the_generated_line() -> None:
    class Exploding(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            if key == "Short__c":
                raise RuntimeError("unreadable field")
            return super().get(key, default)

    record = Exploding({"Id": "a0X000000000001AAA", "Req__c": "ok"})
    with pytest.raises(RuntimeError) as caught:
        SINK_PAIR[0].transform("Sink__c", record, SINK_CTX)
    text = "".join(traceback.format_exception(caught.value))
    assert "<generated fields of mapping entry" in text
    assert "value = get('Short__c')" in text


# ---- bounded memos ----------------------------------------------------------------------


def test_parent_binds_are_remembered_within_a_bound_and_stay_right() -> None:
    ids = TargetIds(limit=100)
    for n in range(1000):
        sf_id = f"001{n % 250:012d}AAA"
        bind = ids.bind(NS, "accounts", "Account", sf_id)
        assert bind == f"/accounts({target_id(NS, 'Account', sf_id)})"
        assert len(ids) <= 100
    other = org_namespace("00D000000000002EAA")
    assert ids.bind(other, "accounts", "Account", "001000000000001AAA") == (
        f"/accounts({target_id(other, 'Account', '001000000000001AAA')})"
    )
    assert ids.row_id(NS, "Contact", "003000000000001AAA") == target_id(
        NS, "Contact", "003000000000001AAA"
    )


def test_many_distinct_parents_keep_the_transform_memo_bounded() -> None:
    """Flat memory: the memo of a compiled mapping never outgrows its bound."""
    compiled = compile_mapping(DEFAULT, default_metadata())
    accounts = [{"Id": f"001{n:012d}AAA"} for n in range(3000)]
    ctx = build_context(
        {"Account": accounts},
        DEFAULT,
        namespace=NS,
        users=USERS,
        fallback_owner_email="ana@acme.example",
    )
    memo = compiled.objects[0].ids
    assert all(comp.ids is memo for comp in compiled.objects)  # one memo per mapping
    memo.limit = 1000
    for n, account in enumerate(accounts):
        record = {"Id": f"003{n:012d}AAA", "LastName": "Li", "AccountId": account["Id"]}
        row = compiled.transform("Contact", record, ctx)
        assert getattr(row, "payload", {})["parentcustomerid_account@odata.bind"] == (
            f"/accounts({target_id(NS, 'Account', account['Id'])})"
        )
        assert len(memo) <= 1000
