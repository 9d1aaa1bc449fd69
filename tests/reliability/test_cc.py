"""reliability.md §2.5 CC: asyncio and resource lifecycle (one test per id)."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import respx

import truelayer_async
from tests.support.doubles import RecordingSleep
from tests.support.reliability import (
    DATA,
    REDIRECT,
    Secrets,
    TokenServer,
    accounts_body,
    connect,
)
from truelayer_async import Session, TokenType
from truelayer_async import errors as e
from truelayer_async._token_response import parse_token_response
from truelayer_async.stores import SqliteTokenStore
from truelayer_async.testing import FakeClock, FakeTrueLayer

PRIMITIVES = (
    asyncio.Lock,
    asyncio.Event,
    asyncio.Semaphore,
    asyncio.Condition,
    asyncio.Queue,
    anyio.Lock,
    anyio.Event,
    anyio.Semaphore,
    anyio.Condition,
    anyio.CapacityLimiter,
)


def test_cc01_no_module_level_asyncio_primitives() -> None:
    modules = [truelayer_async]
    for info in pkgutil.walk_packages(truelayer_async.__path__, "truelayer_async."):
        if info.name.startswith(("truelayer_async.testing", "truelayer_async.cli")):
            continue
        if info.name.endswith((".redis", "__main__")):
            continue  # needs the optional redis client; holds no primitive either way
        modules.append(importlib.import_module(info.name))
    for module in modules:
        for name, value in vars(module).items():
            assert not isinstance(value, PRIMITIVES), f"{module.__name__}.{name}"


def test_cc01_a_session_from_another_loop_raises_a_typed_error(secrets: Secrets) -> None:
    holder: dict[str, Session] = {}

    async def open_it() -> None:
        holder["tl"] = tl = Session("c", secrets.client_secret)
        await tl.open()

    asyncio.run(open_it())
    errors: list[BaseException] = []

    async def use() -> None:
        async def one() -> None:
            try:
                await holder["tl"].auth.valid_token(user="u")
            except BaseException as exc:
                errors.append(exc)

        await asyncio.gather(one(), one())  # under contention, too

    asyncio.run(use())
    assert len(errors) == 2 and all(isinstance(x, e.EventLoopMismatchError) for x in errors)

    async def close() -> None:
        with pytest.raises(e.EventLoopMismatchError):
            await holder["tl"].aclose()

    asyncio.run(close())


@pytest.mark.asyncio
async def test_cc02_ownership_and_idempotent_close(secrets: Secrets) -> None:
    async with Session("c", secrets.client_secret) as own:
        client = own._core.requester().client
    assert client.is_closed
    await own.aclose()  # idempotent
    with pytest.raises(e.SessionClosedError):
        await own.auth.valid_token(user="u")
    async with httpx.AsyncClient() as given:
        async with Session("c", secrets.client_secret, http_client=given) as tl:
            assert tl._core.requester().client is given
        assert not given.is_closed


@pytest.mark.asyncio
async def test_cc03_store_io_runs_off_the_event_loop(
    tmp_path: Path,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The only blocking I/O the SDK ships is the SQLite store: every call runs in a worker
    thread (the Redis store uses redis.asyncio; memory never blocks)."""
    loop_thread = threading.get_ident()
    threads: list[int] = []
    real_connect = sqlite3.connect

    def spy(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        threads.append(threading.get_ident())
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", spy)
    store = SqliteTokenStore(tmp_path / "t.db")
    async with Session(
        "c", secrets.client_secret, redirect_uri=REDIRECT, clock=clock, token_store=store
    ) as tl:
        await connect(tl, secrets)
        clock.advance(4000)
        await tl.auth.valid_token(user="u")
    assert threads and loop_thread not in threads


@pytest.fixture(scope="module")
def served() -> Iterator[FakeTrueLayer]:
    fake = FakeTrueLayer()
    with fake.serve_in_thread():
        yield fake


@pytest.mark.asyncio
async def test_cc04_cancelling_a_request_releases_everything(served: FakeTrueLayer) -> None:
    fake = served
    async with fake.session(http_client=None) as tl:
        key = tl._core.tokens.key(TokenType.DATA, "u")
        await tl._core.tokens.store_new(
            key, parse_token_response(fake.create_connection()), TokenType.DATA
        )
        fake.add_latency("/data/v1/accounts", 0.5, times=1)
        with anyio.move_on_after(0.1) as scope:
            await tl.data.accounts(user="u")
        assert scope.cancelled_caught
        pool = tl._core.requester().client._transport._pool  # type: ignore[attr-defined]
        assert all(conn.is_idle() or conn.is_closed() for conn in pool.connections)
        assert await tl.data.accounts(user="u")  # the next request succeeds
        async with tl._core.tokens._shared.lock(key):  # and no lock was left held
            pass


@pytest.mark.asyncio
async def test_cc05_fan_out_is_bounded(
    tl: Session, secrets: Secrets, sleeps: RecordingSleep, respx_mock: respx.MockRouter
) -> None:
    """Peak concurrency stays within the limit. The shared 429 back-off is
    tests/data/test_fetch_all.py::test_one_429_holds_back_siblings."""
    server = TokenServer(secrets)
    respx_mock.post("https://auth.truelayer-sandbox.com/connect/token").mock(side_effect=server)
    users = [f"user{i}" for i in range(8)]
    for user in users:
        await tl.auth.exchange_code(secrets.code, user=user)
    active = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await anyio.sleep(0.01)
        active -= 1
        path = request.url.path
        if path.endswith("/accounts"):
            return httpx.Response(200, json=accounts_body())
        if path.endswith("/cards"):
            return httpx.Response(501, json={"error": "endpoint_not_supported"})
        if path.endswith("/balance"):
            return httpx.Response(
                200, json={"results": [{"currency": "GBP", "current": 1, "available": 1}]}
            )
        return httpx.Response(200, json={"results": []})

    respx_mock.get(url__startswith=DATA).mock(side_effect=handler)
    results = await tl.data.fetch_all(users, concurrency=3)
    assert [r.user for r in results] == users and all(r.ok for r in results)
    assert peak <= 3
