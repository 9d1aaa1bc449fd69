"""A scripted HTTP/1.1 server on a real loopback socket, for the transport tests.

Each request that arrives is recorded (``arrivals``) before the server acts on it, so a
test can tell "never sent" from "sent and lost". What it does next is the ``script``: a
list of actions, one taken per request (the last one repeats). Respx cannot reach
aiohttp, and httpx's MockTransport skips the transport under test, so these tests need
real sockets. ``routes`` overrides the script for a path.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

__all__ = ["Arrival", "WireServer", "full_backlog"]


@attrs.frozen
class Arrival:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Action = Callable[["asyncio.StreamWriter"], Awaitable[None]]


def respond(
    status: int = 200,
    body: bytes = b'{"results":[]}',
    headers: dict[str, str] | None = None,
) -> Action:
    """Answer with ``body`` (and a Content-Length)."""

    async def act(writer: asyncio.StreamWriter) -> None:
        head = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        head.update(headers or {})
        writer.write(_head(status, head) + body)
        await writer.drain()

    return act


async def drop(writer: asyncio.StreamWriter) -> None:
    """Close the connection without answering (the request arrived)."""
    writer.close()


async def reset(writer: asyncio.StreamWriter) -> None:
    """Reset the connection (RST) without answering."""
    _reset(writer)


async def hang(writer: asyncio.StreamWriter) -> None:
    """Never answer (the client's read timeout or a cancellation ends it)."""
    await asyncio.sleep(3600)


def partial(then: Action = drop, *, size: int = 100_000, sent: int = 1000) -> Action:
    """Start a ``size``-byte answer, send ``sent`` bytes of it, then ``then`` (drop, reset,
    hang)."""

    async def act(writer: asyncio.StreamWriter) -> None:
        head = {"Content-Type": "application/json", "Content-Length": str(size)}
        writer.write(_head(200, head) + b"[" + b"1," * (sent // 2))
        await writer.drain()
        await asyncio.sleep(0.05)  # the client has the head and reads the body
        await then(writer)

    return act


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class WireServer:
    """``async with WireServer() as server:`` serves on ``server.url`` in the test's loop."""

    def __init__(self) -> None:
        self.script: list[Action] = [respond()]
        #: Actions by path, taken instead of the script's (which still counts the request).
        self.routes: dict[str, Action] = {}
        self.arrivals: list[Arrival] = []
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.url = ""

    async def __aenter__(self) -> WireServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def count(self, path: str | None = None) -> int:
        """How many requests arrived (for ``path``, if given)."""
        return sum(path is None or a.path == path for a in self.arrivals)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            while True:
                arrival = await _read_request(reader)
                if arrival is None:
                    break
                index = min(len(self.arrivals), len(self.script) - 1)
                self.arrivals.append(arrival)
                await self.routes.get(arrival.path, self.script[index])(writer)
                if writer.is_closing():
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Arrival | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Arrival(method, path, headers, body)


class full_backlog:  # a context manager named for what it gives
    """A listening socket whose accept queue is full: a connect hangs until it times out."""

    def __enter__(self) -> int:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        port = int(self._listener.getsockname()[1])
        self._fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):  # connecting in the background
                filler.connect(("127.0.0.1", port))
            self._fillers.append(filler)
        return port

    def __exit__(self, *exc: object) -> None:
        for filler in self._fillers:
            filler.close()
        self._listener.close()
