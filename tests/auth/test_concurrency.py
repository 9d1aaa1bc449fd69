"""One refresh per token key, whatever the concurrency, cancellation or store failure."""

from __future__ import annotations

import anyio
import httpx
import pytest
import respx

from tests.support.doubles import FailingStore
from tests.support.token_endpoint import form_of, token_response
from truelayer_async import (
    MemoryTokenStore,
    Secret,
    Session,
    TokenPersistenceError,
    TokenType,
)
from truelayer_async.testing import FakeClock


class SlowTokenServer:
    """A token endpoint that rotates the pair and takes a moment to answer."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.refreshes: dict[str, int] = {}
        self.fail_with: Exception | None = None
        self.started = anyio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        self.started.set()
        await anyio.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        if form["grant_type"] == "authorization_code":
            user = form["code"]
            return token_response(access=f"{user}-at-0", refresh=f"{user}-rt-0")
        user, _, n = form["refresh_token"].rpartition("-rt-")
        self.refreshes[user] = self.refreshes.get(user, 0) + 1
        gen = int(n) + 1
        return token_response(access=f"{user}-at-{gen}", refresh=f"{user}-rt-{gen}")


@pytest.mark.anyio
async def test_1000_coroutines_one_refresh(
    tl: Session, token_route: respx.Route, clock: FakeClock
) -> None:
    server = SlowTokenServer()
    token_route.side_effect = server
    await tl.auth.exchange_code("u", user="u")
    clock.advance(4000)
    results: list[Secret] = []

    async def call() -> None:
        results.append((await tl.auth.valid_token(user="u")).access_token)

    async with anyio.create_task_group() as tg:
        for _ in range(1000):
            tg.start_soon(call)
    assert server.refreshes == {"u": 1}
    assert token_route.call_count == 2
    assert set(results) == {Secret("u-at-1")}


@pytest.mark.anyio
async def test_100_users_times_10_coroutines_100_refreshes(
    tl: Session, token_route: respx.Route, clock: FakeClock
) -> None:
    server = SlowTokenServer(delay=0.01)
    token_route.side_effect = server
    users = [f"user{i}" for i in range(100)]
    for user in users:
        await tl.auth.exchange_code(user, user=user)
    clock.advance(4000)
    seen: dict[str, set[Secret]] = {u: set() for u in users}

    async def call(user: str) -> None:
        seen[user].add((await tl.auth.valid_token(user=user)).access_token)

    async with anyio.create_task_group() as tg:
        for user in users:
            for _ in range(10):
                tg.start_soon(call, user)
    assert sum(server.refreshes.values()) == 100
    assert all(server.refreshes[u] == 1 for u in users)
    assert all(seen[u] == {Secret(f"{u}-at-1")} for u in users)


@pytest.mark.anyio
async def test_unrelated_users_do_not_wait_on_each_other(
    tl: Session, token_route: respx.Route, clock: FakeClock
) -> None:
    server = SlowTokenServer(delay=0)
    token_route.side_effect = server
    await tl.auth.exchange_code("slow", user="slow")
    await tl.auth.exchange_code("fast", user="fast")
    clock.advance(4000)
    server.delay = 0.5
    server.started = anyio.Event()
    order: list[str] = []

    async def refresh(user: str) -> None:
        await tl.auth.valid_token(user=user)
        order.append(user)

    async with anyio.create_task_group() as tg:
        tg.start_soon(refresh, "slow")
        await server.started.wait()
        server.delay = 0
        tg.start_soon(refresh, "fast")
    assert order == ["fast", "slow"]


@pytest.mark.anyio
async def test_failed_refresh_releases_every_waiter_and_next_call_retries(
    tl: Session, token_route: respx.Route, clock: FakeClock
) -> None:
    server = SlowTokenServer()
    token_route.side_effect = server
    await tl.auth.exchange_code("u", user="u")
    clock.advance(4000)
    server.fail_with = RuntimeError("token endpoint exploded")
    errors: list[BaseException] = []

    async def call() -> None:
        try:
            await tl.auth.valid_token(user="u")
        except Exception as exc:
            errors.append(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(call)
    assert len(errors) == 20
    server.fail_with = None
    token = await tl.auth.valid_token(user="u")
    assert token.access_token == Secret("u-at-1")


@pytest.mark.anyio
async def test_cancelled_leader_still_completes_and_stores_the_refresh(
    tl: Session, token_route: respx.Route, clock: FakeClock
) -> None:
    server = SlowTokenServer(delay=0.2)
    token_route.side_effect = server
    await tl.auth.exchange_code("u", user="u")
    clock.advance(4000)
    server.started = anyio.Event()
    waiter_result: list[Secret] = []

    async def waiter() -> None:
        waiter_result.append((await tl.auth.valid_token(user="u")).access_token)

    leader_scope = anyio.CancelScope()

    async def leader() -> None:
        with leader_scope:
            await tl.auth.valid_token(user="u")
        assert leader_scope.cancel_called

    async with anyio.create_task_group() as tg:
        tg.start_soon(leader)
        await server.started.wait()
        tg.start_soon(waiter)
        leader_scope.cancel()
    record = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, "u"))
    assert record is not None and record.token.refresh_token == Secret("u-rt-1")
    assert server.refreshes == {"u": 1}
    assert waiter_result == [Secret("u-at-1")]


@pytest.mark.anyio
async def test_store_write_failure_is_loud_keeps_token_and_never_refreshes_twice(
    clock: FakeClock, token_route: respx.Route
) -> None:
    store = FailingStore()
    server = SlowTokenServer(delay=0)
    token_route.side_effect = server
    async with Session(
        "id", "secret", redirect_uri="http://127.0.0.1/cb", clock=clock, token_store=store
    ) as tl:
        await tl.auth.exchange_code("u", user="u")
        clock.advance(4000)
        store.fail = 1
        with pytest.raises(TokenPersistenceError) as info:
            await tl.auth.valid_token(user="u")
        assert "u-rt" not in str(info.value)
        assert server.refreshes == {"u": 1}
        token = await tl.auth.valid_token(user="u")  # the write is retried, no new refresh
        assert token.access_token == Secret("u-at-1")
        assert server.refreshes == {"u": 1}
        record = await store.get(tl._core.tokens.key(TokenType.DATA, "u"))
        assert record is not None and record.token.refresh_token == Secret("u-rt-1")
        assert [w.token.refresh_token for w in store.writes[-2:]] == [Secret("u-rt-1")] * 2


@pytest.mark.anyio
async def test_store_keeps_failing_then_recovers(
    clock: FakeClock, token_route: respx.Route
) -> None:
    store = FailingStore()
    server = SlowTokenServer(delay=0)
    token_route.side_effect = server
    async with Session(
        "id", "secret", redirect_uri="http://127.0.0.1/cb", clock=clock, token_store=store
    ) as tl:
        await tl.auth.exchange_code("u", user="u")
        clock.advance(4000)
        store.fail = 3
        for _ in range(3):
            with pytest.raises(TokenPersistenceError):
                await tl.auth.valid_token(user="u")
        assert (await tl.auth.valid_token(user="u")).access_token == Secret("u-at-1")
        assert server.refreshes == {"u": 1}


@pytest.mark.anyio
async def test_two_sessions_sharing_a_store_refresh_once(
    clock: FakeClock, token_route: respx.Route
) -> None:
    store = MemoryTokenStore()
    server = SlowTokenServer(delay=0)
    token_route.side_effect = server
    kwargs = {"redirect_uri": "http://127.0.0.1/cb", "clock": clock, "token_store": store}
    async with Session("id", "secret", **kwargs) as a, Session("id", "secret", **kwargs) as b:  # type: ignore[arg-type]
        await a.auth.exchange_code("u", user="u")
        clock.advance(4000)
        await a.auth.valid_token(user="u")
        token = await b.auth.valid_token(user="u")
    assert server.refreshes == {"u": 1}
    assert token.access_token == Secret("u-at-1")
