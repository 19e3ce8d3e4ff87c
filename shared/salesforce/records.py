"""Turn what Salesforce returns into the staged record form (pure functions).

The staged form is the contract with the transform (see docs/stage.md): exactly the requested
fields as keys, parent paths flattened to dotted keys (``"Owner.Email"``), no ``attributes``,
values typed as the REST API types them. REST JSON and Bulk API 2.0 CSV both end up here, so
an object extracted either way stages identical records.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from shared.errors import SourceError

# describe ``type`` values whose REST JSON value is a number or a boolean; everything else
# (ids, strings, picklists, dates, datetimes, base64 references...) is a string in REST JSON.
INT_TYPES = frozenset({"int", "long"})
FLOAT_TYPES = frozenset({"double", "currency", "percent"})
BOOL_TYPES = frozenset({"boolean"})


def shape_rest_record(raw: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """Pick ``fields`` out of one REST query record, flattening parent paths.

    ``{"Owner": {"attributes": ..., "Email": "a@x"}}`` with field ``Owner.Email`` gives
    ``{"Owner.Email": "a@x"}``; a null parent gives null for every path through it.
    """
    out: dict[str, Any] = {}
    for field in fields:
        node: Any = raw
        for part in field.split("."):
            if not isinstance(node, Mapping):
                node = None
                break
            node = _get_ci(node, part)
        out[field] = node
    return out


def _get_ci(node: Mapping[str, Any], key: str) -> Any:
    # SOQL is case-insensitive; the REST response uses the describe spelling, which may
    # differ from the mapping's. Exact first, then a case-insensitive match.
    if key in node:
        return node[key]
    low = key.lower()
    for k, v in node.items():
        if k.lower() == low:
            return v
    return None


def convert_csv_value(value: str, sf_type: str) -> Any:
    """One Bulk 2.0 CSV cell to the value REST would return for a field of ``sf_type``.

    Empty cell → null (Bulk 2.0 writes nulls as empty cells; an empty string does not exist
    in Salesforce, which stores it as null).

    Raises:
        ValueError: a numeric or boolean cell that does not parse.
    """
    if value == "":
        return None
    if sf_type in BOOL_TYPES:
        if value in {"true", "false"}:
            return value == "true"
        raise ValueError(f"{value!r} is not true/false")
    if sf_type in INT_TYPES:
        return int(value)
    if sf_type in FLOAT_TYPES:
        return float(value)
    return value


def csv_records(
    page: str, fields: Sequence[str], types: Mapping[str, str], sobject: str
) -> Iterator[dict[str, Any]]:
    """Parse one Bulk 2.0 CSV result page into staged records with exactly ``fields``.

    Raises:
        SourceError: the CSV header lacks a requested field, or a cell cannot be typed
            (naming the record Id, the field and the value).
    """
    reader = csv.reader(io.StringIO(page, newline=""))
    header = next(reader, None)
    if header is None:
        return
    index = {name.lower(): pos for pos, name in enumerate(header)}
    missing = [f for f in fields if f.lower() not in index]
    if missing:
        raise SourceError(
            f"{sobject}: Bulk API result has no column for {', '.join(missing)}; "
            "check the field names in the mapping",
            object_name=sobject,
        )
    positions = [(f, index[f.lower()], types.get(f, "string")) for f in fields]
    id_pos = index.get("id")
    for row in reader:
        record: dict[str, Any] = {}
        for field, pos, sf_type in positions:
            cell = row[pos] if pos < len(row) else ""
            try:
                record[field] = convert_csv_value(cell, sf_type)
            except ValueError as exc:
                rid = row[id_pos] if id_pos is not None and id_pos < len(row) else None
                raise SourceError(
                    f"{sobject} {rid}: {field} {cell!r} is not a valid {sf_type} ({exc}); "
                    "the Bulk API returned a value the describe type does not allow",
                    object_name=sobject,
                    record_id=rid,
                ) from None
        yield record


def normalise_rest_numbers(record: dict[str, Any], types: Mapping[str, str]) -> dict[str, Any]:
    """Make REST numbers match CSV typing: every double/currency/percent value is a float.

    REST JSON may carry ``5`` or ``5.0`` for the same double; the stage always holds ``5.0``,
    so a REST-extracted and a Bulk-extracted object stage identical records.
    """
    for field, value in record.items():
        sf_type = types.get(field)
        if sf_type in FLOAT_TYPES and isinstance(value, int) and not isinstance(value, bool):
            record[field] = float(value)
    return record
