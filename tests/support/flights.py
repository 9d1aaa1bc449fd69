"""Holding a token refresh at one await point (request sent, answer in flight, store
write) and cancelling its caller there, by each of asyncio's and anyio's mechanisms: the
pieces of issue #15's tests (``tests/auth/test_flights.py``, ``tests/stores``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

import anyio
import httpx
import pytest

from truelayer_async import MemoryTokenStore, Secret, Session, TokenType
from truelayer_async._token_response import parse_token_response
from truelayer_async.stores import TokenStore
from truelayer_async.testing import FakeTrueLayer
from truelayer_async.tokens import TokenKey, TokenRecord

#: The user whose connection the scenarios refresh.
USER = "alice"


class Pause:
    """Holds a refresh at one await point until released; armed for one hit."""

    def __init__(self, point: str) -> None:
        self.point = point
        self.armed = False
        self.reached = anyio.Event()
        self.release = anyio.Event()

    async def hold(self, point: str) -> None:
        if self.armed and point == self.point:
            self.armed = False
            self.reached.set()
            await self.release.wait()


def is_refresh(request: httpx.Request) -> bool:
    """Whether ``request`` is a refresh grant."""
    return request.url.path == "/connect/token" and b"grant_type=refresh_token" in request.content


class PausingTransport(httpx.AsyncBaseTransport):
    """The emulator in-process, with a pause before it sees a matching request (a refresh
    by default) and after it answers."""

    def __init__(
        self,
        fake: FakeTrueLayer,
        pause: Pause,
        matches: Callable[[httpx.Request], bool] = is_refresh,
    ) -> None:
        self.inner = httpx.ASGITransport(app=fake)
        self.pause = pause
        self.matches = matches

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        refresh = self.matches(request)
        if refresh:
            await self.pause.hold("sent")
        response = await self.inner.handle_async_request(request)
        if refresh:
            await self.pause.hold("answer")  # the server has rotated the pair by now
        return response


class PausingStore:
    """A token store (memory by default) whose writes wait at the pause."""

    def __init__(self, pause: Pause, inner: TokenStore | None = None) -> None:
        self.pause = pause
        self.inner = inner if inner is not None else MemoryTokenStore()
        # Passed on, so a SQLite or Redis store is read through the SDK's cache, as bare.
        self.cache_max_age = getattr(self.inner, "cache_max_age", None)

    async def get(self, key: TokenKey) -> TokenRecord | None:
        return await self.inner.get(key)

    async def set(self, key: TokenKey, record: TokenRecord) -> None:
        await self.pause.hold("store")
        await self.inner.set(key, record)

    async def delete(self, key: TokenKey) -> None:
        await self.inner.delete(key)

    def lock(self, key: TokenKey, *, timeout: float) -> AbstractAsyncContextManager[Any]:
        lock = getattr(self.inner, "lock", None)
        return nullcontext() if lock is None else lock(key, timeout=timeout)  # type: ignore[no-any-return]


#: How a test cancels ``call`` once the refresh is held at ``pause``.
Cancel = Callable[[Callable[[], Awaitable[Any]], Pause], Awaitable[None]]


async def _when_reached(pause: Pause, action: Callable[[], None]) -> None:
    await pause.reached.wait()
    action()


async def cancel_by_wait_for(call: Callable[[], Awaitable[Any]], pause: Pause) -> None:
    """``asyncio.wait_for`` times the call out while it is held."""
    # A generous timeout: the refresh reaches the pause long before it fires, and the
    # pause holds until the caller is gone.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(call(), timeout=1.0)


async def cancel_by_asyncio_timeout(call: Callable[[], Awaitable[Any]], pause: Pause) -> None:
    """``asyncio.timeout`` expires once the call is held."""
    loop = asyncio.get_running_loop()
    timed_out = False
    try:
        async with asyncio.timeout(None) as cm:  # type: ignore[attr-defined]
            expire = asyncio.ensure_future(
                _when_reached(pause, lambda: cm.reschedule(loop.time()))
            )
            await call()
    except TimeoutError:
        timed_out = True
    assert timed_out
    await expire


async def cancel_by_task_cancel(call: Callable[[], Awaitable[Any]], pause: Pause) -> None:
    """``Task.cancel`` on the task running the call, once it is held."""
    task = asyncio.ensure_future(call())
    await pause.reached.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def cancel_by_task_group(call: Callable[[], Awaitable[Any]], pause: Pause) -> None:
    """A sibling in an ``asyncio.TaskGroup`` fails once the call is held."""

    async def sibling_fails() -> None:
        await pause.reached.wait()
        raise RuntimeError("a sibling failed")

    group: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as tg:  # type: ignore[attr-defined]
            tg.create_task(call())
            tg.create_task(sibling_fails())
    except Exception as exc:  # an ExceptionGroup (3.11+)
        group = exc
    assert type(group).__name__ == "ExceptionGroup"


async def cancel_by_move_on_after(call: Callable[[], Awaitable[Any]], pause: Pause) -> None:
    """anyio's ``move_on_after`` deadline is moved to now once the call is held."""
    async with anyio.create_task_group() as tg:
        with anyio.move_on_after(3600) as scope:

            def expire() -> None:
                scope.deadline = anyio.current_time()

            tg.start_soon(_when_reached, pause, expire)
            await call()
    assert scope.cancelled_caught


async def cancel_by_anyio_task_group(call: Callable[[], Awaitable[Any]], pause: Pause) -> None:
    """An anyio task group's scope is cancelled once the call is held."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        await pause.reached.wait()
        tg.cancel_scope.cancel()


_PY311 = pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout/TaskGroup")

#: Every way a test cancels a caller on asyncio: asyncio's own, then anyio's.
ASYNCIO_KINDS = [
    pytest.param(cancel_by_wait_for, id="wait_for"),
    pytest.param(cancel_by_asyncio_timeout, id="asyncio.timeout", marks=_PY311),
    pytest.param(cancel_by_task_cancel, id="Task.cancel"),
    pytest.param(cancel_by_task_group, id="TaskGroup", marks=_PY311),
    pytest.param(cancel_by_move_on_after, id="move_on_after"),
    pytest.param(cancel_by_anyio_task_group, id="anyio-task-group"),
]
#: The kinds that also run on trio (anyio's).
TRIO_KINDS = [
    pytest.param(cancel_by_move_on_after, id="move_on_after"),
    pytest.param(cancel_by_anyio_task_group, id="anyio-task-group"),
]


async def connect_user(fake: FakeTrueLayer, tl: Session, user: str = USER) -> TokenKey:
    """Store a fresh emulator connection for ``user``; its key."""
    key = tl._core.tokens.key(TokenType.DATA, user)
    await tl._core.tokens.store_new(
        key, parse_token_response(fake.create_connection()), TokenType.DATA
    )
    return key


async def assert_newest_kept(fake: FakeTrueLayer, tl: Session, key: TokenKey) -> None:
    """The store holds the emulator's newest refresh token, and the emulator accepts it."""
    await tl._core.tokens.drain(30)  # the flight whose caller left may still be going
    await tl.auth.valid_token(user=key.user)  # writes a record the store failed to save
    record = await tl.token_store.get(key)
    assert record is not None and not record.invalid
    assert record.token.refresh_token == Secret(fake.latest_refresh_token("john") or "")
    # The emulator still accepts it: a forced refresh works and rotates once more.
    await tl.auth.refresh_token(user=key.user)
    assert await tl.data.accounts(user=key.user)


async def cancellation_scenario(
    point: str, cancel: Cancel, store: TokenStore | None = None
) -> None:
    """Cancel a refresh's caller at ``point``; the newest pair must be kept (in ``store``)."""
    fake = FakeTrueLayer()
    pause = Pause(point)
    client = httpx.AsyncClient(transport=PausingTransport(fake, pause), base_url="http://x")
    paused = PausingStore(pause, store)
    async with client, fake.session(http_client=client, token_store=paused) as tl:
        key = await connect_user(fake, tl)
        fake.clock.advance(4000)  # the access token has expired
        pause.armed = True
        with anyio.fail_after(60):  # a hang guard, not a timing assertion
            await cancel(lambda: tl.auth.valid_token(user=USER), pause)
            assert pause.reached.is_set()  # the cancellation landed at the point under test
            pause.release.set()
            token = await tl.auth.valid_token(user=USER)  # the flight's result
        assert token.access_token == Secret(fake.latest_access_token("john") or "")
        assert fake.stats["refresh"] == 1
        await assert_newest_kept(fake, tl, key)
        assert fake.stats["refresh"] == 2
