"""Bulk writes: fast where the table allows it, exact everywhere.

Strategy per table, from what ``sdkmessagefilters`` says at run time:

1. ``UpsertMultiple`` by primary key (deterministic ids, so a retry cannot duplicate);
2. else ``CreateMultiple`` for ids the journal found missing and ``UpdateMultiple`` for the
   others (the journal read happens anyway, so the split costs nothing);
3. else ``$batch`` of ``PATCH <set>(<id>)`` upserts with ``continue-on-error``.

On standard tables a failing bulk request rolls back entirely. The writer then **bisects**:
it resends each half, recursively, so the bad rows end up alone and are quarantined with the
server's code and message while the good rows still travel in large requests (one bad row
in 500 costs about 2·log2(500) ≈ 18 extra requests). Throttles and transient failures never
reach this level: the client retries them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.dataverse.batch import MAX_PARTS, send_batch, upsert_part
from shared.dataverse.client import DataverseClient
from shared.dataverse.metadata import BulkSupport, TableInfo
from shared.errors import RecordError, RejectedByTargetError, RetryableError
from shared.quoting import odata_key
from shared.rows import Rejection, TargetRow

__all__ = ["BulkWriter", "Item", "WriteOutcome", "rejection_for"]

Mode = Literal["upsert", "update"]
DUPLICATE_CODES = frozenset({"0x80040237"})

HINTS = {
    "TARGET_LOOKUP_MISSING": "the linked record is not in Dataverse: load its phase first, or "
    "fix the link in Salesforce, then rerun this batch",
    "OWNER_DISABLED_AT_WRITE": "enable the Dynamics user or map the owner to the fallback "
    "owner, then rerun this batch",
    "TARGET_REJECTED": "fix the value the server names (in Salesforce or in the mapping), "
    "then rerun this batch",
}


@dataclass(frozen=True)
class Item:
    """One row to send: its target id, its payload for this step, and where it came from."""

    row: TargetRow
    payload: dict[str, Any]

    @property
    def id(self) -> str:
        """The target primary key."""
        return self.row.id


@dataclass
class WriteOutcome:
    """Ids written and rows rejected by the server (with its code and message)."""

    written: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    requests: int = 0

    def merge(self, other: WriteOutcome) -> None:
        """Add another outcome's ids, rejections and request count to this one."""
        self.written += other.written
        self.rejected += other.rejected
        self.requests += other.requests


def rejection_for(row: TargetRow, error: RecordError, step: str = "write") -> Rejection:
    """The quarantine entry for a row the server refused, carrying its code and message."""
    server_code = getattr(error, "server_code", None)
    return Rejection(
        source_object=row.source_object,
        source_id=row.source_id,
        reason_code=error.reason_code,
        field=error.field,
        value={"server_code": server_code, "server_message": error.value, "target_id": row.id},
        message=f"{row.table} {row.source_id} (target {row.id}): Dataverse refused the {step}: "
        f"{error.message}",
        hint=error.hint or HINTS.get(error.reason_code, HINTS["TARGET_REJECTED"]),
    )


class BulkWriter:
    """Write items of one table with the best message the table supports.

    Args:
        client: The Dataverse client (retries, throttling).
        table: Target table metadata (entity set, primary key).
        support: Which bulk messages the table accepts.
        batch_size: Rows per bulk request (``dataverse.batch_size``).
    """

    def __init__(
        self,
        client: DataverseClient,
        table: TableInfo,
        support: BulkSupport,
        *,
        batch_size: int = 500,
    ) -> None:
        self.client = client
        self.table = table
        self.support = support
        self.batch_size = max(1, min(batch_size, MAX_PARTS))

    async def write(
        self,
        items: Sequence[Item],
        *,
        mode: Mode,
        existing: set[str] | frozenset[str] = frozenset(),
    ) -> WriteOutcome:
        """Write every item; return what was written and what the server rejected.

        Args:
            mode: ``upsert`` creates or updates; ``update`` only touches rows that exist
                (second-pass links, closing activities).
            existing: Ids known to exist (from the journal), used to split creates from
                updates where UpsertMultiple is not available.
        """
        outcome = WriteOutcome()
        unique, duplicates = _dedupe(items)
        outcome.rejected += duplicates
        chunks = [unique[i : i + self.batch_size] for i in range(0, len(unique), self.batch_size)]
        results = await asyncio.gather(*(self._write_chunk(c, mode, existing) for c in chunks))
        for result in results:
            outcome.merge(result)
        return outcome

    async def _write_chunk(
        self, items: Sequence[Item], mode: Mode, existing: set[str] | frozenset[str]
    ) -> WriteOutcome:
        s = self.support
        if mode == "update" and s.update_multiple:
            return await self._bisect(items, self._send_multiple("UpdateMultiple"))
        if s.upsert_multiple:
            return await self._bisect(items, self._send_multiple("UpsertMultiple"))
        if mode == "upsert" and s.create_multiple and s.update_multiple:
            new = [i for i in items if i.id.lower() not in existing]
            old = [i for i in items if i.id.lower() in existing]
            outcome = await self._bisect(new, self._send_multiple("CreateMultiple"))
            # A create retried after a lost response finds its own row: update it instead.
            again = {r.value["target_id"] for r in outcome.rejected if _is_duplicate(r)}
            outcome.rejected = [r for r in outcome.rejected if not _is_duplicate(r)]
            old += [i for i in new if i.id in again]
            outcome.merge(await self._bisect(old, self._send_multiple("UpdateMultiple")))
            return outcome
        return await self._batch(items, update_only=mode == "update")

    def _send_multiple(self, message: str) -> Callable[[Sequence[Item]], Awaitable[None]]:
        table = self.table

        async def send(items: Sequence[Item]) -> None:
            targets = [self._target(message, item) for item in items]
            await self.client.request(
                "POST",
                f"{table.entity_set}/Microsoft.Dynamics.CRM.{message}",
                json={"Targets": targets},
                action=f"{message} {table.entity_set}",
                object_name=table.logical,
                record_id=items[0].id if len(items) == 1 else None,
            )

        return send

    def _target(self, message: str, item: Item) -> dict[str, Any]:
        body: dict[str, Any] = {"@odata.type": self.table.odata_type}
        if message == "UpsertMultiple":
            body["@odata.id"] = self.table.entity_set + odata_key(item.id)
        body[self.table.primary_id] = item.id
        body.update(item.payload)
        return body

    async def _bisect(
        self, items: Sequence[Item], send: Callable[[Sequence[Item]], Awaitable[None]]
    ) -> WriteOutcome:
        """Send ``items``; on a record-level refusal split in halves until bad rows stand alone."""
        outcome = WriteOutcome()
        if not items:
            return outcome
        outcome.requests += 1
        try:
            await send(items)
        except RejectedByTargetError as exc:
            if len(items) == 1:
                outcome.rejected.append(rejection_for(items[0].row, exc))
                return outcome
            mid = len(items) // 2
            left, right = await asyncio.gather(
                self._bisect(items[:mid], send), self._bisect(items[mid:], send)
            )
            outcome.merge(left)
            outcome.merge(right)
            return outcome
        outcome.written += [i.id for i in items]
        return outcome

    async def _batch(self, items: Sequence[Item], *, update_only: bool) -> WriteOutcome:
        """``$batch`` with continue-on-error; parts refused for a retryable reason are resent."""
        outcome = WriteOutcome()
        pending = list(items)
        attempt = 0
        while pending:
            parts = [
                upsert_part(self.table.entity_set, i.id, i.payload, update_only=update_only)
                for i in pending
            ]
            outcome.requests += 1
            errors = await send_batch(
                self.client,
                parts,
                object_name=self.table.logical,
                record_ids=[i.id for i in pending],
            )
            retry: list[Item] = []
            for item, error in zip(pending, errors, strict=True):
                if error is None:
                    outcome.written.append(item.id)
                elif isinstance(error, RetryableError) and attempt < self.client.max_retries:
                    retry.append(item)
                elif isinstance(error, RecordError):
                    outcome.rejected.append(rejection_for(item.row, error))
                else:
                    raise error
            pending = retry
            if retry:
                attempt += 1
                await self.client.sleep(min(60.0, self.client.backoff_seconds * 2.0**attempt))
        return outcome


def _is_duplicate(rejection: Rejection) -> bool:
    value = rejection.value if isinstance(rejection.value, dict) else {}
    return value.get("server_code") in DUPLICATE_CODES


def _dedupe(items: Sequence[Item]) -> tuple[list[Item], list[Rejection]]:
    """Keep the first item per id; later ones are rejected (bulk messages refuse duplicates)."""
    seen: dict[str, Item] = {}
    rejected: list[Rejection] = []
    for item in items:
        key = item.id.lower()
        if key in seen:
            first = seen[key].row
            rejected.append(
                Rejection(
                    source_object=item.row.source_object,
                    source_id=item.row.source_id,
                    reason_code="TARGET_REJECTED",
                    field=None,
                    value={"target_id": item.id, "same_as": first.source_id},
                    message=f"{item.row.table} {item.row.source_id}: target id {item.id} is "
                    f"also produced by {first.source_object} {first.source_id} in this batch; "
                    "only the first is written",
                    hint="two source records map to one target row: check the mapping's "
                    "derived ids",
                )
            )
            continue
        seen[key] = item
    return list(seen.values()), rejected
