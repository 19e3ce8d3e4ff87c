"""Shape stored rows as the API returns them: JSON records (REST) and CSV (Bulk API 2.0).

JSON records carry ``attributes`` {type, url}, nest parent paths under their relationship
name (``null`` when the lookup is empty), build compound address objects from their parts,
and return base64 fields as the URL of their body. CSV keeps dotted headers
(``Account.Name``), quotes every value, writes ``true``/``false`` and leaves nulls empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from emulators.salesforce.soql.compiler import KNOWN_PREFIXES, Column, CompiledQuery
from emulators.salesforce.store import OrgStore

__all__ = ["DELIMITERS", "api_value", "csv_lines", "fetch_rows", "json_records"]

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "SEMICOLON": ";",
    "PIPE": "|",
    "CARET": "^",
    "BACKQUOTE": "`",
}
_ADDRESS_KEYS = {
    "street": "street",
    "city": "city",
    "state": "state",
    "postalcode": "postalCode",
    "country": "country",
    "latitude": "latitude",
    "longitude": "longitude",
    "geocodeaccuracy": "geocodeAccuracy",
    "statecode": "stateCode",
    "countrycode": "countryCode",
}
_FETCH_CHUNK = 900


def fetch_rows(
    store: OrgStore, plan: CompiledQuery, rowids: Sequence[int]
) -> list[tuple[Any, ...]]:
    """Full rows for ``rowids``, in that order."""
    out: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(rowids), _FETCH_CHUNK):
        chunk = list(rowids[start : start + _FETCH_CHUNK])
        for row in store.execute(plan.fetch_sql(len(chunk)), [*plan.params_for_fetch(), *chunk]):
            out[row[0]] = row
    return [out[r] for r in rowids if r in out]


def api_value(meta: dict[str, Any], value: Any) -> Any:
    """A stored value as the JSON API writes it (checkbox → bool, numbers as numbers)."""
    if value is None:
        return None
    ftype = meta["type"]
    if ftype == "boolean":
        return bool(value)
    if ftype in ("int", "long"):
        return int(value)
    if ftype in ("double", "currency", "percent"):
        return float(value)
    return value


def _type_of(record_id: str | None, by_prefix: dict[str, str]) -> str | None:
    if not record_id:
        return None
    return by_prefix.get(record_id[:3]) or KNOWN_PREFIXES.get(record_id[:3])


def json_records(
    store: OrgStore, plan: CompiledQuery, rows: Iterable[tuple[Any, ...]], base: str
) -> list[dict[str, Any]]:
    """REST query records for ``rows`` (``base`` is ``/services/data/vNN.0``)."""
    by_prefix = {p: o.name for p, o in store.schema.by_prefix.items()}
    records = []
    n_rel = len(plan.relations)
    for row in rows:
        rid = row[1]
        rel_values = {
            rel.path: (row[2 + 2 * i], row[3 + 2 * i]) for i, rel in enumerate(plan.relations)
        }
        rel_types = {rel.path: rel.type_name for rel in plan.relations}
        record: dict[str, Any] = {
            "attributes": {"type": plan.obj.name, "url": f"{base}/sobjects/{plan.obj.name}/{rid}"}
        }
        pos = 2 + 2 * n_rel
        for col in plan.columns:
            width = len(col.sql)
            values = row[pos : pos + width]
            pos += width
            target = record
            skip = False
            for depth in range(1, len(col.path)):
                rel_path = col.path[:depth]
                key = rel_path[-1]
                if key not in target:
                    parent_id, type_sql = rel_values.get(rel_path, (None, None))
                    if parent_id is None:
                        target[key] = None
                    else:
                        tname = (
                            rel_types.get(rel_path) or type_sql or _type_of(parent_id, by_prefix)
                        )
                        target[key] = {
                            "attributes": {
                                "type": tname,
                                "url": f"{base}/sobjects/{tname}/{parent_id}",
                            }
                        }
                if target[key] is None:
                    skip = True
                    break
                target = target[key]
            if skip:
                continue
            target[col.path[-1]] = _column_json(col, values, plan.obj.name, base)
        records.append(record)
    return records


def _column_json(col: Column, values: Sequence[Any], obj_name: str, base: str) -> Any:
    if col.kind == "compound":
        if all(v is None for v in values):
            return None
        out: dict[str, Any] = {}
        prefix = col.meta["name"][: -len("Address")] if col.meta["name"].endswith("Address") else ""
        for part, value in zip(col.parts, values, strict=True):
            low = part.lower()
            if low.endswith("__latitude__s") or low.endswith("__longitude__s"):
                key = "latitude" if low.endswith("__latitude__s") else "longitude"
            else:
                suffix = low[len(prefix) :] if low.startswith(prefix.lower()) else low
                key = _ADDRESS_KEYS.get(suffix, suffix)
            out[key] = value
        return out
    if col.kind == "blob":
        owner = col.meta.get("_owner", obj_name)
        return f"{base}/sobjects/{owner}/{values[0]}/{col.meta['name']}" if values[0] else None
    return api_value(col.meta, values[0])


def _csv_cell(meta: dict[str, Any], value: Any) -> str:
    if value is None:
        return ""
    if meta["type"] == "boolean":
        text = "true" if value else "false"
    elif meta["type"] in ("double", "currency", "percent"):
        text = repr(float(value))
    else:
        text = str(value)
    return '"' + text.replace('"', '""') + '"'


def csv_lines(
    plan: CompiledQuery,
    rows: Iterable[tuple[Any, ...]],
    *,
    delimiter: str = ",",
    line_ending: str = "\n",
    header: bool = True,
) -> Iterator[str]:
    """Bulk API 2.0 CSV text for ``rows``, one line at a time."""
    if header:
        yield delimiter.join('"' + ".".join(c.path) + '"' for c in plan.columns) + line_ending
    n_rel = len(plan.relations)
    for row in rows:
        rel_ids = {rel.path: row[2 + 2 * i] for i, rel in enumerate(plan.relations)}
        pos = 2 + 2 * n_rel
        cells = []
        for col in plan.columns:
            value = row[pos]
            pos += len(col.sql)
            if len(col.path) > 1 and any(
                rel_ids.get(col.path[:d]) is None for d in range(1, len(col.path))
            ):
                value = None
            cells.append(_csv_cell(col.meta, value))
        yield delimiter.join(cells) + line_ending
