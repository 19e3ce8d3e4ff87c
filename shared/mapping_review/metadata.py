"""Read the two vendors' metadata into small, plain field descriptions.

The matcher must not care whether metadata came from a live org or from saved files, so both
paths end here: a Salesforce ``sobjects/<Object>/describe`` response becomes a
:class:`SourceObject`, a Dataverse ``EntityDefinitions(LogicalName='<table>')?$expand=Attributes``
response becomes a :class:`TargetTable`. Only what the matcher and the review need is kept.

Offline directories hold one JSON file per object: ``<DIR>/<Object>.json`` (describe) and
optionally ``<DIR>/<Object>.records.json`` (a query response, ``{"records": [...]}``, used for
value profiles); ``<DIR>/<table>.json`` for Dataverse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.errors import ConfigError


@dataclass(frozen=True)
class PicklistValue:
    """One Salesforce picklist entry (API value and the label people see)."""

    value: str
    label: str
    active: bool = True


@dataclass(frozen=True)
class SourceField:
    """One field of a Salesforce describe result."""

    object_name: str
    name: str
    label: str
    type: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    custom: bool = False
    createable: bool = True
    calculated: bool = False
    reference_to: tuple[str, ...] = ()
    picklist: tuple[PicklistValue, ...] = ()
    compound_name: str | None = None


@dataclass(frozen=True)
class SourceObject:
    """A Salesforce object: its fields and, when available, sampled records."""

    name: str
    label: str
    fields: tuple[SourceField, ...]
    samples: tuple[dict[str, Any], ...] = ()

    def values_of(self, field_name: str) -> list[Any]:
        """The sampled values of one field, in sample order."""
        return [r.get(field_name) for r in self.samples]


@dataclass(frozen=True)
class ChoiceOption:
    """One Dataverse choice option (integer value and its label)."""

    value: int
    label: str


@dataclass(frozen=True)
class TargetColumn:
    """One Dataverse column (``AttributeMetadata``)."""

    table: str
    logical_name: str
    label: str
    attribute_type: str
    format_name: str | None = None
    max_length: int | None = None
    custom: bool = False
    valid_for_create: bool = True
    valid_for_update: bool = True
    is_primary_id: bool = False
    attribute_of: str | None = None
    targets: tuple[str, ...] = ()
    options: tuple[ChoiceOption, ...] = ()
    date_only: bool = False

    @property
    def writable(self) -> bool:
        """A column the pipeline can fill: settable, not a shadow of another column."""
        if self.attribute_type == "Virtual":
            return self.format_name == "MultiSelectPicklist"
        if self.is_primary_id or self.attribute_of is not None:
            return False
        if self.attribute_type in {"EntityName", "CalendarRules", "ManagedProperty"}:
            return False
        return self.valid_for_create or self.valid_for_update


@dataclass(frozen=True)
class TargetTable:
    """A Dataverse table and its columns."""

    logical_name: str
    label: str
    entity_set: str
    columns: tuple[TargetColumn, ...] = field(default_factory=tuple)

    def column(self, logical_name: str) -> TargetColumn | None:
        """The column with this logical name, if the table has it."""
        for col in self.columns:
            if col.logical_name == logical_name:
                return col
        return None


def _label(meta: Any) -> str:
    """The display label of a Dataverse ``Label`` object (user label, else first localized)."""
    if not isinstance(meta, dict):
        return ""
    user = meta.get("UserLocalizedLabel")
    if isinstance(user, dict) and user.get("Label"):
        return str(user["Label"])
    for loc in meta.get("LocalizedLabels") or []:
        if isinstance(loc, dict) and loc.get("Label"):
            return str(loc["Label"])
    return ""


def parse_describe(
    data: dict[str, Any], samples: list[dict[str, Any]] | None = None
) -> SourceObject:
    """Turn a Salesforce describe response into a :class:`SourceObject`.

    Raises:
        ConfigError: The JSON is not a describe response (no ``name`` or ``fields``).
    """
    if isinstance(data, dict) and isinstance(data.get("result"), dict) and "fields" not in data:
        data = data["result"]  # `sf sobject describe --sobject X --json` wraps the response
    if not isinstance(data, dict) or "name" not in data or "fields" not in data:
        raise ConfigError(
            ["not a Salesforce describe response: expected top-level 'name' and 'fields'"]
        )
    name = str(data["name"])
    fields = tuple(
        SourceField(
            object_name=name,
            name=str(f["name"]),
            label=str(f.get("label") or f["name"]),
            type=str(f.get("type") or "string"),
            length=int(f.get("length") or 0),
            precision=int(f.get("precision") or f.get("digits") or 0),
            scale=int(f.get("scale") or 0),
            custom=bool(f.get("custom", False)),
            createable=bool(f.get("createable", True)),
            calculated=bool(f.get("calculated", False)),
            reference_to=tuple(str(r) for r in f.get("referenceTo") or []),
            picklist=tuple(
                PicklistValue(
                    value=str(p.get("value")),
                    label=str(p.get("label") or p.get("value")),
                    active=bool(p.get("active", True)),
                )
                for p in f.get("picklistValues") or []
            ),
            compound_name=f.get("compoundFieldName"),
        )
        for f in data["fields"]
    )
    clean = [{k: v for k, v in r.items() if k != "attributes"} for r in samples or []]
    return SourceObject(
        name=name, label=str(data.get("label") or name), fields=fields, samples=tuple(clean)
    )


def _odata_kind(attr: dict[str, Any]) -> str:
    odata = str(attr.get("@odata.type") or "")
    return odata.rsplit(".", 1)[-1].removesuffix("AttributeMetadata")


def parse_entity_definition(data: dict[str, Any]) -> TargetTable:
    """Turn a Dataverse ``EntityDefinitions(...)?$expand=Attributes`` response into a table.

    Choice options are read when the attribute carries ``OptionSet`` (or ``GlobalOptionSet``)
    inline, as a cast query or a saved, enriched definition does.

    Raises:
        ConfigError: The JSON is not an entity definition (no ``LogicalName`` or ``Attributes``).
    """
    if not isinstance(data, dict) or "LogicalName" not in data or "Attributes" not in data:
        raise ConfigError(
            ["not a Dataverse entity definition: expected 'LogicalName' and 'Attributes'"]
        )
    table = str(data["LogicalName"])
    columns = []
    for attr in data["Attributes"]:
        attr_type = str(attr.get("AttributeType") or _odata_kind(attr) or "String")
        type_name = (attr.get("AttributeTypeName") or {}).get("Value")
        fmt = (attr.get("FormatName") or {}).get("Value") or attr.get("Format")
        if type_name == "MultiSelectPicklistType":
            attr_type, fmt = "Virtual", "MultiSelectPicklist"
        option_set = attr.get("OptionSet") or attr.get("GlobalOptionSet") or {}
        options = tuple(
            ChoiceOption(value=int(o["Value"]), label=_label(o.get("Label")))
            for o in option_set.get("Options") or []
            if isinstance(o, dict) and "Value" in o
        )
        columns.append(
            TargetColumn(
                table=table,
                logical_name=str(attr["LogicalName"]),
                label=_label(attr.get("DisplayName")),
                attribute_type=attr_type,
                format_name=str(fmt) if fmt else None,
                max_length=attr.get("MaxLength"),
                custom=bool(attr.get("IsCustomAttribute", False)),
                valid_for_create=bool(attr.get("IsValidForCreate", True)),
                valid_for_update=bool(attr.get("IsValidForUpdate", True)),
                is_primary_id=bool(attr.get("IsPrimaryId", False)),
                attribute_of=attr.get("AttributeOf"),
                targets=tuple(str(t) for t in attr.get("Targets") or []),
                options=options,
                date_only=attr.get("Format") == "DateOnly"
                or (attr.get("DateTimeBehavior") or {}).get("Value") == "DateOnly",
            )
        )
    return TargetTable(
        logical_name=table,
        label=_label(data.get("DisplayName")) or table,
        entity_set=str(data.get("EntitySetName") or table + "s"),
        columns=tuple(columns),
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from None


def read_source_dir(directory: Path) -> dict[str, SourceObject]:
    """Read every ``<Object>.json`` describe (and ``<Object>.records.json`` samples) in a folder.

    Raises:
        ConfigError: The folder is missing or empty, or a file is not a describe response.
    """
    if not directory.is_dir():
        raise ConfigError([f"source describe folder {directory} does not exist"])
    out: dict[str, SourceObject] = {}
    for path in sorted(directory.glob("*.json")):
        if path.name.endswith(".records.json"):
            continue
        samples_path = path.with_name(path.stem + ".records.json")
        samples: list[dict[str, Any]] = []
        if samples_path.exists():
            raw = _read_json(samples_path)
            samples = list(raw.get("records", []) if isinstance(raw, dict) else raw)
        try:
            obj = parse_describe(_read_json(path), samples)
        except ConfigError as exc:
            raise ConfigError([f"{path}: {p}" for p in exc.problems]) from None
        out[obj.name] = obj
    if not out:
        raise ConfigError(
            [f"source describe folder {directory} holds no <Object>.json describe responses"]
        )
    return out


def read_target_dir(directory: Path) -> dict[str, TargetTable]:
    """Read every ``<table>.json`` entity definition in a folder.

    Raises:
        ConfigError: The folder is missing or empty, or a file is not an entity definition.
    """
    if not directory.is_dir():
        raise ConfigError([f"target metadata folder {directory} does not exist"])
    out: dict[str, TargetTable] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            table = parse_entity_definition(_read_json(path))
        except ConfigError as exc:
            raise ConfigError([f"{path}: {p}" for p in exc.problems]) from None
        out[table.logical_name] = table
    if not out:
        raise ConfigError(
            [f"target metadata folder {directory} holds no <table>.json entity definitions"]
        )
    return out
