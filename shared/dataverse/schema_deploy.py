"""Create the custom columns and alternate keys a mapping needs, before any record is written.

``deploy_schema`` compares the mapping's required columns (``shared.mapping.required_columns``)
with the live metadata and builds a plan: columns to create, keys to create (one per
Salesforce-id column, so a person can find a record by its Salesforce id), what already
exists, and conflicts (a column of the same name with another type). It creates what is
missing, waits until every key index is ``Active`` (keys build asynchronously), and publishes
the tables. Running it again finds everything present and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.dataverse.client import DataverseClient
from shared.dataverse.metadata import TableInfo, fetch_table
from shared.errors import SchemaError
from shared.mapping.columns import ColumnSpec
from shared.quoting import odata_key

__all__ = [
    "DeployResult",
    "PlanStep",
    "column_body",
    "custom_table_count",
    "deploy_schema",
    "key_schema_name",
    "plan_schema",
]

NS = "Microsoft.Dynamics.CRM."
ODATA_TYPES = {
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
}
# AttributeType the metadata reports for each column type we create.
REPORTED_TYPES = {"MultiSelectPicklist": {"Virtual", "MultiSelectPicklist"}}

Action = Literal["create", "exists", "conflict"]


@dataclass(frozen=True)
class PlanStep:
    """One line of the plan: a column or key, and what deploy does about it."""

    kind: Literal["column", "key"]
    table: str
    name: str
    action: Action
    detail: str
    column: str = ""


@dataclass
class DeployResult:
    """The plan, what was done, and warnings for the person running it."""

    plan: list[PlanStep]
    created: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False


def key_schema_name(spec: ColumnSpec) -> str:
    """The alternate key's schema name for a column: ``<column schema name>_key``."""
    return f"{spec.schema_name}_key"


def _label(text: str) -> dict[str, Any]:
    return {
        "@odata.type": NS + "Label",
        "LocalizedLabels": [
            {"@odata.type": NS + "LocalizedLabel", "Label": text, "LanguageCode": 1033}
        ],
    }


def column_body(spec: ColumnSpec) -> dict[str, Any]:
    """The ``AttributeMetadata`` JSON that creates ``spec`` (see docs/type-mapping.md).

    Raises:
        SchemaError: a column type this tool cannot create.
    """
    if spec.type not in ODATA_TYPES:
        raise SchemaError(
            f"{spec.table}.{spec.logical_name}: cannot create a column of type {spec.type!r}",
            object_name=spec.table,
        )
    body: dict[str, Any] = {
        "@odata.type": NS + ODATA_TYPES[spec.type],
        "SchemaName": spec.schema_name,
        "DisplayName": _label(spec.label),
        "Description": _label(f"Migrated from Salesforce ({spec.label})"),
        "RequiredLevel": {"Value": "None", "CanBeChanged": True},
    }
    kind = spec.type
    if kind in ("String", "Memo"):
        body["MaxLength"] = spec.max_length or (100 if kind == "String" else 2000)
        if kind == "String":
            body["FormatName"] = {"Value": spec.format or "Text"}
        else:
            body["Format"] = "TextArea"
    elif kind in ("Integer", "BigInt", "Decimal", "Double", "Money"):
        if spec.min_value is not None:
            body["MinValue"] = spec.min_value
        if spec.max_value is not None:
            body["MaxValue"] = spec.max_value
        if kind == "Integer":
            body["Format"] = "None"
        if kind in ("Decimal", "Double", "Money") and spec.precision is not None:
            body["Precision"] = spec.precision
        if kind == "Money":
            body["PrecisionSource"] = 2
    elif kind == "Boolean":
        body["DefaultValue"] = False
        body["OptionSet"] = {
            "TrueOption": {"Value": 1, "Label": _label("Yes")},
            "FalseOption": {"Value": 0, "Label": _label("No")},
            "OptionSetType": "Boolean",
        }
    elif kind == "DateTime":
        body["Format"] = spec.date_format or "DateAndTime"
    else:
        if not spec.options:
            raise SchemaError(
                f"{spec.table}.{spec.logical_name}: a choice column needs options; add the "
                "field's values: map in the mapping",
                object_name=spec.table,
            )
        body["OptionSet"] = {
            "@odata.type": NS + "OptionSetMetadata",
            "IsGlobal": False,
            "OptionSetType": "Picklist",
            "Options": [{"Value": v, "Label": _label(label)} for v, label in spec.options],
        }
    return body


def plan_schema(specs: Sequence[ColumnSpec], tables: dict[str, TableInfo]) -> list[PlanStep]:
    """Compare required columns and keys with the live tables (pure)."""
    plan: list[PlanStep] = []
    for spec in specs:
        table = tables[spec.table]
        existing = table.attributes.get(spec.logical_name)
        detail = _describe(spec)
        if existing is None:
            plan.append(PlanStep("column", spec.table, spec.logical_name, "create", detail))
        elif existing.type not in REPORTED_TYPES.get(spec.type, {spec.type}):
            plan.append(
                PlanStep(
                    "column",
                    spec.table,
                    spec.logical_name,
                    "conflict",
                    f"exists as {existing.type}, the mapping needs {spec.type}",
                )
            )
        elif spec.max_length and existing.max_length and existing.max_length < spec.max_length:
            plan.append(
                PlanStep(
                    "column",
                    spec.table,
                    spec.logical_name,
                    "conflict",
                    f"exists with MaxLength {existing.max_length}, the mapping needs "
                    f"{spec.max_length}: widen it in the target first",
                )
            )
        else:
            plan.append(PlanStep("column", spec.table, spec.logical_name, "exists", detail))
        if spec.alternate_key:
            have = any(attrs == (spec.logical_name,) for attrs, _ in table.keys.values())
            plan.append(
                PlanStep(
                    "key",
                    spec.table,
                    key_schema_name(spec),
                    "exists" if have else "create",
                    f"alternate key on {spec.logical_name}",
                    column=spec.logical_name,
                )
            )
    return plan


def _describe(spec: ColumnSpec) -> str:
    extras = []
    if spec.max_length:
        extras.append(f"max {spec.max_length}")
    if spec.precision is not None:
        extras.append(f"precision {spec.precision}")
    if spec.date_format:
        extras.append(spec.date_format)
    if spec.options:
        extras.append(f"{len(spec.options)} options")
    return spec.type + (f" ({', '.join(extras)})" if extras else "")


async def custom_table_count(client: DataverseClient) -> int:
    """How many custom tables the environment has (plan limits count these)."""
    data = await client.get_json(
        "EntityDefinitions",
        params={"$select": "LogicalName,IsCustomEntity"},
        action="count custom tables",
    )
    return sum(1 for e in data.get("value", []) if e.get("IsCustomEntity"))


async def deploy_schema(
    client: DataverseClient,
    specs: Sequence[ColumnSpec],
    *,
    dry_run: bool = False,
    solution: str | None = None,
    custom_table_limit: int | None = None,
    key_timeout: float = 600.0,
    poll_seconds: float = 2.0,
    on_plan: Callable[[list[PlanStep]], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> DeployResult:
    """Plan, then (unless ``dry_run``) create columns and keys, wait for keys, publish.

    Args:
        on_plan: Called with the plan before anything changes (the CLI prints it).
        solution: Solution unique name that receives the new columns and keys.
        custom_table_limit: Warn when the environment's custom tables reach 80% of it.

    Raises:
        SchemaError: a conflicting column, a key whose index failed, or keys still not
            active after ``key_timeout`` seconds (rerun continues where it stopped).
    """
    tables = {
        name: await fetch_table(client, name, strong=True) for name in {s.table for s in specs}
    }
    plan = plan_schema(specs, tables)
    result = DeployResult(plan=plan, dry_run=dry_run)
    if custom_table_limit:
        count = await custom_table_count(client)
        if count >= 0.8 * custom_table_limit:
            result.warnings.append(
                f"the environment has {count} custom tables; the plan allows "
                f"{custom_table_limit}. This mapping adds columns only, but check licences "
                "before adding tables."
            )
    if on_plan is not None:
        on_plan(plan)
    conflicts = [p for p in plan if p.action == "conflict"]
    if conflicts:
        raise SchemaError(
            "the target has columns that clash with the mapping: "
            + "; ".join(f"{p.table}.{p.name} {p.detail}" for p in conflicts)
            + ". Rename the mapping's column or fix the target; nothing was changed."
        )
    if dry_run:
        return result
    headers = {"MSCRM.SolutionUniqueName": solution} if solution else None
    by_name = {(s.table, s.logical_name): s for s in specs}
    for step in plan:
        if step.action != "create" or step.kind != "column":
            continue
        await client.request(
            "POST",
            "EntityDefinitions" + odata_key(LogicalName=step.table) + "/Attributes",
            json=column_body(by_name[(step.table, step.name)]),
            headers=headers,
            action=f"create column {step.table}.{step.name}",
            object_name=step.table,
        )
        result.created.append(f"{step.table}.{step.name}")
    keys = [p for p in plan if p.kind == "key" and p.action == "create"]
    for step in keys:
        column = step.column
        await client.request(
            "POST",
            "EntityDefinitions" + odata_key(LogicalName=step.table) + "/Keys",
            json={
                "@odata.type": NS + "EntityKeyMetadata",
                "SchemaName": step.name,
                "DisplayName": _label(f"Salesforce id ({column})"),
                "KeyAttributes": [column],
            },
            headers=headers,
            action=f"create key {step.table}.{step.name}",
            object_name=step.table,
        )
        result.created.append(f"{step.table}.{step.name}")
    wanted = {(p.table, p.name) for p in plan if p.kind == "key"}
    if wanted:
        await _wait_for_keys(client, wanted, key_timeout, poll_seconds, clock)
    touched = sorted({p.table for p in plan if p.action == "create"})
    if touched:
        xml = "".join(f"<entity>{t}</entity>" for t in touched)
        await client.request(
            "POST",
            "PublishXml",
            json={"ParameterXml": f"<importexportxml><entities>{xml}</entities></importexportxml>"},
            action="PublishXml",
        )
        result.published = touched
    return result


async def _wait_for_keys(
    client: DataverseClient,
    wanted: set[tuple[str, str]],
    timeout: float,
    poll: float,
    clock: Callable[[], float],
) -> None:
    deadline = clock() + timeout
    while True:
        pending = []
        for table_name in sorted({t for t, _ in wanted}):
            table = await fetch_table(client, table_name, strong=True)
            for t, name in wanted:
                if t != table_name:
                    continue
                status = next(
                    (st for key, (_, st) in table.keys.items() if key.lower() == name.lower()),
                    "Missing",
                )
                if status == "Failed":
                    raise SchemaError(
                        f"alternate key {t}.{name} failed to build (duplicate values in the "
                        "column?). Fix the data, then reactivate the key (ReactivateEntityKey) "
                        "and rerun deploy-schema.",
                        object_name=t,
                    )
                if status != "Active":
                    pending.append(f"{t}.{name} ({status})")
        if not pending:
            return
        if clock() >= deadline:
            raise SchemaError(
                f"alternate keys not active after {timeout:.0f}s: {', '.join(pending)}. They "
                "are still building; rerun deploy-schema later (it resumes), and do not load "
                "until they are active."
            )
        await client.sleep(poll)
