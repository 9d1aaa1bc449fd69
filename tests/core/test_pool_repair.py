"""Pool slots a cancelled request leaves behind are given back (httpcore issue #1093).

httpcore can leave a never-connected connection in the pool that no request owns when a
request is cancelled right after the pool assigned it a new connection. The race is hard
to hit on purpose, so these tests plant exactly that state in a real pool (a connection
made by the pool itself and left unowned) and check that the SDK's cancellation path
removes it, and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from truelayer_async import errors as e
from truelayer_async._error_mapping import Api
from truelayer_async._http import Requester
from truelayer_async._pool_repair import reclaim_orphans
from truelayer_async.config import RetryPolicy, Timeouts
from truelayer_async.testing import FakeTrueLayer


@pytest.fixture
def served() -> Iterator[str]:
    fake = FakeTrueLayer()
    with fake.serve_in_thread() as url:
        yield url


def _pool(client: httpx.AsyncClient) -> Any:
    return client._transport._pool  # type: ignore[attr-defined]


def _plant_orphan(client: httpx.AsyncClient, url: str) -> Any:
    """What httpcore #1093 leaves: a connection the pool made, never connected, unowned."""
    import httpcore

    pool = _pool(client)
    orphan = pool.create_connection(httpcore.URL(url).origin)
    pool._connections.append(orphan)
    return orphan


def _requester(client: httpx.AsyncClient, *, direct: bool = False) -> Requester:
    """A Requester sending through ``client`` (a user's), or straight to its transport
    (``direct``: how a Session sends through the client it built itself)."""
    timeouts = Timeouts(pool=0.5)
    transport = client._transport if direct else None  # type: ignore[attr-defined]
    return Requester(
        client, transport=transport, timeouts=timeouts, retry_policy=RetryPolicy(max_retries=0)
    )


@pytest.mark.anyio
@pytest.mark.parametrize("direct", [False, True], ids=["client-send", "direct-transport"])
async def test_an_orphan_holds_the_only_slot_until_a_cancelled_call_reclaims_it(
    served: str, direct: bool
) -> None:
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(limits=limits) as client:
        requester = _requester(client, direct=direct)
        url = f"{served}/api/providers?clientId=x"
        _plant_orphan(client, served)
        # The harm: the only slot is taken for good, so a call times out on the pool.
        with pytest.raises(e.TransportTimeout):
            await requester.request("GET", url, api=Api.AUTH)
        # A call cancelled while it waits for the pool gives the slot back...
        with anyio.move_on_after(0.05):
            await requester.request("GET", url, api=Api.AUTH)
        # ...and the next call goes through.
        response = await requester.request("GET", url, api=Api.AUTH)
        assert response.status_code == 200


@pytest.mark.anyio
async def test_only_unowned_never_connected_connections_are_removed(served: str) -> None:
    async with httpx.AsyncClient() as client:
        requester = _requester(client)
        await requester.request("GET", f"{served}/api/providers?clientId=x", api=Api.AUTH)
        pool = _pool(client)
        (connected,) = pool.connections  # idle, kept alive: never touched
        orphan = _plant_orphan(client, served)
        assert reclaim_orphans(client) == 1
        assert pool.connections == [connected]
        assert orphan not in pool.connections
        assert reclaim_orphans(client) == 0


def test_an_unknown_transport_is_left_alone() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    assert reclaim_orphans(client) == 0


@pytest.mark.asyncio
@pytest.mark.parametrize("direct", [False, True], ids=["client-send", "direct-transport"])
async def test_a_close_interrupted_by_asyncio_cancellation_frees_its_slot(
    served: str, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    """Task.cancel() lands while httpcore hands the connection back: the slot is freed."""
    import asyncio

    from httpcore._async.http11 import AsyncHTTP11Connection

    closing = asyncio.Event()
    real = AsyncHTTP11Connection._response_closed
    held = [True]

    async def slow_response_closed(self: Any) -> None:
        if held[0]:  # the first close waits, as a contended lock or a slow socket would
            held[0] = False
            closing.set()
            await asyncio.sleep(3600)
        await real(self)

    monkeypatch.setattr(AsyncHTTP11Connection, "_response_closed", slow_response_closed)
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(limits=limits) as client:
        requester = _requester(client, direct=direct)
        url = f"{served}/api/providers?clientId=x"
        task = asyncio.ensure_future(requester.request("GET", url, api=Api.AUTH))
        await closing.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert _pool(client)._requests == []  # the request no longer holds the only slot
        response = await requester.request("GET", url, api=Api.AUTH)
        assert response.status_code == 200
