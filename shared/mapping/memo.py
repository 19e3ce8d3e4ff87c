"""Deterministic target ids, computed fast and remembered within a fixed bound.

Every row's primary key and every parent bind is ``uuid5(org namespace, "<sobject>:<id>")``
(``shared.ids``). The transform computes them 50,000 times a second, and parents repeat
(many contacts, one account), so :class:`TargetIds` keeps the binds it made, up to ``limit``
of them: when full it forgets them all and starts again, which keeps memory flat over a
million records and costs nothing on a hit (no LRU bookkeeping). The state is swapped as one
tuple, so threads sharing a compiled mapping never see half of it.
"""

from __future__ import annotations

import hashlib
import sys
import uuid

BIND_MEMO_LIMIT = 16_384
"""Parent binds remembered per compiled mapping (about 300 bytes each: < 5 MB)."""

_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
"""RFC 4122 variant: the top two bits of the 17th hex digit become ``10``."""


def uuid5_text(namespace_bytes: bytes, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` from the namespace's 16 bytes, without ``uuid.UUID``."""
    h = hashlib.sha1(namespace_bytes + name.encode(), usedforsecurity=False).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def fast_target_id(namespace: uuid.UUID, sobject: str, sf_id: str) -> str:
    """``shared.ids.target_id`` for an 18-character id, about 3x faster.

    Same uuid5 (SHA-1, version 5, RFC 4122 variant). A test keeps it equal to
    ``shared.ids.target_id``.
    """
    return uuid5_text(namespace.bytes, f"{sobject}:{sf_id}")


_State = tuple[uuid.UUID | None, bytes, dict[tuple[str, str, str], str]]


class TargetIds:
    """Target ids of one namespace and a bounded memo of ``/<entity set>(<id>)`` binds."""

    def __init__(self, limit: int = BIND_MEMO_LIMIT) -> None:
        self.limit = limit
        self._state: _State = (None, b"", {})

    def _current(self, namespace: uuid.UUID) -> _State:
        state = self._state
        if namespace is not state[0] and namespace != state[0]:
            state = self._state = (namespace, namespace.bytes, {})
        return state

    def row_id(self, namespace: uuid.UUID, sobject: str, sf_id: str) -> str:
        """The primary key of ``sf_id`` (18 characters) of ``sobject``; not remembered."""
        state = self._state
        if namespace is not state[0]:
            state = self._current(namespace)
        return uuid5_text(state[1], f"{sobject}:{sf_id}")

    def bind(self, namespace: uuid.UUID, entity_set: str, sobject: str, sf_id: str) -> str:
        """``/<entity_set>(<target id>)`` of a parent (18-character ``sf_id``), remembered."""
        state = self._state
        if namespace is not state[0]:
            state = self._current(namespace)
        memo = state[2]
        key = (entity_set, sobject, sf_id)
        found = memo.get(key)
        if found is None:
            if len(memo) >= self.limit:
                memo.clear()
            found = memo[key] = f"/{entity_set}({uuid5_text(state[1], f'{sobject}:{sf_id}')})"
        return found

    def __len__(self) -> int:
        """Binds remembered now (never more than ``limit``)."""
        return len(self._state[2])

    def size_bytes(self) -> int:
        """About the memory the memo holds now (its table, keys, ids and binds)."""
        memo = self._state[2]
        return sys.getsizeof(memo) + sum(
            sys.getsizeof(k) + sys.getsizeof(k[2]) + sys.getsizeof(v) for k, v in memo.items()
        )
