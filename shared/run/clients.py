"""Clients of a run, shared by every activity in the process.

Activities run in worker threads (the local host's pool, or the Functions worker's), but the
Dataverse client is asynchronous and its adaptive concurrency only works if every request of
the process goes through ONE client: otherwise four concurrent activities would each believe
they may use the whole service-protection budget. So the process keeps one event loop in a
background thread; activities submit coroutines to it and wait for the result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from shared.dataverse.auth import token_source
from shared.dataverse.client import DataverseClient, http_client
from shared.dataverse.context import LoadContext
from shared.run.runtime import Runtime

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="run-io", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on the process's I/O loop and wait for its result (from any thread)."""
    loop = _background_loop()

    async def wrapper() -> T:
        return await make()

    return asyncio.run_coroutine_threadsafe(wrapper(), loop).result()


def dataverse(runtime: Runtime) -> DataverseClient:
    """The process's Dataverse client, connected (WhoAmI) on first use."""

    async def build() -> DataverseClient:
        settings = runtime.settings.dataverse
        client = DataverseClient.from_settings(
            http_client(settings), settings, token_source(settings)
        )
        await client.connect()
        return client

    return runtime.cached("dataverse", lambda: run_async(build))


def load_context(runtime: Runtime) -> LoadContext:
    """Per-process caches of target metadata (tables, bulk support, upload limit)."""
    return runtime.cached(
        "load_context",
        lambda: LoadContext(dataverse(runtime), batch_size=runtime.settings.dataverse.batch_size),
    )


def close_clients(runtime: Runtime) -> None:
    """Close the process's Dataverse connections (the end of a local run).

    An open keep-alive connection would hold its server's shutdown for its idle timeout.
    """
    client = runtime.peek("dataverse")
    if isinstance(client, DataverseClient):
        run_async(client.http.aclose)
