"""Typed table and column metadata, parsed from the cited ``tables.yaml`` data file.

Everything the emulator validates (MaxLength, ranges, choices, lookup targets, which columns
are valid for create/update) and everything ``EntityDefinitions`` answers comes from here, so
the two can never disagree.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

_NS = uuid.UUID("0c6b6a44-7d0f-5a4e-9f55-2d1b6b0e9a11")
DATA_FILE = Path(__file__).with_name("tables.yaml")

LOOKUP_TYPES = frozenset({"Lookup", "Customer", "Owner"})
CHOICE_TYPES = frozenset({"Picklist", "State", "Status", "MultiSelectPicklist"})
ODATA_TYPE_OF = {
    "String": "StringAttributeMetadata",
    "Memo": "MemoAttributeMetadata",
    "Integer": "IntegerAttributeMetadata",
    "BigInt": "BigIntAttributeMetadata",
    "Decimal": "DecimalAttributeMetadata",
    "Double": "DoubleAttributeMetadata",
    "Money": "MoneyAttributeMetadata",
    "Boolean": "BooleanAttributeMetadata",
    "DateTime": "DateTimeAttributeMetadata",
    "Picklist": "PicklistAttributeMetadata",
    "MultiSelectPicklist": "MultiSelectPicklistAttributeMetadata",
    "State": "StateAttributeMetadata",
    "Status": "StatusAttributeMetadata",
    "Lookup": "LookupAttributeMetadata",
    "Customer": "LookupAttributeMetadata",
    "Owner": "LookupAttributeMetadata",
    "Uniqueidentifier": "UniqueIdentifierAttributeMetadata",
    "EntityName": "EntityNameAttributeMetadata",
    "PartyList": "LookupAttributeMetadata",
}


@dataclass
class Column:
    """One column (attribute) of a table, with the facts writes are validated against."""

    table: str
    logical: str
    schema: str
    type: str
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    options: dict[int, str] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    valid_create: bool = True
    valid_update: bool = True
    required: str = "None"
    format: str | None = None
    default: Any = None
    precision: int | None = None
    behavior: str = "UserLocal"
    is_primary: bool = False
    is_custom: bool = False
    metadata_id: str = ""

    def __post_init__(self) -> None:
        if not self.metadata_id:
            self.metadata_id = str(uuid.uuid5(_NS, f"{self.table}.{self.logical}"))

    @property
    def is_lookup(self) -> bool:
        """Lookup-like columns are read as ``_x_value`` and written by ``@odata.bind``."""
        return self.type in LOOKUP_TYPES


@dataclass
class Table:
    """One table (entity) with its columns, alternate keys and navigation properties."""

    logical: str
    schema: str
    entity_set: str
    primary_id: str
    primary_name: str
    otc: int
    is_activity: bool
    source: str
    columns: dict[str, Column]
    states: dict[int, tuple[str, int, dict[int, str]]] = field(default_factory=dict)
    parties: dict[str, tuple[int, ...]] = field(default_factory=dict)
    metadata_id: str = ""

    def __post_init__(self) -> None:
        if not self.metadata_id:
            self.metadata_id = str(uuid.uuid5(_NS, self.logical))

    def navigation(self) -> dict[str, tuple[Column, str]]:
        """Single-valued navigation property name → (lookup column, target table).

        Names follow the real conventions: the lookup's own name for single-target lookups
        and ``ownerid``; ``<lookup>_<target>`` for polymorphic ones (``parentcustomerid_account``,
        ``objectid_contact``, ``partyid_systemuser``); ``regardingobjectid_<target>_<activity>``
        on activities. Custom lookups use their schema name, as in real Dataverse.
        """
        out: dict[str, tuple[Column, str]] = {}
        for col in self.columns.values():
            if not col.is_lookup or not (col.valid_create or col.valid_update):
                continue
            if col.type == "Owner":
                for target in col.targets:
                    out.setdefault(col.logical, (col, target))
                continue
            base = col.schema if col.is_custom else col.logical
            if col.logical == "regardingobjectid" and self.is_activity:
                for target in col.targets:
                    out[f"regardingobjectid_{target}_{self.logical}"] = (col, target)
            elif len(col.targets) == 1:
                out[base] = (col, col.targets[0])
            else:
                for target in col.targets:
                    out[f"{base}_{target}"] = (col, target)
        return out

    def status_for(self, statecode: int) -> dict[int, str]:
        """Valid statuscode values of one statecode (empty if the state is unknown)."""
        entry = self.states.get(statecode)
        return entry[2] if entry else {}


def _parse_column(table: str, logical: str, spec: str) -> Column:
    parts = spec.split()
    col = Column(table=table, logical=logical, type=parts[0], schema=parts[1])
    for word in parts[2:]:
        if word == "primary":
            col.is_primary = True
            col.valid_update = False
        elif ".." in word and "=" not in word:
            low, high = word.split("..")
            col.min_value, col.max_value = float(low), float(high)
        elif word.isdigit():
            col.max_length = int(word)
        else:
            key, value = word.split("=", 1)
            if key == "targets":
                col.targets = tuple(value.split(","))
            elif key == "create":
                col.valid_create = value == "1"
            elif key == "update":
                col.valid_update = value == "1"
            elif key == "req":
                col.required = value
            elif key == "format":
                col.format = value
            elif key == "behavior":
                col.behavior = value
            elif key == "default":
                col.default = int(value)
            elif key == "opts":
                col.options = {-1: value}  # resolved by the loader
            else:  # pragma: no cover - data file error
                raise ValueError(f"{table}.{logical}: unknown token {word!r}")
    if col.type in ("Money", "Decimal"):
        col.precision = 2
    if col.type == "State":
        col.valid_create = False  # statecode is IsValidForCreate=False on every table
    if col.type == "Integer" and col.min_value is None:
        col.min_value, col.max_value = -2147483648.0, 2147483647.0
    return col


@cache
def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    return data


def load_standard_tables() -> dict[str, Table]:
    """Return fresh (mutable) metadata of every standard table, keyed by logical name."""
    raw = _raw()
    optionsets: dict[str, dict[int, str]] = raw["optionsets"]
    tables: dict[str, Table] = {}
    for logical, spec in raw["tables"].items():
        specs: dict[str, str] = {}
        for group in spec.get("include", []):
            specs.update(raw["groups"][group])
        specs.update(spec["columns"])
        specs.update(spec.get("overrides", {}))
        columns = {name: _parse_column(logical, name, text) for name, text in specs.items()}
        primary = next(c for c in columns.values() if c.is_primary)
        states_raw = raw["states"].get(logical, {})
        states = {
            int(s): (v[0], int(v[1]), {int(k): lbl for k, lbl in v[2].items()})
            for s, v in states_raw.items()
        }
        for col in columns.values():
            if col.options.get(-1):
                col.options = {int(k): v for k, v in optionsets[col.options[-1]].items()}
            elif col.type == "State":
                col.options = {code: entry[0] for code, entry in states.items()}
            elif col.type == "Status":
                col.options = {k: v for entry in states.values() for k, v in entry[2].items()}
        tables[logical] = Table(
            logical=logical,
            schema=spec["schema"],
            entity_set=spec["set"],
            primary_id=primary.logical,
            primary_name=spec["primaryname"],
            otc=int(spec["otc"]),
            is_activity=bool(spec.get("activity", False)),
            source=spec["source"],
            columns=columns,
            states=states,
            parties={k: tuple(v) for k, v in spec.get("parties", {}).items()},
        )
    return copy.deepcopy(tables)
