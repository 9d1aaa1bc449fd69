"""How the emulator is served (#21): sockets without Nagle's delay, the HTTP parser."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from truelayer_async.testing import __main__ as cli
from truelayer_async.testing._server import bind_socket, serve_in_thread


async def _report_nodelay(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app answering whether its own connection has TCP_NODELAY set."""
    transport = send.__self__.transport  # uvicorn's protocol (h11 or httptools) holds it
    sock = transport.get_extra_info("socket")
    flag = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    body = b"nodelay" if flag else b"nagle"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_served_connections_do_not_wait_for_delayed_acks() -> None:
    # A response goes out in two writes (head, body): with Nagle's algorithm on, each
    # keep-alive request after the first waited ~40 ms for the client's delayed ACK.
    with serve_in_thread(_report_nodelay) as url, httpx.Client(base_url=url) as http:
        assert [http.get("/").text for _ in range(2)] == ["nodelay", "nodelay"]


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_bind_socket_names_tcp(host: str) -> None:
    if host == "::1" and not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        sock = bind_socket(host, 0)
    except OSError as exc:  # IPv6 compiled in but loopback ::1 not configured
        pytest.skip(f"cannot bind {host}: {exc}")
    with sock:
        assert sock.proto == socket.IPPROTO_TCP and sock.getsockname()[1] > 0


def test_the_cli_serves_on_a_tcp_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    served: list[socket.socket] = []

    def run(self: uvicorn.Server, sockets: list[socket.socket]) -> None:
        served.extend(sockets)

    monkeypatch.setattr(uvicorn.Server, "run", run)
    assert cli.main(["--port", "0", "--log-level", "warning"]) == 0
    assert [s.proto for s in served] == [socket.IPPROTO_TCP]
