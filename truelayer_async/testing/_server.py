"""Running the emulator as a real HTTP server (uvicorn, loopback by default).

uvicorn parses HTTP with ``httptools`` (its C parser, in the ``testing`` extra) when it
is installed and with pure-Python ``h11`` otherwise; the emulator answers the same
either way. The event loop is plain asyncio unless the caller asks for ``uvloop``.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "base_url_for",
    "bind_socket",
    "http_parser",
    "is_loopback",
    "serve_in_thread",
    "uvicorn_config",
]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback name or address."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def base_url_for(host: str, port: int) -> str:
    """``http://host:port`` (IPv6 literals in brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (``port=0`` picks a free one), not yet listening.

    It is made with ``IPPROTO_TCP`` spelled out: asyncio turns Nagle's algorithm off
    (``TCP_NODELAY``) only on connections whose socket says so, and a served response is
    written in two parts (head, then body). With Nagle on, the body waits for the client's
    delayed ACK: about 40 ms on every keep-alive request after the first.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
    except BaseException:
        sock.close()
        raise
    return sock


def http_parser() -> str:
    """uvicorn's ``http`` setting: ``"httptools"`` when installed, else ``"h11"``."""
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


def uvicorn_config(
    app: Any,
    host: str,
    port: int,
    *,
    log_level: str = "warning",
    http: str | None = None,
    loop: str = "asyncio",
) -> Any:
    """A uvicorn config with no lifespan and no websockets; ``http`` defaults to
    :func:`http_parser`, ``loop`` to plain asyncio."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="off",
        log_level=log_level,
        access_log=False,
        http=http or http_parser(),
        ws="none",
        loop=loop,
    )


@contextmanager
def serve_in_thread(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    timeout: float = 10.0,
    http: str | None = None,
    loop: str = "asyncio",
) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a background thread; yields the base URL.

    The socket is bound before the thread starts (``port=0`` picks a free port); the
    context waits until uvicorn has started, and on exit asks it to stop and joins it.
    ``http`` and ``loop`` go to :func:`uvicorn_config`.
    """
    import uvicorn

    if not is_loopback(host):
        raise ValueError(f"refusing to serve on non-loopback host {host!r}")
    sock = bind_socket(host, port)
    try:
        actual_port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn_config(app, host, actual_port, http=http, loop=loop))
        failure: list[BaseException] = []

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # surfaced to the caller below
                failure.append(exc)

        thread = threading.Thread(target=run, name=f"truelayer-fake:{actual_port}", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"the emulator failed to start: {failure!r}")
            if time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout)
                raise TimeoutError("the emulator did not start in time")
            time.sleep(0.005)
        try:
            yield base_url_for(host, actual_port)
        finally:
            server.should_exit = True
            thread.join(timeout)
            if thread.is_alive():
                server.force_exit = True
                thread.join(timeout)
    finally:
        sock.close()
