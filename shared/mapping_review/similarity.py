"""Name, label and type evidence for one (source field, target column) pair.

Salesforce names are CamelCase with namespaces (``leadfwd__Lead_Score__c``); Dataverse logical
names are lower case with a publisher prefix on custom columns (``lfwd_leadscore``). Both are
reduced to plain word tokens before comparing, with rapidfuzz doing the fuzzy part.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from shared.mapping_review.metadata import SourceField, TargetColumn

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_NAMESPACE = re.compile(r"^[A-Za-z0-9]+__(?=.+__c$)")
_ORDINALS = {
    "primary": "1",
    "main": "1",
    "secondary": "2",
    "alternate": "2",
    "alt": "2",
    "tertiary": "3",
    "third": "3",
}


def source_tokens(name: str) -> list[str]:
    """``leadfwd__Lead_Score__c`` → ``["lead", "score"]``; ``MailingStreet`` → two tokens."""
    core = _NAMESPACE.sub("", name).removesuffix("__c")
    words = [w.lower() for part in core.split("_") for w in _CAMEL.findall(part)]
    return [_ORDINALS.get(w, w) for w in words]


def target_tokens(column: TargetColumn) -> list[str]:
    """``lfwd_leadscore`` → ``["leadscore"]``; ``address1_line1`` → two tokens."""
    name = column.logical_name
    if column.custom and "_" in name:
        name = name.split("_", 1)[1]
    return [t for t in name.split("_") if t]


def label_tokens(label: str) -> str:
    """A label reduced to lower-case words (punctuation dropped, ordinals normalised)."""
    words = re.findall(r"[a-z0-9]+", label.lower())
    return " ".join(_ORDINALS.get(w, w) for w in words)


def name_similarity(field: SourceField, column: TargetColumn) -> float:
    """0–1: how alike the API names are once reduced to words and concatenated."""
    src = "".join(source_tokens(field.name))
    tgt = "".join(target_tokens(column))
    if not src or not tgt:
        return 0.0
    return max(fuzz.ratio(src, tgt), 0.0) / 100.0


def label_similarity(field: SourceField, column: TargetColumn) -> float:
    """0–1: how alike the labels people see are (word order ignored)."""
    a, b = label_tokens(field.label), label_tokens(column.label)
    if not a or not b:
        return 0.0
    whole = max(fuzz.token_sort_ratio(a, b), fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")))
    # "Secondary Email" vs "Email Address 2": every word of one is in the other. Worth less
    # than an equal label, since "Phone" is also inside "Home Phone" and "Business Phone".
    contained = 0.85 * fuzz.token_set_ratio(a, b)
    return max(whole, contained) / 100


#: Salesforce field type → Dataverse (AttributeType or FormatName) → compatibility 0–1.
_COMPAT: dict[str, dict[str, float]] = {
    "string": {
        "Text": 1.0,
        "String": 0.9,
        "Memo": 0.8,
        "Email": 0.6,
        "Phone": 0.6,
        "Url": 0.6,
        "PartyList": 0.7,  # address lists ("a@x.com; b@y.com") become activity parties
    },
    "textarea": {"Memo": 1.0, "Text": 0.85, "String": 0.85, "TextArea": 1.0},
    "email": {"Email": 1.0, "Text": 0.7, "String": 0.7, "PartyList": 0.8},
    "phone": {"Phone": 1.0, "Text": 0.7, "String": 0.7},
    "url": {"Url": 1.0, "Text": 0.7, "String": 0.7, "Memo": 0.6},
    "picklist": {"Picklist": 1.0, "Status": 0.9, "State": 0.4, "String": 0.5, "Boolean": 0.4},
    "multipicklist": {"MultiSelectPicklist": 1.0, "Memo": 0.5, "String": 0.4},
    "combobox": {"Picklist": 0.9, "String": 0.8},
    "boolean": {"Boolean": 1.0},
    "int": {"Integer": 1.0, "BigInt": 0.9, "Decimal": 0.8, "Double": 0.8},
    "double": {"Decimal": 1.0, "Double": 1.0, "Integer": 0.7, "Money": 0.6, "BigInt": 0.6},
    "percent": {"Decimal": 1.0, "Double": 1.0, "Integer": 0.6},
    "currency": {"Money": 1.0, "Decimal": 0.7, "Double": 0.6},
    "date": {"DateOnly": 1.0, "DateTime": 0.85},
    "datetime": {"DateTime": 1.0, "DateOnly": 0.6},
    "time": {"String": 0.6, "Text": 0.6},
    "reference": {"Lookup": 1.0, "Customer": 1.0, "Owner": 1.0, "PartyList": 0.9},
    "id": {"String": 0.8, "Text": 0.8},
    "encryptedstring": {"String": 0.7, "Text": 0.7},
    "base64": {},
    "address": {},
    "location": {},
    "anyType": {"String": 0.5, "Memo": 0.5},
}


def _column_kinds(column: TargetColumn) -> list[str]:
    kinds = [column.attribute_type]
    if column.format_name:
        kinds.append(column.format_name)
    if column.attribute_type == "DateTime":
        kinds.append("DateOnly" if column.date_only else "DateTime")
    if column.attribute_type == "Virtual" and column.format_name == "MultiSelectPicklist":
        kinds = ["MultiSelectPicklist"]
    return kinds


def type_compatibility(field: SourceField, column: TargetColumn) -> float:
    """0–1: can the source type be written to this column without losing meaning? 0 = never."""
    table = _COMPAT.get(field.type, {"String": 0.5})
    kinds = _column_kinds(column)
    if column.attribute_type == "String" and column.format_name in {"Email", "Phone", "Url"}:
        # A formatted string column takes the format's score, not the generic string one.
        return table.get(column.format_name, 0.0)
    return max((table.get(k, 0.0) for k in kinds), default=0.0)


_UNITS = {"seconds", "second", "minutes", "minute", "hours", "hour", "days", "day", "percent"}


def unit_conflict(field: SourceField, column: TargetColumn) -> tuple[str, str] | None:
    """The two units when names say different ones (``...InSeconds`` vs ``...minutes``)."""
    src = {t for t in source_tokens(field.name) + label_tokens(field.label).split() if t in _UNITS}
    tgt_text = column.logical_name + " " + label_tokens(column.label)
    tgt = {u for u in _UNITS if u in tgt_text}
    norm = {u.rstrip("s") for u in src}, {u.rstrip("s") for u in tgt}
    if norm[0] and norm[1] and not norm[0] & norm[1]:
        return ", ".join(sorted(norm[0])), ", ".join(sorted(norm[1]))
    return None


#: Words that say what kind of value a field holds, not what it is about.
_GENERIC = frozenset(
    {
        "status",
        "code",
        "type",
        "date",
        "name",
        "number",
        "id",
        "count",
        "value",
        "reason",
        "flag",
        "is",
        "has",
        "of",
        "the",
        "a",
        "to",
        "c",
        "1",
        "2",
        "3",
    }
)


def _subject_words(words: list[str], context: set[str]) -> set[str]:
    return {w for w in words if w not in _GENERIC and w not in context and not w.isdigit()}


def subject_conflict(field: SourceField, column: TargetColumn) -> tuple[str, str] | None:
    """The two subjects when a field and a column share only generic words.

    "Engagement Status" and "Budget Status" share *status* but are about different things;
    the object's own name ("Account Source" on account) does not count as a subject either.
    """
    context = {field.object_name.lower(), column.table.lower()}
    src = _subject_words(source_tokens(field.name) + label_tokens(field.label).split(), context)
    tgt_words = target_tokens(column) + label_tokens(column.label).split()
    tgt = _subject_words(tgt_words, context)
    if not src or not tgt:
        return None
    for a in src:
        for b in tgt:
            if a in b or b in a or fuzz.ratio(a, b) >= 80:
                return None
    return " ".join(sorted(src)), " ".join(sorted(tgt))
