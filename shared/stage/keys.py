"""Stage key builders and checks, so every module spells the layout the same way.

See ``shared/stage/base.py`` for the layout. Keys are ``/``-separated in both backends; a key
can never climb out of the stage root or collide with a backend's temporary files.
"""

from __future__ import annotations

import re

from shared.errors import StageError

_SEGMENT = re.compile(r"^[A-Za-z0-9_.@=+-][A-Za-z0-9_.@=+ -]*$")


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe stage key, else raise StageError naming it.

    Safe: relative, ``/``-separated, no empty, ``.`` or ``..`` segment, no segment starting
    with ``.`` (reserved for temporary files), only letters, digits and ``_ . @ = + - space``.
    """
    segments = key.split("/")
    for seg in segments:
        if seg in {"", ".", ".."} or not _SEGMENT.match(seg) or seg.startswith("."):
            raise StageError(
                f"stage key {key!r} is not valid: segment {seg!r} is empty, relative or holds "
                "characters outside letters, digits and _ . @ = + - space"
            )
    return key


def check_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a key optionally ending in ``/``."""
    if prefix in {"", "/"}:
        return ""
    check_key(prefix.rstrip("/"))
    return prefix


def raw_batch_key(run_id: str, sobject: str, batch: int) -> str:
    """``<run_id>/raw/<Object>/<batch:05d>``: where extraction stages one batch."""
    return check_key(f"{run_id}/raw/{sobject}/{batch:05d}")


def raw_prefix(run_id: str, sobject: str) -> str:
    """The prefix under which one object's batches live (ends with ``/``)."""
    return check_key(f"{run_id}/raw/{sobject}") + "/"


def file_key(run_id: str, sobject: str, record_id: str) -> str:
    """``<run_id>/files/<Object>/<18-char Id>``: a streamed file body."""
    return check_key(f"{run_id}/files/{sobject}/{record_id}")


def report_key(run_id: str, name: str) -> str:
    """``<run_id>/reports/<name>``: a report copied to the stage."""
    return check_key(f"{run_id}/reports/{name}")
