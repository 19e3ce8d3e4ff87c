"""Chunked note upload and download (``Initialize/UploadBlock/Commit``, ``DownloadBlock``).

The loader sends files larger than ``maxuploadfilesize`` this way. Upload state lives in
memory: a restart drops unfinished uploads, as an expired continuation token would.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from emulators.dataverse.environment import Environment
from emulators.dataverse.errors import bad_request, not_found
from emulators.dataverse.protocol import ApiReply, ApiRequest
from emulators.dataverse.records import build_create, build_update, prepare, save

MESSAGES = frozenset(
    {
        "InitializeAnnotationBlocksUpload",
        "UploadBlock",
        "CommitAnnotationBlocksUpload",
        "InitializeAnnotationBlocksDownload",
        "DownloadBlock",
    }
)
MAX_BLOCK = 4 * 1024 * 1024
MAX_OPEN_DOWNLOADS = 64


def _token(env: Environment, body: dict[str, Any]) -> str:
    token = body.get("FileContinuationToken")
    known = env.block_uploads.keys() | env.block_downloads.keys()
    if not isinstance(token, str) or token not in known:
        raise bad_request("The FileContinuationToken is not valid or has expired.")
    return token


def handle(env: Environment, req: ApiRequest, message: str) -> ApiReply:
    """Run one of the block messages."""
    body = req.json()
    if message == "InitializeAnnotationBlocksUpload":
        target = body.get("Target") or {}
        token = secrets.token_urlsafe(24)
        env.block_uploads[token] = {"target": target, "blocks": {}}
        return ApiReply(200, {"FileContinuationToken": token})
    if message == "UploadBlock":
        token = _token(env, body)
        data = base64.b64decode(str(body.get("BlockData") or ""))
        if len(data) > MAX_BLOCK:
            raise bad_request("A block can hold at most 4 MB.")
        env.block_uploads[token]["blocks"][str(body.get("BlockId"))] = data
        return ApiReply(204)
    if message == "CommitAnnotationBlocksUpload":
        token = _token(env, body)
        state = env.block_uploads.pop(token)
        blocks = state["blocks"]
        missing = [b for b in body.get("BlockList") or [] if b not in blocks]
        if missing:
            raise bad_request(f"The block list names blocks that were not uploaded: {missing}.")
        content = b"".join(blocks[b] for b in body.get("BlockList") or [])
        target = dict(body.get("Target") or state["target"])
        return _commit(env, req, target, content)
    if message == "InitializeAnnotationBlocksDownload":
        target = body.get("Target") or {}
        row = env.store.get("annotation", str(target.get("annotationid")))
        if row is None:
            raise not_found("annotation", str(target.get("annotationid")))
        content = base64.b64decode(row.get("documentbody") or "")
        token = secrets.token_urlsafe(24)
        env.block_downloads[token] = content
        while len(env.block_downloads) > MAX_OPEN_DOWNLOADS:  # oldest tokens expire first
            env.block_downloads.pop(next(iter(env.block_downloads)))
        return ApiReply(
            200,
            {
                "FileContinuationToken": token,
                "FileSizeInBytes": len(content),
                "FileName": row.get("filename"),
            },
        )
    token = _token(env, body)
    content = env.block_downloads[token]
    offset, length = int(body.get("Offset", 0)), int(body.get("BlockLength", MAX_BLOCK))
    return ApiReply(200, {"Data": base64.b64encode(content[offset : offset + length]).decode()})


def _commit(env: Environment, req: ApiRequest, target: dict[str, Any], content: bytes) -> ApiReply:
    table = env.tables["annotation"]
    rid = str(target.pop("annotationid", "") or "")
    if not rid:
        raise bad_request("Target.annotationid is required: generate the note id yourself.")
    body = {k: v for k, v in target.items() if k != "documentbody"}
    existing = env.store.get("annotation", rid)
    prepared = prepare(env, table, body, "update" if existing else "create")
    if existing:
        row = build_update(env, table, existing, prepared, req.caller)
    else:
        rid, row = build_create(env, table, prepared, req.caller, rid)
    row["documentbody"] = base64.b64encode(content).decode()
    row["isdocument"] = True
    row["filesize"] = len(content)
    save(env, table, [(rid, row)])
    return ApiReply(200, {"AnnotationId": rid, "FileSizeInBytes": len(content)})
