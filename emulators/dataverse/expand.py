"""``$expand`` on records: single-valued lookups and an activity's parties.

``$expand=parentcustomerid_account($select=name),ownerid($select=fullname)`` nests the
related row (or ``null`` when the lookup is empty or points at another table);
``$expand=email_activity_parties`` lists the activity's parties. Nested ``$select`` is
honoured; nested ``$filter``/``$expand`` are not supported.
"""

from __future__ import annotations

import re
from typing import Any

from emulators.dataverse.addressing import split_top
from emulators.dataverse.environment import Environment
from emulators.dataverse.errors import odata_error
from emulators.dataverse.metadata import Table
from emulators.dataverse.protocol import AnnotationFilter
from emulators.dataverse.represent import column_of_property, name_resolver, represent
from emulators.dataverse.store import Row

_ITEM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.S)


def parse_expand(text: str | None) -> list[tuple[str, dict[str, str]]]:
    """``a($select=x;$top=2),b`` → ``[("a", {"$select": "x", "$top": "2"}), ("b", {})]``."""
    items: list[tuple[str, dict[str, str]]] = []
    for part in split_top(text or ""):
        if not part.strip():
            continue
        match = _ITEM.match(part)
        if not match:
            raise odata_error(f"Syntax error in $expand near '{part}'.")
        options = {}
        for opt in (match.group(2) or "").split(";"):
            name, _, value = opt.partition("=")
            if name.strip():
                options[name.strip()] = value.strip()
        items.append((match.group(1), options))
    return items


def _select(table: Table, text: str | None) -> list[str] | None:
    if not text:
        return None
    return [column_of_property(table, p.strip()) for p in text.split(",") if p.strip()]


def expand_row(
    env: Environment,
    table: Table,
    row: Row,
    text: str | None,
    wanted: AnnotationFilter,
    out: dict[str, Any],
) -> None:
    """Add the expanded navigation properties of ``row`` to its representation ``out``."""
    navs = table.navigation()
    names = name_resolver(env)
    for nav, options in parse_expand(text):
        unsupported = set(options) - {"$select"}
        if unsupported:
            raise odata_error(f"$expand options {sorted(unsupported)} are not supported.", 501)
        if table.is_activity and nav == f"{table.logical}_activity_parties":
            parties = env.tables["activityparty"]
            rid = str(row[table.primary_id])
            found = env.store.get_many(
                "activityparty", env.store.find_by("activityparty", {"activityid": rid})
            )
            ordered = sorted(
                found.values(),
                key=lambda p: (p.get("participationtypemask") or 0, p["activitypartyid"]),
            )
            select = _select(parties, options.get("$select"))
            out[nav] = [represent(parties, p, select, wanted, names) for p in ordered]
            continue
        if nav not in navs:
            raise odata_error(
                f"Could not find a property named '{nav}' on type "
                f"'Microsoft.Dynamics.CRM.{table.logical}'."
            )
        column, target = navs[nav]
        target_id = row.get(column.logical)
        actual = row.get(f"@t.{column.logical}")
        if not target_id or (column.type != "Owner" and actual != target):
            out[nav] = None
            continue
        target_table = env.tables[str(actual)]
        related = env.store.get(target_table.logical, str(target_id))
        select = _select(target_table, options.get("$select"))
        out[nav] = (
            None if related is None else represent(target_table, related, select, wanted, names)
        )
