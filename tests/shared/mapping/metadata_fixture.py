"""Target metadata for tests: the Dataverse emulator's real standard tables plus our columns.

The standard tables come from the emulator's metadata (the same JSON its ``EntityDefinitions``
endpoint serves); the custom columns are those ``required_columns`` asks ``deploy-schema`` to
create, rendered in the AttributeMetadata shape.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from emulators.dataverse.metadata.model import load_standard_tables
from emulators.dataverse.metadata_api import attribute_json, entity_json
from shared.ids import org_namespace
from shared.mapping.columns import ColumnSpec, required_columns
from shared.mapping.context import ResolutionContext
from shared.mapping.loader import load_mapping
from shared.mapping.models import Mapping
from shared.mapping.prepare import build_context
from shared.mapping.target_metadata import TargetMetadata
from tests.conftest import REPO

DEFAULT_MAP = REPO / "mappings" / "leadfwd-to-dynamics365.yaml"


def column_json(spec: ColumnSpec) -> dict[str, Any]:
    """AttributeMetadata of a deployed custom column."""
    out: dict[str, Any] = {
        "LogicalName": spec.logical_name,
        "SchemaName": spec.schema_name,
        "AttributeType": "Virtual" if spec.type == "MultiSelectPicklist" else spec.type,
        "AttributeTypeName": {"Value": f"{spec.type}Type"},
        "IsValidForCreate": True,
        "RequiredLevel": {"Value": "None"},
    }
    if spec.max_length is not None:
        out["MaxLength"] = spec.max_length
    if spec.min_value is not None:
        out["MinValue"], out["MaxValue"] = spec.min_value, spec.max_value
    if spec.precision is not None:
        out["Precision"] = spec.precision
    if spec.date_format:
        out["Format"] = spec.date_format
    if spec.options:
        out["OptionSet"] = {"Options": [{"Value": v} for v, _ in spec.options]}
    return out


def entity_definitions(mapping: Mapping, tables: list[str] | None = None) -> list[dict[str, Any]]:
    """EntityDefinitions(...)?$expand=Attributes bodies, with option sets expanded."""
    std = load_standard_tables()
    extra: dict[str, list[dict[str, Any]]] = {}
    for spec in required_columns(mapping):
        extra.setdefault(spec.table, []).append(column_json(spec))
    wanted = tables or sorted({o.target for o in mapping.objects} | {"systemuser"})
    out = []
    for name in wanted:
        table = std[name]
        body = entity_json(table)
        body["Attributes"] = [
            attribute_json(table, col, expand_options=True) for col in table.columns.values()
        ] + extra.get(name, [])
        out.append(body)
    return out


def metadata_for(mapping: Mapping) -> TargetMetadata:
    """TargetMetadata for ``mapping`` after its custom columns were deployed."""
    return TargetMetadata.from_entity_definitions(
        entity_definitions(mapping), organization={"maxuploadfilesize": 5_242_880}
    )


@cache
def default_mapping() -> Mapping:
    """The shipped default map."""
    return load_mapping(DEFAULT_MAP)


@cache
def default_metadata() -> TargetMetadata:
    """Metadata fitting the default map."""
    return metadata_for(default_mapping())


GOLDEN_SAMPLES = REPO / "tests" / "shared" / "mapping" / "golden" / "samples.json"


def golden_samples() -> dict[str, Any]:
    """The golden sample records, users and org of ``tests/shared/mapping/golden``."""
    data: dict[str, Any] = json.loads(GOLDEN_SAMPLES.read_text(encoding="utf-8"))
    return data


def golden_context(mapping: Mapping, samples: dict[str, Any]) -> ResolutionContext:
    """The resolution context a run builds for the golden samples under ``mapping``."""
    return build_context(
        samples["records"],
        mapping,
        namespace=org_namespace(samples["org_id"]),
        users=samples["users"],
        fallback_owner_email=samples["fallback_owner_email"],
        run_id="run-golden",
    )
