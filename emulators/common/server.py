"""Serve an ASGI app on loopback, in the foreground (CLI) or in a background thread (tests).

Both emulators use this: ``--port 0`` binds a free port first, so the JSON line printed once
listening always carries the real port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from emulators.common.tls import CertPair

ASGIApp = Callable[..., Any]
HOST = "127.0.0.1"


def bind_loopback(port: int) -> socket.socket:
    """Bind a listening socket on 127.0.0.1 (``port`` 0 picks a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _config(app: ASGIApp, tls: CertPair | None) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_keep_alive=30,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
        backlog=2048,
    )


def serve_foreground(
    app: ASGIApp, port: int, tls: CertPair | None, ready_line: Callable[[int], dict[str, Any]]
) -> None:
    """Serve until interrupted; print ``ready_line(port)`` as one JSON line once listening."""
    sock = bind_loopback(port)
    actual = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, tls))

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                await task
                return
            await asyncio.sleep(0.01)
        sys.stdout.write(json.dumps(ready_line(actual)) + "\n")
        sys.stdout.flush()
        await task

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@dataclass
class BackgroundServer:
    """A running server thread; ``port`` is the real port it listens on."""

    port: int
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Ask the server to exit and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextlib.contextmanager
def serve_in_thread(
    app: ASGIApp, port: int = 0, tls: CertPair | None = None
) -> Iterator[BackgroundServer]:
    """Run ``app`` on loopback in a daemon thread for the duration of the block."""
    sock = bind_loopback(port)
    actual = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, tls))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("emulator server did not start")
        time.sleep(0.01)
    handle = BackgroundServer(actual, server, thread)
    try:
        yield handle
    finally:
        handle.stop()
        sock.close()
