"""OData ``$batch`` with ``continue-on-error``: the fallback for tables without bulk messages.

Each row becomes one independent ``PATCH <set>(<id>)`` (an upsert by primary key; with
``If-Match: *`` an update only) inside one multipart request of at most 1000 parts. With
``Prefer: odata.continue-on-error`` the server runs every part and answers each in order, so
one bad row costs only itself. Each part's failure is classified like any other response.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from shared.dataverse.classify import classify
from shared.dataverse.client import DataverseClient
from shared.errors import MigrationError, TargetError
from shared.quoting import odata_key

__all__ = ["BatchPart", "build_batch", "parse_batch_response", "send_batch"]

MAX_PARTS = 1000


@dataclass(frozen=True)
class BatchPart:
    """One request inside a batch."""

    method: str
    url: str
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()


def build_batch(parts: Sequence[BatchPart], base: str, boundary: str) -> bytes:
    """The multipart/mixed body of a batch (no change sets: each part stands alone)."""
    if len(parts) > MAX_PARTS:
        raise ValueError(f"a $batch holds at most {MAX_PARTS} requests, got {len(parts)}")
    lines: list[str] = []
    for n, part in enumerate(parts, start=1):
        lines += [
            f"--{boundary}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: {n}",
            "",
            f"{part.method} {base}{part.url} HTTP/1.1",
        ]
        lines += [f"{k}: {v}" for k, v in part.headers]
        if part.body is not None:
            lines += ["Content-Type: application/json", "", json.dumps(part.body)]
        else:
            lines += [""]
        lines.append("")
    lines.append(f"--{boundary}--")
    return ("\r\n".join(lines) + "\r\n").encode()


def _boundary_of(content_type: str) -> str:
    for piece in content_type.split(";"):
        name, _, value = piece.strip().partition("=")
        if name.lower() == "boundary":
            return value.strip('"')
    raise TargetError(f"$batch response has no multipart boundary ({content_type!r})")


def parse_batch_response(response: httpx.Response) -> list[httpx.Response]:
    """Split a ``$batch`` response into one ``httpx.Response`` per part, in order.

    Change-set responses nested inside are flattened in order as well.
    """
    return _parse_multipart(response.content, _boundary_of(response.headers["content-type"]))


def _parse_multipart(content: bytes, boundary: str) -> list[httpx.Response]:
    text = content.decode("utf-8", errors="replace").replace("\r\n", "\n")
    out: list[httpx.Response] = []
    for chunk in text.split(f"--{boundary}")[1:]:
        if chunk.startswith("--"):
            break
        head, _, rest = chunk.lstrip("\n").partition("\n\n")
        headers = _headers(head)
        ctype = headers.get("content-type", "")
        if ctype.startswith("multipart/mixed"):
            out += _parse_multipart(rest.encode(), _boundary_of(ctype))
            continue
        status_line, _, after = rest.partition("\n")
        status = int(status_line.split()[1])
        inner_head, _, body = after.partition("\n\n")
        inner = _headers(inner_head)
        out.append(httpx.Response(status, headers=inner, content=body.strip().encode()))
    return out


def _headers(block: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in block.split("\n"):
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


async def send_batch(
    client: DataverseClient,
    parts: Sequence[BatchPart],
    *,
    object_name: str,
    record_ids: Sequence[str],
) -> list[MigrationError | None]:
    """Send parts as one ``$batch`` with continue-on-error; one error (or None) per part.

    The whole request is retried by the client on 429/5xx; a part that failed with a
    retryable status is returned as its error for the caller to resend.
    """
    boundary = f"batch_{uuid.uuid4()}"
    body = build_batch(parts, client.base, boundary)
    response = await client.request(
        "POST",
        "$batch",
        content=body,
        headers={
            "Content-Type": f"multipart/mixed; boundary={boundary}",
            "Prefer": "odata.continue-on-error",
        },
        action=f"$batch {object_name}",
        object_name=object_name,
    )
    answers = parse_batch_response(response)
    if len(answers) != len(parts):
        raise TargetError(
            f"$batch {object_name}: sent {len(parts)} requests, got {len(answers)} answers; "
            "the server ignored continue-on-error or the response was cut"
        )
    return [
        None
        if answer.status_code < 400
        else classify(answer, object_name=object_name, record_id=rid, action=f"$batch part {n}")
        for n, (answer, rid) in enumerate(zip(answers, record_ids, strict=True), start=1)
    ]


def upsert_part(
    entity_set: str, row_id: str, payload: dict[str, Any], *, update_only: bool
) -> BatchPart:
    """``PATCH <set>(<id>)``: upsert, or update only (``If-Match: *``) for existing rows."""
    headers = (("If-Match", "*"),) if update_only else ()
    return BatchPart("PATCH", entity_set + odata_key(row_id), payload, headers)
