"""``$batch``: multipart/mixed requests, atomic change sets, ``Content-ID`` references.

Requests run in order. A change set is one transaction: the first failure rolls it back and
its error is the change set's only response. Outside change sets processing stops at the
first failure unless ``Prefer: odata.continue-on-error`` is sent. At most 1000 requests.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from emulators.dataverse.environment import Environment
from emulators.dataverse.errors import DataverseFault, bad_request
from emulators.dataverse.protocol import API_PREFIX, ApiReply, ApiRequest, fault_reply

MAX_REQUESTS = 1000
Dispatch = Callable[[Environment, ApiRequest], ApiReply]
REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
}


@dataclass
class Part:
    """One request inside the batch."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    """Requests that commit together."""

    parts: list[Part] = field(default_factory=list)


def _boundary(content_type: str) -> str:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise bad_request("The batch request must be multipart/mixed with a boundary.")
    return match.group(1)


def _split(body: bytes, boundary: str) -> list[bytes]:
    delimiter = b"--" + boundary.encode()
    chunks = body.split(delimiter)[1:]
    out = []
    for chunk in chunks:
        if chunk.startswith(b"--"):
            break
        out.append(chunk.lstrip(b"\r\n") if chunk.startswith((b"\r\n", b"\n")) else chunk)
    return out


def _headers_and_body(chunk: bytes) -> tuple[dict[str, str], bytes]:
    text = chunk.replace(b"\r\n", b"\n")
    head, _, rest = text.partition(b"\n\n")
    headers = {}
    for line in head.decode("utf-8", "replace").split("\n"):
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def _part(chunk: bytes) -> Part:
    outer, inner = _headers_and_body(chunk)
    request_headers, body = _headers_and_body(inner)
    lines = inner.replace(b"\r\n", b"\n").split(b"\n", 1)
    request_line = lines[0].decode().strip()
    method, _, target = request_line.partition(" ")
    if target.upper().endswith((" HTTP/1.1", " HTTP/1.0")):
        target = target[:-9]
    return Part(
        method.upper(),
        target,
        dict(request_headers),
        body.rstrip(b"\n"),
        outer.get("content-id"),
    )


def parse(body: bytes, content_type: str) -> list[Part | ChangeSet]:
    """Parse a ``$batch`` body into requests and change sets."""
    items: list[Part | ChangeSet] = []
    count = 0
    for chunk in _split(body, _boundary(content_type)):
        headers, rest = _headers_and_body(chunk)
        if headers.get("content-type", "").startswith("multipart/mixed"):
            changeset = ChangeSet(
                [_part(c) for c in _split(rest, _boundary(headers["content-type"]))]
            )
            if any(p.method == "GET" for p in changeset.parts):
                raise bad_request("GET requests are not allowed inside a change set.")
            count += len(changeset.parts)
            items.append(changeset)
        else:
            items.append(_part(chunk))
            count += 1
    if count > MAX_REQUESTS:
        raise bad_request(
            f"The number of requests in the batch ({count}) exceeds the maximum of {MAX_REQUESTS}.",
            "0x80040203",
        )
    return items


def _relative(target: str) -> str:
    if API_PREFIX in target:
        return target.split(API_PREFIX, 1)[1]
    return target.lstrip("/")


def _http(reply: ApiReply, content_id: str | None) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, '')}"]
    for name, value in reply.headers.items():
        lines.append(f"{name}: {value}")
    body = reply.encoded().decode()
    if body:
        lines.append(f"Content-Type: {reply.content_type()}")
    lines += ["", body]
    return "\r\n".join(lines)


def handle(
    env: Environment, req: ApiRequest, dispatch: Dispatch
) -> tuple[ApiReply, list[tuple[ApiRequest, ApiReply]]]:
    """Run the batch; returns the multipart reply and every executed (request, reply) pair."""
    items = parse(req.body, req.headers.get("content-type", ""))
    continue_on_error = "odata.continue-on-error" in req.prefer()
    boundary = f"batchresponse_{uuid.uuid4()}"
    sections: list[str] = []
    executed: list[tuple[ApiRequest, ApiReply]] = []

    def sub(part: Part, ids: dict[str, str]) -> ApiRequest:
        headers = {
            **{k: v for k, v in req.headers.items() if k in ("prefer",) and "return" not in v},
            **part.headers,
        }
        sub_req = ApiRequest.from_target(
            part.method, _relative(part.target), headers, part.body, req.caller, req.base_url
        )
        sub_req.content_ids = ids
        return sub_req

    for item in items:
        if isinstance(item, Part):
            sub_req = sub(item, {})
            reply = dispatch(env, sub_req)
            executed.append((sub_req, reply))
            sections.append(_http(reply, item.content_id))
            if reply.status >= 400 and not continue_on_error:
                break
            continue
        ids: dict[str, str] = {}
        cs_boundary = f"changesetresponse_{uuid.uuid4()}"
        cs_replies: list[tuple[ApiReply, str | None]] = []
        failed: ApiReply | None = None
        try:
            with env.store.transaction():
                for part in item.parts:
                    sub_req = sub(part, ids)
                    reply = dispatch(env, sub_req)
                    executed.append((sub_req, reply))
                    if reply.status >= 400:
                        failed = reply
                        raise _RollbackError
                    location = reply.headers.get("OData-EntityId")
                    if part.content_id and location:
                        ids[part.content_id] = location
                    cs_replies.append((reply, part.content_id))
        except _RollbackError:
            pass
        if failed is not None:
            sections.append(_http(failed, None))
            if not continue_on_error:
                break
            continue
        inner = "".join(f"--{cs_boundary}\r\n{_http(r, cid)}\r\n" for r, cid in cs_replies)
        sections.append(
            f"Content-Type: multipart/mixed; boundary={cs_boundary}\r\n\r\n{inner}--{cs_boundary}--"
        )
    text = "".join(f"--{boundary}\r\n{s}\r\n" for s in sections) + f"--{boundary}--\r\n"
    return ApiReply(200, text, {"content-type": f"multipart/mixed; boundary={boundary}"}), executed


class _RollbackError(Exception):
    pass


def batch_fault(fault: DataverseFault) -> ApiReply:
    """A malformed batch is refused as a whole."""
    return fault_reply(fault)
