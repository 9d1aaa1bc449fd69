"""How the emulator is served (#21): sockets without Nagle's delay, the HTTP parser."""

from __future__ import annotations

import importlib.util
import socket
from typing import Any

import httpx
import pytest

from tests.support.binaries import require_module
from tests.support.emulator import START
from tests.support.served import bearer
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FakeClock,
    FakeTrueLayer,
    _server,
)
from truelayer_async.testing import __main__ as cli
from truelayer_async.testing._server import bind_socket, serve_in_thread

from .helpers import API


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


def _parser_or_skip(parser: str) -> None:
    """httptools comes with the ``testing`` extra: in CI its absence is a failure."""
    if parser == "httptools":
        require_module("httptools", "pip install -e '.[dev]'")


def test_httptools_is_preferred_and_h11_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    _parser_or_skip("httptools")
    assert _server.http_parser() == "httptools"
    assert _server.uvicorn_config(object(), "127.0.0.1", 0).http == "httptools"
    real = importlib.util.find_spec

    def without_httptools(name: str, *args: Any) -> Any:
        return None if name == "httptools" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_httptools)
    assert _server.http_parser() == "h11"
    assert _server.uvicorn_config(object(), "127.0.0.1", 0).http == "h11"


@pytest.mark.asyncio
@pytest.mark.parametrize("parser", ["h11", "httptools"])
async def test_both_parsers_answer_the_same(parser: str) -> None:
    _parser_or_skip(parser)
    fake = FakeTrueLayer(clock=FakeClock(START))
    tokens = fake.create_connection()
    account = fake.connection(tokens["access_token"]).data().accounts[0].account_id
    fake.drop_response_after_commit("/connect/token")
    path = f"/data/v1/accounts/{account}/transactions"
    with serve_in_thread(fake, http=parser) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            listed, again = await _list_then_replay_a_lost_refresh(http, path, tokens)
    assert listed.status_code == 200 and listed.headers["content-encoding"] == "gzip"
    assert listed.headers["x-credentials-id"] and listed.headers["x-tl-correlation-id"]
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    in_process = FakeTrueLayer(clock=FakeClock(START))
    token = in_process.create_connection()["access_token"]
    async with in_process.http_client() as client:
        expected = await client.get(f"{API}{path}", headers=bearer(token))
    assert listed.json() == expected.json()


async def _list_then_replay_a_lost_refresh(
    http: httpx.AsyncClient, path: str, tokens: dict[str, Any]
) -> tuple[httpx.Response, httpx.Response]:
    """A Data call, then a refresh whose response is dropped, then the same refresh."""
    listed = await http.get(path, headers=bearer(tokens["access_token"]))
    refresh = {
        "grant_type": "refresh_token",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "refresh_token": tokens["refresh_token"],
    }
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/connect/token", data=refresh)
    return listed, await http.post("/connect/token", data=refresh)
