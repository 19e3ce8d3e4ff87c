"""Turn a proposal into a mapping file the mapping loader accepts (``docs/mapping.md``).

The mapping file speaks in object entries, field maps, lookups, parents, parties and owners;
the proposal speaks in field decisions. This module translates, and whatever a decision needs
that the mapping format cannot express yet (a new lookup column, appointment attendees, a
picklist none of whose values has a destination option) is returned as *unresolved*, listed
in the file's header and the review, and left out of the body, so the file still loads. A
picklist with only *some* values unmatched stays in the body with the matched ones, and the
unmatched values are listed as unresolved too (they would be quarantined at run time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml

from shared.mapping_review import dictionary
from shared.mapping_review.matcher import FieldDecision, NewColumn
from shared.mapping_review.metadata import SourceField, SourceObject, TargetColumn
from shared.mapping_review.propose import PairProposal, Proposal

PROPOSED_HEADER = (
    "# status: proposed by `./migrate propose-map` at {at}, until `./migrate confirm-map`\n"
    "# records who confirmed these exact bytes ({name}.confirmation.json beside this file).\n"
    "# Review it (`./migrate review {name}`), change what does not fit the org, then confirm\n"
    "# it (`./migrate confirm-map {name} --by NAME`). A run refuses it until it is confirmed.\n"
)

_TRANSFORM = {
    "Email": "email",
    "Phone": "phone",
    "Url": "url",
    "Memo": "memo",
    "Integer": "integer",
    "BigInt": "bigint",
    "Decimal": "decimal",
    "Double": "float",
    "Money": "money",
    "Boolean": "boolean",
    "Picklist": "choice",
    "Status": "choice",
    "State": "choice",
    "MultiSelectPicklist": "multichoice",
}


@dataclass
class Unresolved:
    """A decision the mapping file cannot express; a person must settle it by hand."""

    entry: str
    source_field: str
    why: str


@dataclass
class Built:
    """The mapping as plain data, plus what could not be put in it."""

    data: dict[str, Any]
    unresolved: list[Unresolved] = field(default_factory=list)


def _transform(col_type: str, fmt: str | None, date_only: bool) -> str:
    if col_type == "DateTime":
        return "date" if date_only else "datetime"
    if col_type == "String":
        return _TRANSFORM.get(fmt or "", "text")
    if col_type == "Virtual" and fmt == "MultiSelectPicklist":
        return "multichoice"
    return _TRANSFORM.get(col_type, "text")


def _column_def(new: NewColumn, f: SourceField) -> dict[str, Any]:
    out: dict[str, Any] = {"label": new.label}
    if new.attribute_type == "Virtual":
        out["type"] = "MultiSelectPicklist"
    else:
        out["type"] = new.attribute_type
    if new.attribute_type in {"String", "Memo"}:
        out["max_length"] = new.max_length
        if new.attribute_type == "String" and new.format_name not in {None, "Text"}:
            out["format"] = new.format_name
    if new.attribute_type == "Decimal":
        out["precision"] = min(max(f.scale, 0), 10)
    if new.attribute_type == "DateTime":
        out["date_format"] = "DateOnly" if new.format_name == "DateOnly" else "DateAndTime"
    if f.type == "id":
        out.update(label=f"Salesforce {f.object_name} Id", max_length=18, alternate_key=True)
    return out


def _field_map(
    d: FieldDecision, f: SourceField, col: TargetColumn | None, entry: str
) -> dict[str, Any] | Unresolved:
    known = dictionary.lookup(d.source_object, d.source_field, d.target_table)
    out: dict[str, Any] = {"source": d.source_field, "target": d.target_column}
    if d.action == "new_column" and d.new_column is not None:
        new = d.new_column
        if new.attribute_type == "Lookup":
            return Unresolved(
                entry,
                f.name,
                "needs a new lookup column, which the mapping "
                "format cannot declare yet: create it and add a lookup by hand",
            )
        out["transform"] = _transform(new.attribute_type, new.format_name, False)
        if new.attribute_type == "DateTime":
            out["transform"] = "date" if new.format_name == "DateOnly" else "datetime"
        if f.type == "id":
            out["transform"] = "text"
        out["column"] = _column_def(new, f)
        if d.choices:
            out["values"] = {c.source_value: c.target_value for c in d.choices}
        return out
    assert col is not None
    if known and known.transform:
        out["transform"] = known.transform
        if known.values:
            out["values"] = dict(known.values)
        return out
    out["transform"] = _transform(col.attribute_type, col.format_name, col.date_only)
    if out["transform"] in {"choice", "multichoice"}:
        values = {c.source_value: c.target_value for c in d.choices if c.target_value is not None}
        if not values:
            return Unresolved(
                entry,
                f.name,
                f"no source value has a matching option in "
                f"{col.logical_name}: write a values map by hand or map to text",
            )
        out["values"] = values
    if out["transform"] == "boolean" and f.type != "boolean":
        return Unresolved(entry, f.name, f"{f.type} → boolean needs a values map written by hand")
    return out


def _entry(
    pp: PairProposal, source: SourceObject, names: dict[str, tuple[str, str]], built: Built
) -> dict[str, Any]:
    pair, table = pp.pair, pp.table
    entry: dict[str, Any] = {
        "name": pair.name,
        "source": pair.source,
        "target": pair.target,
        "entity_set": table.entity_set,
    }
    if pair.kind != "record":
        entry["kind"] = pair.kind
    if pair.route_field:
        entry["route"] = {"field": pair.route_field, "in": list(pair.route_in)}
    fields_by_name = {f.name: f for f in source.fields}
    fields: list[dict[str, Any]] = []
    lookups: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []
    parties: dict[str, str] = {}
    for d in pp.decisions:
        f = fields_by_name[d.source_field]
        if d.action == "skip" or d.target_column is None:
            continue
        col = table.column(d.target_column)
        if f.type == "id" and d.action == "new_column":
            entry["id_column"] = d.target_column
        if col is not None and col.attribute_type == "Owner":
            entry["owner"] = {"email": f"{f.name[:-2]}.Email", "active": f"{f.name[:-2]}.IsActive"}
            continue
        if col is not None and col.attribute_type == "PartyList":
            if col.logical_name in {"from", "to", "cc", "bcc"}:
                parties[col.logical_name] = f.name
            else:
                built.unresolved.append(
                    Unresolved(
                        pair.name,
                        f.name,
                        f"{col.logical_name} is a party list the mapping format cannot fill yet",
                    )
                )
            continue
        if col is not None and col.attribute_type in {"Lookup", "Customer"}:
            types = {
                r: names[r][0] for r in f.reference_to if r in names and names[r][1] in col.targets
            }
            if col.logical_name == "regardingobjectid":
                if types:
                    candidates.append(
                        {"source": f.name, "type_field": f"{f.name[:-2]}.Type", "types": types}
                    )
                continue
            if len(types) == 1:
                ref, obj = next(iter(types.items()))
                nav = col.logical_name
                if col.attribute_type == "Customer":
                    nav = f"{nav}_{names[ref][1]}"
                lookups.append({"source": f.name, "object": obj, "nav": nav})
            else:
                built.unresolved.append(
                    Unresolved(
                        pair.name,
                        f.name,
                        f"lookup to {', '.join(f.reference_to)} "
                        "has no single migrated parent object",
                    )
                )
            continue
        fm = _field_map(d, f, col, pair.name)
        if isinstance(fm, Unresolved):
            built.unresolved.append(fm)
            continue
        fields.append(fm)
        missing = [c.source_value for c in d.unmatched_choices]
        if missing and "values" in fm:
            shown = ", ".join(repr(m) for m in missing)
            built.unresolved.append(
                Unresolved(
                    pair.name,
                    f.name,
                    f"values with no option in {d.target_column} ({shown}) would be quarantined "
                    "as CHOICE_UNMAPPED: add them to values: or map the field to text",
                )
            )
    if lookups:
        entry["lookups"] = lookups
    who = fields_by_name.get("WhoId")
    if candidates and who is not None and all(c["source"] != "WhoId" for c in candidates):
        # The person is also where an activity hangs when its related-to record is not
        # migrated (REGARDING_FALLBACK), even when WhoId already fills a party.
        types = {r: names[r][0] for r in who.reference_to if r in names}
        if types:
            candidates.append({"source": "WhoId", "type_field": "Who.Type", "types": types})
    if candidates:
        # The related-to record first, the person (WhoId) as the fallback (REGARDING_FALLBACK).
        candidates.sort(key=lambda c: c["source"] == "WhoId")
        entry["parent"] = {"binding": "regarding", "required": False, "candidates": candidates}
    if parties:
        entry["parties"] = {k: parties[k] for k in ("from", "to", "cc", "bcc") if k in parties}
    entry["fields"] = fields
    return entry


def build_mapping(
    proposal: Proposal, sources: dict[str, SourceObject], name: str = "proposed-map"
) -> Built:
    """The mapping file's data for a proposal, plus what it cannot express."""
    # The entry that owns a source object's records is its first pair (as in the default map).
    primary: dict[str, tuple[str, str]] = {}
    for pp in proposal.pairs:
        primary.setdefault(pp.pair.source, (pp.pair.name, pp.pair.target))
    built = Built(data={})
    objects = [_entry(pp, sources[pp.pair.source], primary, built) for pp in proposal.pairs]
    built.data = {
        "version": 1,
        "name": name,
        "description": "Proposed by ./migrate propose-map; review and confirm before any run.",
        "objects": objects,
    }
    return built


def render_mapping(built: Built, file_name: str, at: datetime | None = None) -> str:
    """YAML text with the *proposed* header and a list of unresolved decisions as comments."""
    stamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = PROPOSED_HEADER.format(at=stamp, name=file_name)
    if built.unresolved:
        head += "# Unresolved (settle each by hand, then delete these lines and confirm):\n"
        head += "".join(f"#   {u.entry}.{u.source_field}: {u.why}\n" for u in built.unresolved)
    body = yaml.safe_dump(built.data, sort_keys=False, allow_unicode=True, width=100)
    return head + body
