"""Cancellation, size caps, gzip caps, redirects and the wire request, on both backends."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from tests.support.doubles import RecordingSleep
from tests.support.wire_server import WireServer, hang, partial, respond
from tests.transports.conftest import BACKENDS, in_use, session
from truelayer_async import (
    MalformedResponseError,
    ResponseTooLargeError,
    Session,
    Timeouts,
    UnexpectedRedirectError,
)
from truelayer_async._error_mapping import Api
from truelayer_async._pool_repair import open_connections

pytestmark = pytest.mark.asyncio

SLOW = Timeouts(read=10.0)


Arrived = Callable[[], Awaitable[None]]


async def by_wait_for(call: Awaitable[Any], arrived: Arrived) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(call, 0.3)


async def by_task_cancel(call: Awaitable[Any], arrived: Arrived) -> None:
    task = asyncio.ensure_future(call)
    await arrived()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def by_move_on_after(call: Awaitable[Any], arrived: Arrived) -> None:
    async with anyio.create_task_group() as tg:
        with anyio.CancelScope() as scope:
            tg.start_soon(_cancel_when, arrived, scope)
            await call
    assert scope.cancelled_caught


async def _cancel_when(arrived: Arrived, scope: anyio.CancelScope) -> None:
    await arrived()
    scope.cancel()


CANCELLERS: dict[str, Callable[[Awaitable[Any], Arrived], Awaitable[None]]] = {
    "wait_for": by_wait_for,
    "Task.cancel": by_task_cancel,
    "cancel scope": by_move_on_after,
}


@pytest.mark.parametrize("where", ["awaiting the answer", "reading the body"])
@pytest.mark.parametrize("cancel", CANCELLERS.values(), ids=CANCELLERS.keys())
async def test_a_cancelled_call_leaves_no_connection_checked_out(
    backend: str,
    server: WireServer,
    sleeps: RecordingSleep,
    cancel: Callable[[Awaitable[Any], Arrived], Awaitable[None]],
    where: str,
) -> None:
    stall = hang if where == "awaiting the answer" else partial(hang)
    server.script = [stall]
    server.routes["/c"] = respond()
    async with session(server.url, backend, sleeps, timeout=SLOW, max_connections=2) as tl:
        requester = tl._core.requester()
        for path in ("/a", "/b"):  # twice: as many as the pool holds

            async def arrived(path: str = path) -> None:
                while not server.count(path):
                    await asyncio.sleep(0.005)
                await asyncio.sleep(0.1)  # past the head, into the body, for "reading"

            await cancel(requester.request("GET", f"{server.url}{path}", api=Api.DATA), arrived)
            await asyncio.sleep(0.01)
            assert in_use(tl) == 0
        response = await requester.request("GET", f"{server.url}/c", api=Api.DATA)
        assert response.json() == {"results": []}
        assert in_use(tl) == 0
    assert server.arrivals[-1].path == "/c"


@pytest.mark.parametrize(
    ("length", "size"), [("content-length", 300_000), ("chunked", 300_000), ("small", 5_000)]
)
async def test_the_size_cap_holds(
    backend: str, server: WireServer, sleeps: RecordingSleep, length: str, size: int
) -> None:
    # A small body arrives with the head: the aiohttp transport hands it over read.
    big = b'{"results":"' + b"x" * size + b'"}'
    server.script = [_chunked(big) if length == "chunked" else respond(body=big)]
    async with session(server.url, backend, sleeps) as tl:
        requester = tl._core.requester()
        with pytest.raises(ResponseTooLargeError):
            await requester.request("GET", f"{server.url}/x", api=Api.DATA, max_bytes=size // 3)
        assert in_use(tl) == 0
        response = await requester.request("GET", f"{server.url}/x", api=Api.DATA)
        assert response.content == big


async def test_gzip_is_inflated_by_the_sdk_under_its_cap(
    backend: str, server: WireServer, sleeps: RecordingSleep
) -> None:
    body = json.dumps({"results": [{"n": i} for i in range(2000)]}).encode()
    bomb = gzip.compress(b" " * 50_000_000)  # 50 MB of spaces in about 50 KB
    server.script = [
        respond(body=gzip.compress(body), headers={"Content-Encoding": "gzip"}),
        respond(body=bomb, headers={"Content-Encoding": "gzip"}),
        respond(body=b"\x1f\x8b not gzip", headers={"Content-Encoding": "gzip"}),
    ]
    async with session(server.url, backend, sleeps) as tl:
        requester = tl._core.requester()
        response = await requester.request("GET", f"{server.url}/x", api=Api.DATA)
        assert response.content == body  # inflated once: the transport left it alone
        with pytest.raises(ResponseTooLargeError):
            await requester.request("GET", f"{server.url}/x", api=Api.DATA, max_bytes=1_000_000)
        with pytest.raises(MalformedResponseError):
            await requester.request("GET", f"{server.url}/x", api=Api.DATA)
        assert in_use(tl) == 0
    assert server.arrivals[0].headers["accept-encoding"] == "gzip, deflate"


async def test_a_redirect_is_never_followed(
    backend: str, server: WireServer, sleeps: RecordingSleep
) -> None:
    server.script = [respond(307, b"", {"Location": f"{server.url}/elsewhere"})]
    async with session(server.url, backend, sleeps) as tl:
        with pytest.raises(UnexpectedRedirectError):
            await tl._core.requester().request(
                "POST", f"{server.url}/x", api=Api.DATA, json_body={"secret": "s"}
            )
    assert [a.path for a in server.arrivals] == ["/x"]


async def test_the_server_sees_the_same_request_on_both_backends(
    server: WireServer, sleeps: RecordingSleep
) -> None:
    for backend in BACKENDS:
        async with session(server.url, backend, sleeps) as tl:
            await tl._core.requester().request(
                "POST",
                f"{server.url}/x?a=1&b=%2F",
                api=Api.DATA,
                json_body={"amount": 1},
                headers={"Idempotency-Key": "k", "X-Custom": "a b"},
            )
            await tl._core.requester().request("GET", f"{server.url}/y", api=Api.DATA)
    httpx_post, httpx_get, aiohttp_post, aiohttp_get = server.arrivals
    assert aiohttp_post == httpx_post and aiohttp_get == httpx_get
    assert httpx_post.path == "/x?a=1&b=%2F" and httpx_post.body == b'{"amount":1}'
    assert "content-length" not in httpx_get.headers


async def test_the_session_owns_and_closes_the_aiohttp_client(
    server: WireServer, sleeps: RecordingSleep
) -> None:
    from truelayer_async.transports import AiohttpTransport

    tl: Session
    async with session(
        server.url, "aiohttp", sleeps, max_connections=7, timeout=Timeouts(read=12.0)
    ) as tl:
        client = tl._core.requester().client
        transport = client._transport
        assert isinstance(transport, AiohttpTransport)
        assert not client.follow_redirects and client.timeout.read == 12.0
        await tl._core.requester().request("GET", f"{server.url}/x", api=Api.DATA)
        aiohttp_session = transport._session
        assert aiohttp_session is not None
        assert aiohttp_session.connector is not None
        assert aiohttp_session.connector.limit == 7
        assert transport.connection_counts() == (1, 0)  # kept alive, not in use
        assert open_connections(client) == 1  # what the connections gauge reports
    assert client.is_closed and aiohttp_session.closed


def _chunked(body: bytes) -> Any:
    async def act(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Transfer-Encoding: chunked\r\n\r\n")
        for start in range(0, len(body), 10_000):
            piece = body[start : start + 10_000]
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    return act
