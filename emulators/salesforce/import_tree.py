"""Build an org directory from Salesforce CLI data-tree exports (``sf data export tree``).

A real customer's data often arrives as data-tree JSON: plan files listing record files per
object, records carrying ``attributes.referenceId`` and pointing at each other with
``@AccountRef1``-style references. Importing turns that into an org directory the emulator
serves (docs/org-directory.md), so extraction can be proven on real shapes, not only ours.

What happens, in order: every plan and file is read (``records`` as an array or a single
object, child records nested under a relationship name included); every record gets an
18-character id with its object's key prefix, in input order; references resolve across all
inputs (forward references and self-references too); field names are matched to the object's
metadata case-insensitively; fields the metadata lacks (and whole objects, e.g. ``Product__c``)
are added to ``schema/<Object>.json`` with types inferred from their values; owner and audit
fields are filled with the integration user and a fixed time, so the same input always gives the
same bytes. Problems are collected and reported together, each naming file, record and field.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from emulators.salesforce.generate import prepare_out_dir
from emulators.salesforce.generate.sfids import FALLBACK_PREFIXES, base62, key_prefix, make_id
from emulators.salesforce.generate.writer import OrgWriter
from emulators.salesforce.metadata import load_builtin_metadata
from shared.errors import ConfigError

__all__ = ["ImportSummary", "import_tree", "import_tree_export", "infer_field"]

IMPORT_TIME = "2026-01-01T09:00:00.000+0000"
INTEGRATION_EMAIL = "integration@imported-org.example"
_SYSTEM = ("CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_PROBLEMS = 50


@dataclass
class _Record:
    """One record read from a file: where it came from, its type, raw fields and parent."""

    sobject: str
    ref: str | None
    source: str
    fields: dict[str, Any]
    parent: _Record | None = None
    record_id: str = ""


@dataclass
class ImportSummary:
    """Counts per object, the schema additions and anything the user should know."""

    out: Path
    counts: dict[str, int] = field(default_factory=dict)
    added_fields: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "records": sum(self.counts.values()),
            "counts": dict(sorted(self.counts.items())),
            "added_fields": self.added_fields,
            "warnings": self.warnings,
        }


# ---- reading ----------------------------------------------------------------------------------


def _load_json(path: Path, problems: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path}: file not found")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{path}: not valid JSON ({exc})")
    return None


def read_plan(plan: Path, problems: list[str]) -> list[tuple[str | None, Path]]:
    """The (declared object, data file) pairs of one plan; files resolve next to the plan."""
    raw = _load_json(plan, problems)
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(f"{plan}: a plan is a JSON array of {{sobject, files}} entries")
        return []
    out: list[tuple[str | None, Path]] = []
    for i, entry in enumerate(raw):
        files = entry.get("files") if isinstance(entry, dict) else None
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            problems.append(f"{plan} entry {i + 1}: needs 'files', a list of file names")
            continue
        sobject = entry.get("sobject")
        out += [(sobject if isinstance(sobject, str) else None, plan.parent / f) for f in files]
    return out


def read_records(path: Path, declared: str | None, problems: list[str]) -> list[_Record]:
    """Records of one data-tree file, children nested under a relationship name flattened."""
    raw = _load_json(path, problems)
    records = raw.get("records") if isinstance(raw, dict) else None
    if isinstance(records, dict):
        records = [records]  # the single-object form
    if raw is not None and not isinstance(records, list):
        problems.append(f'{path}: expected {{"records": [...]}} (an array or one object)')
    return list(_flatten(records or [], declared, path.name, None, problems))


def _flatten(
    records: list[Any],
    declared: str | None,
    source: str,
    parent: _Record | None,
    problems: list[str],
) -> Iterator[_Record]:
    for i, raw in enumerate(records):
        where = f"{source} record {i + 1}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: a record must be a JSON object")
            continue
        attrs: dict[str, Any] = raw["attributes"] if isinstance(raw.get("attributes"), dict) else {}
        sobject = attrs.get("type") or declared
        if not sobject:
            problems.append(f"{where}: no attributes.type and no plan sobject: object unknown")
            continue
        ref = attrs.get("referenceId")
        fields = {k: val for k, val in raw.items() if k != "attributes"}
        nested = {k: val for k, val in fields.items() if isinstance(val, dict)}
        for key in nested:
            del fields[key]
        label = f"{source} record {i + 1}" + (f" ({ref})" if ref else "")
        record = _Record(str(sobject), str(ref) if ref else None, label, fields, parent)
        yield record
        for name, children in nested.items():
            kids = children.get("records")
            if not isinstance(kids, list):
                problems.append(f"{label}: {name} holds an object that is not child records")
                continue
            yield from _flatten(kids, None, f"{label} > {name}", record, problems)


# ---- metadata: canonical names, prefixes, inferred fields -------------------------------------


class _Catalog:
    """What the emulator already knows (built-in metadata) plus what this import adds."""

    def __init__(self) -> None:
        self.builtin = load_builtin_metadata()
        self._objects = {name.lower(): name for name in self.builtin}
        self._fields: dict[str, dict[str, str]] = {
            name: {f["name"].lower(): f["name"] for f in d["fields"]}
            for name, d in self.builtin.items()
        }
        self.meta: dict[str, dict[str, dict[str, Any]]] = {
            name: {f["name"]: f for f in d["fields"]} for name, d in self.builtin.items()
        }
        used = {d.get("keyPrefix") for d in self.builtin.values()} | set(FALLBACK_PREFIXES.values())
        self._free_prefixes = (p for k in range(62, 62**2) if (p := "a" + base62(k, 2)) not in used)
        self.prefixes: dict[str, str] = {}

    def object_name(self, name: str) -> str:
        """The object's API name as the metadata spells it (names are case-insensitive)."""
        return self._objects.setdefault(name.lower(), name)

    def field_name(self, sobject: str, name: str) -> str:
        return self._fields.setdefault(sobject, {}).setdefault(name.lower(), name)

    def known(self, sobject: str, name: str) -> bool:
        return name in self.meta.get(sobject, {})

    def prefix(self, sobject: str) -> str:
        if sobject not in self.prefixes:
            self.prefixes[sobject] = key_prefix(sobject) or next(self._free_prefixes)
        return self.prefixes[sobject]

    def has_owner(self, sobject: str) -> bool:
        """Custom objects always have an owner; other objects when their metadata says so."""
        if sobject in self.builtin:
            return self.known(sobject, "OwnerId")
        return sobject.endswith("__c")


def _relationship_name(name: str) -> str:
    if name.endswith("__c"):
        return name[:-3] + "__r"
    return name[:-2] if name.lower().endswith("id") else name + "Ref"


def _label(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base).replace("_", " ").strip()


def infer_field(name: str, values: list[Any], ref_types: set[str]) -> dict[str, Any]:
    """A describe field entry for a field the metadata lacks, inferred from its values.

    References (values that were ``@Ref`` ids) become lookups to the referenced objects;
    otherwise all non-null values decide: booleans, numbers (scale from the decimals seen),
    dates, datetimes, emails, URLs, then text (textarea beyond 255 characters).
    """
    spec: dict[str, Any] = {"name": name, "label": _label(name), "custom": name.endswith("__c")}
    present = [v for v in values if v is not None]
    if ref_types:
        return spec | {"type": "reference", "referenceTo": sorted(ref_types),
                       "relationshipName": _relationship_name(name), "length": 18}  # fmt: skip
    if present and all(isinstance(v, bool) for v in present):
        return spec | {"type": "boolean", "nillable": False, "defaultValue": False}
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        scale = max((len(repr(float(v)).split(".")[1].rstrip("0")) for v in present), default=0)
        return spec | {"type": "double", "precision": 18, "scale": min(scale, 8)}
    texts = [v for v in present if isinstance(v, str)]
    if texts and len(texts) == len(present):
        for pattern, ftype in ((_DATE, "date"), (_DATETIME, "datetime")):
            if all(pattern.match(t) for t in texts):
                return spec | {"type": ftype}
        if all(_EMAIL.match(t) for t in texts):
            return spec | {"type": "email", "length": 80}
        if all(t.startswith(("http://", "https://")) for t in texts):
            return spec | {"type": "url", "length": 255}
        longest = max(len(t) for t in texts)
        if longest > 255:
            return spec | {"type": "textarea", "length": 32768 if longest <= 32768 else 131072}
    return spec | {"type": "string", "length": 255}


def _standard_fields() -> list[dict[str, Any]]:
    """Id and audit fields every object has (added for objects the metadata lacks)."""
    user = {"type": "reference", "referenceTo": ["User"], "length": 18}
    return [
        {"name": "Id", "type": "id", "label": "Record ID", "nillable": False},
        {"name": "IsDeleted", "type": "boolean", "label": "Deleted", "nillable": False},
        {"name": "CreatedDate", "type": "datetime", "label": "Created Date"},
        {"name": "CreatedById", "label": "Created By ID", "relationshipName": "CreatedBy"} | user,
        {"name": "LastModifiedDate", "type": "datetime", "label": "Last Modified Date"},
        {"name": "LastModifiedById", "label": "Last Modified By ID",
         "relationshipName": "LastModifiedBy"} | user,
        {"name": "SystemModstamp", "type": "datetime", "label": "System Modstamp"},
    ]  # fmt: skip


# ---- the import ---------------------------------------------------------------------------------


def _coerce(meta: Mapping[str, Any] | None, value: Any) -> Any:
    """Fit an exported value to a known field: a date given for a datetime gets midnight UTC."""
    if meta and meta.get("type") == "datetime" and isinstance(value, str) and _DATE.match(value):
        return value + "T00:00:00.000+0000"
    return value


def import_tree_export(
    out: Path, *, plans: list[Path], files: list[Path], force: bool = False
) -> ImportSummary:
    """Build the org directory ``out`` from data-tree plans and loose data-tree files.

    Args:
        out: The org directory to write.
        plans: ``sf data export tree`` plan files; their data files resolve next to them.
        files: Data-tree files no plan names (e.g. ``ActionCadenceStep.json``).
        force: Replace an org already in ``out``.

    Raises:
        ConfigError: no input, unreadable input, unresolved or duplicate references, or
            nested child records whose parent link cannot be told; every problem is listed.
    """
    problems: list[str] = []
    if not plans and not files:
        raise ConfigError(["give at least one --plan or --files"])
    inputs = [pair for plan in plans for pair in read_plan(plan, problems)]
    inputs += [(None, f) for f in files]
    catalog = _Catalog()
    summary = ImportSummary(out)
    records: list[_Record] = []
    digest = hashlib.sha256()
    for declared, path in inputs:
        if path.exists():
            digest.update(path.read_bytes())
        for record in read_records(path, declared, problems):
            record.sobject = catalog.object_name(record.sobject)
            if declared and catalog.object_name(declared) != record.sobject:
                summary.warnings.append(
                    f"{record.source}: the plan says {declared} but the record is "
                    f"{record.sobject}; imported as {record.sobject}"
                )
                declared = record.sobject  # one warning per file is enough
            records.append(record)
    _assign_ids(records, catalog)
    refs = _reference_map(records, problems)
    rows, observed = _resolve(records, refs, catalog, problems, summary.warnings)
    if problems:
        raise ConfigError(problems[:_MAX_PROBLEMS], source="import-tree input")
    prepare_out_dir(out, force)
    _write(out, rows, observed, catalog, summary, digest.hexdigest(), inputs)
    return summary


def _assign_ids(records: list[_Record], catalog: _Catalog) -> None:
    counters: dict[str, int] = {"User": 1}  # User 1 is the integration user
    for record in records:
        n = counters.get(record.sobject, 0) + 1
        counters[record.sobject] = n
        record.record_id = make_id(catalog.prefix(record.sobject), n)


def _reference_map(records: list[_Record], problems: list[str]) -> dict[str, _Record]:
    refs: dict[str, _Record] = {}
    for record in records:
        if record.ref is None:
            continue
        if record.ref in refs:
            first = refs[record.ref].source
            problems.append(f"{record.source}: referenceId {record.ref} already used by {first}")
        refs.setdefault(record.ref, record)
    return refs


Observed = dict[str, dict[str, tuple[list[Any], set[str]]]]


def _resolve(
    records: list[_Record],
    refs: Mapping[str, _Record],
    catalog: _Catalog,
    problems: list[str],
    warnings: list[str],
) -> tuple[list[tuple[str, dict[str, Any]]], Observed]:
    """Rows ready to write, and the values seen per field the metadata lacks."""
    observed: Observed = {}
    rows: list[tuple[str, dict[str, Any]]] = []
    for record in records:
        obj = record.sobject
        row: dict[str, Any] = {"Id": record.record_id}
        for raw_name, raw_value in record.fields.items():
            name = catalog.field_name(obj, raw_name)
            if name == "Id":
                warnings.append(f"{record.source}: its exported Id {raw_value!r} is replaced by "
                                f"{record.record_id} (ids are assigned on import)")  # fmt: skip
                continue
            value, target = raw_value, None
            if isinstance(value, str) and value.startswith("@"):
                target = refs.get(value[1:])
                if target is None:
                    problems.append(
                        f"{record.source}: {name} = {value!r}: no record has that referenceId "
                        "in these files (add the file that defines it)"
                    )
                    continue
                value = target.record_id
            if isinstance(value, list):
                problems.append(
                    f"{record.source}: {name} holds a list; data-tree values are scalars"
                )
                continue
            row[name] = _coerce(catalog.meta.get(obj, {}).get(name), value)
            if not catalog.known(obj, name):
                values, types = observed.setdefault(obj, {}).setdefault(name, ([], set()))
                values.append(row[name])
                if target is not None:
                    types.add(target.sobject)
        if record.parent is not None:
            link = _parent_field(obj, record.parent.sobject, catalog)
            if link is None:
                problems.append(
                    f"{record.source}: no lookup on {obj} points at {record.parent.sobject}; "
                    "cannot attach this nested record to its parent"
                )
            else:
                row[link] = record.parent.record_id
        rows.append((obj, row))
    return rows, observed


def _parent_field(child: str, parent: str, catalog: _Catalog) -> str | None:
    for meta in catalog.meta.get(child, {}).values():
        is_link = meta.get("type") == "reference" and parent in meta.get("referenceTo", [])
        if is_link and meta["name"] not in ("CreatedById", "LastModifiedById", "OwnerId"):
            return str(meta["name"])
    return None


def _write(
    out: Path,
    rows: list[tuple[str, dict[str, Any]]],
    observed: Observed,
    catalog: _Catalog,
    summary: ImportSummary,
    digest: str,
    inputs: list[tuple[str | None, Path]],
) -> None:
    rng = random.Random(digest)
    user_id = make_id(key_prefix("User") or "005", 1)
    with OrgWriter(out) as w:
        w.record("User", {
            "Id": user_id, "Username": INTEGRATION_EMAIL, "FirstName": "Integration",
            "LastName": "User", "Email": INTEGRATION_EMAIL, "Alias": "integ", "IsActive": True,
            "TimeZoneSidKey": "UTC", "LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US",
            "EmailEncodingKey": "UTF-8", "CreatedDate": IMPORT_TIME, "CreatedById": user_id,
            "LastModifiedDate": IMPORT_TIME, "LastModifiedById": user_id,
            "SystemModstamp": IMPORT_TIME, "IsDeleted": False,
        })  # fmt: skip
        for obj, row in rows:
            if catalog.has_owner(obj):
                row.setdefault("OwnerId", user_id)
            for name in _SYSTEM:
                row.setdefault(name, user_id if name.endswith("ById") else IMPORT_TIME)
            row.setdefault("IsDeleted", False)
            w.record(obj, row)
        summary.counts = {k: n for k, n in w.counts.items() if k != "User"}
        for obj in sorted({obj for obj, _ in rows}):
            entry = _schema_entry(obj, observed.get(obj, {}), catalog)
            if entry is not None:
                w.json_file(f"schema/{obj}.json", entry)
                summary.added_fields[obj] = [f["name"] for f in entry["fields"]]
        w.json_file("org.json", {
            "org_id": make_id("00D", 1 + int(digest[:12], 16) % 62**8),
            "name": "Imported org (sf data export tree)",
            "namespace": "leadfwd__",
            "api_version": "59.0",
            "integration_user": {
                "id": user_id, "username": INTEGRATION_EMAIL,
                "password": f"emulator-{rng.getrandbits(64):016x}",
                "client_id": f"3MVG9emulator{rng.getrandbits(96):024x}",
                "client_secret": f"{rng.getrandbits(256):064x}",
            },
            "daily_api_requests": 100_000,
            "hidden_fields": {},
            "source": {"generator": "import-tree", "files": [str(p) for _, p in inputs]},
        })  # fmt: skip
        w.json_file("dataverse-users.json", [
            {"internalemailaddress": INTEGRATION_EMAIL, "fullname": "Integration User",
             "isdisabled": False},
        ])  # fmt: skip


def _schema_entry(
    obj: str, fields: Mapping[str, tuple[list[Any], set[str]]], catalog: _Catalog
) -> dict[str, Any] | None:
    """``schema/<obj>.json``: new fields on a known object, or a whole new object."""
    specs = [infer_field(name, values, types) for name, (values, types) in fields.items()]
    if obj in catalog.builtin:
        return {"name": obj, "custom": False, "fields": specs} if specs else None
    custom = obj.endswith("__c")
    if custom:  # the emulator adds Name, OwnerId and the audit fields of a custom object
        specs = [s for s in specs if s["name"] not in ("Name", "OwnerId")]
    else:
        have = {s["name"] for s in specs}
        specs = [f for f in _standard_fields() if f["name"] not in have] + specs
    return {"name": obj, "label": _label(obj), "custom": custom,
            "keyPrefix": catalog.prefix(obj), "fields": specs}  # fmt: skip


# ---- the command ---------------------------------------------------------------------------------


def import_tree(
    out: Annotated[Path, typer.Option("--out", help="Org directory to write.")],
    plan: Annotated[
        list[Path] | None,
        typer.Option(
            "--plan", metavar="PLAN.json", help="An 'sf data export tree' plan file (repeatable)."
        ),
    ] = None,
    files: Annotated[
        list[Path] | None,
        typer.Option(
            "--files", metavar="FILE.json", help="A data-tree file no plan names (repeatable)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an org already in --out.")
    ] = False,
) -> None:
    """Build an org directory from Salesforce CLI data-tree exports (sf data export tree)."""
    summary = import_tree_export(out, plans=plan or [], files=files or [], force=force)
    typer.echo(json.dumps(summary.to_dict()))
