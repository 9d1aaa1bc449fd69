"""Issue #21: the read cache in front of SQLite and Redis, and waiters served by the flight.

Every test runs on a real SQLite file and a real redis-server. The stores are wrapped in
``CountingStore``, which counts ``get`` and ``lock`` calls (and can pause them) and
passes the store's ``cache_max_age`` on, so the SDK caches exactly as it would for the
bare store. "Another process" is a second store object over the same data, with its own
Session (and so its own cache), as in ``test_cross_process.py``; the 8-process tests
there run unchanged with the cache on.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio
import pytest
import pytest_asyncio

from tests.stores._cache_child import rotator
from tests.stores._child import StoreSpec, children, digest, record
from tests.support.flights import ASYNCIO_KINDS, TRIO_KINDS, Cancel, Pause
from truelayer_async import Environment, MemoryTokenStore, Secret, Session, Token, TokenType
from truelayer_async import errors as e
from truelayer_async._token_cache import TokenCache
from truelayer_async.stores import RedisTokenStore, SqliteTokenStore, TokenStore
from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeTrueLayer
from truelayer_async.tokens import TokenKey, TokenRecord

USER = "alice"
CALLS = 20
WAITERS = 200


class CountingStore:
    """A real store whose ``get`` and ``lock`` calls are counted; ``pause`` can hold a
    ``get`` ("get"), a ``set`` ("set") or a ``delete`` ("delete") at the point under test."""

    def __init__(self, inner: Any, pause: Pause | None = None) -> None:
        self.inner = inner
        self.pause = pause
        self.gets = 0
        self.locks = 0
        # What the SDK looks at to decide whether to cache (absent on the memory store).
        self.cache_max_age = getattr(inner, "cache_max_age", None)

    async def get(self, key: TokenKey) -> TokenRecord | None:
        self.gets += 1
        if self.pause is not None:
            await self.pause.hold("get")
        result: TokenRecord | None = await self.inner.get(key)
        return result

    async def set(self, key: TokenKey, record: TokenRecord) -> None:
        if self.pause is not None:
            await self.pause.hold("set")
        await self.inner.set(key, record)

    async def delete(self, key: TokenKey) -> None:
        if self.pause is not None:
            await self.pause.hold("delete")
        await self.inner.delete(key)

    def lock(self, key: TokenKey, *, timeout: float) -> AbstractAsyncContextManager[None]:
        self.locks += 1
        if not hasattr(self.inner, "lock"):  # the memory store
            return nullcontext()
        result: AbstractAsyncContextManager[None] = self.inner.lock(key, timeout=timeout)
        return result


class Opener:
    """Opens store objects over the data ``spec`` names (as separate processes would)."""

    def __init__(self, spec: StoreSpec) -> None:
        self.spec = spec
        self.opened: list[Any] = []

    def __call__(self, **options: Any) -> Any:
        spec = self.spec
        if spec.backend == "sqlite":
            store: Any = SqliteTokenStore(spec.location, **options)
        else:
            store = RedisTokenStore(spec.location, prefix=spec.prefix, **options)
        self.opened.append(store)
        return store


@pytest_asyncio.fixture(params=["sqlite", "redis"])
async def opener(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    if request.param == "sqlite":
        spec = StoreSpec("sqlite", str(tmp_path / "tokens.db"))
    else:
        url: str = request.getfixturevalue("redis_url")
        spec = StoreSpec("redis", url, prefix=f"cache-{uuid.uuid4().hex[:8]}:")
    opened = Opener(spec)
    yield opened
    for store in opened.opened:
        await store.aclose()


def _key(tl: Any, user: str = USER) -> TokenKey:
    key: TokenKey = tl._core.tokens.key(TokenType.DATA, user)
    return key


# -- the hot path -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_data_calls_do_not_read_the_store_each_time(opener: Opener) -> None:
    async with FakeTrueLayer() as fake:
        store = CountingStore(opener())
        async with fake.session(token_store=store) as tl:
            await fake.connect(tl, user=USER)  # written, so cached
            store.gets = 0
            for _ in range(CALLS):
                await tl.data.accounts(user=USER)
            assert store.gets == 0
        restarted = CountingStore(opener())  # a new process: nothing cached yet
        async with fake.session(token_store=restarted) as tl:
            for _ in range(CALLS):
                await tl.data.accounts(user=USER)
            assert restarted.gets == 1
        assert fake.stats["refresh"] == 0


@pytest.mark.asyncio
async def test_a_cached_record_is_read_again_after_cache_max_age(opener: Opener) -> None:
    async with FakeTrueLayer() as fake:
        store = CountingStore(opener(cache_max_age=5))
        async with fake.session(token_store=store) as tl:
            await fake.connect(tl, user=USER)
            store.gets = 0
            await tl.data.accounts(user=USER)
            fake.clock.advance(4)
            await tl.data.accounts(user=USER)
            assert store.gets == 0
            fake.clock.advance(2)  # 6 s after the write: older than cache_max_age
            await tl.data.accounts(user=USER)
            await tl.data.accounts(user=USER)
            assert store.gets == 1


@pytest.mark.asyncio
async def test_cache_max_age_zero_reads_on_every_call(opener: Opener) -> None:
    async with FakeTrueLayer() as fake:
        store = CountingStore(opener(cache_max_age=0))
        async with fake.session(token_store=store) as tl:
            await fake.connect(tl, user=USER)
            store.gets = 0
            for _ in range(CALLS):
                await tl.data.accounts(user=USER)
            assert store.gets == CALLS


@pytest.mark.asyncio
async def test_the_memory_store_is_read_on_every_call_as_before() -> None:
    async with FakeTrueLayer() as fake:
        store = CountingStore(MemoryTokenStore())
        async with fake.session(token_store=store) as tl:
            await fake.connect(tl, user=USER)
            store.gets = 0
            for _ in range(CALLS):
                await tl.data.accounts(user=USER)
            assert store.gets == CALLS
            assert tl._core.tokens._shared.cache is None


def test_the_stores_refuse_a_negative_cache_max_age(tmp_path: Path) -> None:
    with pytest.raises(e.ConfigurationError, match="cache_max_age"):
        SqliteTokenStore(tmp_path / "t.db", cache_max_age=-1)
    with pytest.raises(e.ConfigurationError, match="cache_max_age"):
        RedisTokenStore("redis://127.0.0.1:1/0", cache_max_age=-1)


# -- another process rotates ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_token_rotated_elsewhere_is_used_after_a_401_without_a_refresh(
    opener: Opener,
) -> None:
    async with FakeTrueLayer() as fake:
        mine = CountingStore(opener())
        async with (
            fake.session(token_store=mine) as tl,
            fake.session(token_store=opener()) as other,
        ):
            await fake.connect(tl, user=USER)
            await tl.data.accounts(user=USER)  # served from the cache from now on
            rotated = await other.auth.refresh_token(user=USER)  # our cached token is dead
            assert fake.stats["refresh"] == 1
            mine.gets = mine.locks = 0
            fake.requests.clear()

            assert await tl.data.accounts(user=USER)

            assert fake.count("/data/v1/accounts", status=401) == 1  # the superseded token
            assert fake.stats["refresh"] == 0  # no refresh since (stats count from clear()) ...
            assert (mine.gets, mine.locks) == (1, 0)  # ... one store read, no lock
            assert await tl.auth.valid_token(user=USER) == rotated
            await tl.data.accounts(user=USER)
            assert mine.gets == 1  # the store's token is cached now


@pytest.fixture
def served() -> Iterator[tuple[FakeTrueLayer, str]]:
    emulator = FakeTrueLayer()
    with emulator.serve_in_thread() as base_url:
        yield emulator, base_url


@pytest.mark.asyncio
async def test_a_token_rotated_by_another_process_is_used_after_a_401(
    opener: Opener, served: tuple[FakeTrueLayer, str]
) -> None:
    """The same with a real child process doing the rotation (emulator on loopback)."""
    emulator, base_url = served
    mine = CountingStore(opener())
    inner = mine.inner
    client = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    async with Session(*client, environment=Environment.custom(base_url), token_store=mine) as tl:
        grant = emulator.create_connection()
        await inner.set(
            _key(tl),
            record(1, access=grant["access_token"], refresh=grant["refresh_token"],
                   expires_at=time.time() + 3600),
        )  # fmt: skip
        await tl.data.accounts(user=USER)
        await tl.data.accounts(user=USER)
        assert mine.gets == 1  # read once, then cached
        with children(rotator, [(opener.spec, base_url, client, USER)]) as (kid,):
            rotated = kid.receive(60)
            kid.process.join(10)
            assert kid.process.exitcode == 0
        mine.gets = mine.locks = 0

        assert await tl.data.accounts(user=USER)

        assert emulator.stats["refresh"] == 1  # the child's only
        assert (mine.gets, mine.locks) == (1, 0)
        token = await tl.auth.valid_token(user=USER)
        assert digest(token.access_token.get_secret_value()) == rotated


@pytest.mark.asyncio
async def test_a_401_with_no_newer_token_in_the_store_refreshes_once(opener: Opener) -> None:
    async with FakeTrueLayer() as fake:
        mine = CountingStore(opener())
        async with fake.session(token_store=mine) as tl:
            await fake.connect(tl, user=USER)
            used = (await tl.auth.valid_token(user=USER)).access_token
            mine.locks = 0
            token = await tl._core.tokens.refresh(_key(tl), used=used)  # what a 401 does
            assert token.access_token != used
            assert token.access_token == Secret(fake.latest_access_token("john") or "")
            assert fake.stats["refresh"] == 1
            assert mine.locks == 1  # the refresh itself held the cross-process lock


@pytest.mark.asyncio
async def test_an_expired_cached_token_refreshed_elsewhere_is_not_refreshed_again(
    opener: Opener,
) -> None:
    async with FakeTrueLayer() as fake:
        # A long cache_max_age keeps the expired token in the cache: the expiry path.
        mine = CountingStore(opener(cache_max_age=1e6))
        async with (
            fake.session(token_store=mine) as tl,
            fake.session(token_store=opener()) as other,
        ):
            await fake.connect(tl, user=USER)
            fake.clock.advance(4000)
            refreshed = await other.auth.valid_token(user=USER)
            assert fake.stats["refresh"] == 1
            mine.gets = mine.locks = 0

            assert await tl.auth.valid_token(user=USER) == refreshed

            assert fake.stats["refresh"] == 1
            assert (mine.gets, mine.locks) == (1, 0)


@pytest.mark.asyncio
@pytest.mark.parametrize("warm", [True, False], ids=["cached", "cold"])
async def test_waiters_on_an_expired_token_get_the_flights_token(
    opener: Opener, warm: bool
) -> None:
    """Waiters join the flight and take its result; they never re-read the store each.

    cached: the expired token is in this process's cache (a long ``cache_max_age``).
    cold: a new store object (a restarted process) reads it for the first time.
    """
    async with FakeTrueLayer() as fake:
        store = CountingStore(opener(cache_max_age=1e6))
        async with fake.session(token_store=store) as first:
            await fake.connect(first, user=USER)
            fake.clock.advance(4000)
            if not warm:
                store = CountingStore(opener())
            async with fake.session(token_store=store) as tl:
                store.gets = 0
                tokens: list[Any] = []

                async def wait() -> None:
                    tokens.append(await tl.auth.valid_token(user=USER))

                async with anyio.create_task_group() as tg:
                    for _ in range(WAITERS):
                        tg.start_soon(wait)

        assert fake.stats["refresh"] == 1
        latest = Secret(fake.latest_access_token("john") or "")
        assert len(tokens) == WAITERS and {t.access_token for t in tokens} == {latest}
        # cached: the flight's read and its read under the lock; cold: one shared read
        # before them.
        assert store.gets == (2 if warm else 3)


# -- writes and deletes --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_delete_credential_leaves_no_cached_token(opener: Opener) -> None:
    async with FakeTrueLayer() as fake, fake.session(token_store=opener()) as tl:
        await fake.connect(tl, user=USER)
        await tl.data.accounts(user=USER)  # cached
        await tl.auth.delete_credential(user=USER)
        with pytest.raises(e.NoTokenError):
            await tl.auth.valid_token(user=USER)


@pytest.mark.asyncio
async def test_a_read_during_a_forget_does_not_cache_the_deleted_record(opener: Opener) -> None:
    """A read that starts while ``forget`` deletes (the store still has the record) must
    not leave it cached once the delete has landed."""
    async with FakeTrueLayer() as fake:
        pause = Pause("delete")
        store = CountingStore(opener(), pause)
        async with fake.session(token_store=store) as tl:
            await fake.connect(tl, user=USER)
            pause.armed = True
            with anyio.fail_after(60):  # a hang guard, not a timing assertion
                async with anyio.create_task_group() as tg:
                    tg.start_soon(tl._core.tokens.forget, _key(tl))
                    await pause.reached.wait()
                    store.gets = 0
                    await tl.auth.valid_token(user=USER)  # reads the record being deleted
                    assert store.gets == 1
                    pause.release.set()
            with pytest.raises(e.NoTokenError):
                await tl.auth.valid_token(user=USER)


@pytest.mark.asyncio
async def test_a_user_reconnected_elsewhere_is_served_despite_a_cached_invalid_mark(
    opener: Opener,
) -> None:
    async with FakeTrueLayer() as fake:
        # A long cache_max_age keeps the invalid mark in this process's cache.
        mine = CountingStore(opener(cache_max_age=1e6))
        async with (
            fake.session(token_store=mine) as tl,
            fake.session(token_store=opener()) as other,
        ):
            await fake.connect(tl, user=USER)
            fake.revoke("john")
            fake.clock.advance(4000)
            with pytest.raises(e.ReauthorizationRequired):
                await tl.auth.valid_token(user=USER)  # the refresh marks the record invalid
            with pytest.raises(e.ReauthorizationRequired, match="marked invalid"):
                await tl.auth.valid_token(user=USER)
            # The user connects again through another process (say, the web app).
            reconnected = await fake.connect(other, user=USER)
            mine.gets = 0

            assert await tl.auth.valid_token(user=USER) == reconnected

            assert mine.gets == 1  # the store, not the cached mark, decides
            assert fake.stats["refresh"] == 1


@pytest.mark.asyncio
async def test_a_record_deleted_elsewhere_is_noticed_within_cache_max_age(
    opener: Opener,
) -> None:
    async with FakeTrueLayer() as fake, fake.session(token_store=opener(cache_max_age=5)) as tl:
        await fake.connect(tl, user=USER)
        await opener().delete(_key(tl))  # another process, straight in the store
        await tl.auth.valid_token(user=USER)  # still served from the cache ...
        fake.clock.advance(6)
        with pytest.raises(e.NoTokenError):  # ... until it is older than cache_max_age
            await tl.auth.valid_token(user=USER)


@pytest.mark.asyncio
async def test_sessions_of_one_loop_on_one_store_share_the_cache(opener: Opener) -> None:
    async with FakeTrueLayer() as fake:
        store = CountingStore(opener())
        async with fake.session(token_store=store) as a, fake.session(token_store=store) as b:
            await fake.connect(a, user=USER)
            fake.clock.advance(4000)
            await a.auth.valid_token(user=USER)  # refreshes and caches the new token
            store.gets = 0
            await b.data.accounts(user=USER)
            assert store.gets == 0
            assert fake.stats["refresh"] == 1


# -- cancellation at the new await points --------------------------------------------------


async def _newest_is_kept(fake: FakeTrueLayer, tl: Any, store: Any) -> None:
    await tl._core.tokens.drain(30)
    record = await store.get(_key(tl))
    assert record is not None and not record.invalid
    assert record.token.refresh_token == Secret(fake.latest_refresh_token("john") or "")
    await tl.auth.refresh_token(user=USER)  # the emulator still accepts it
    assert await tl.data.accounts(user=USER)


@pytest.mark.asyncio
@pytest.mark.parametrize("cancel", ASYNCIO_KINDS)
@pytest.mark.parametrize("point", ["get", "set"])
async def test_a_caller_cancelled_during_a_401_refresh_loses_no_rotated_pair(
    opener: Opener, cancel: Cancel, point: str
) -> None:
    """Cancelled while the flight reads the store after the 401, or writes the new pair."""
    async with FakeTrueLayer() as fake:
        pause = Pause(point)
        inner = opener()
        async with fake.session(token_store=CountingStore(inner, pause)) as tl:
            await fake.connect(tl, user=USER)
            used = (await tl.auth.valid_token(user=USER)).access_token
            pause.armed = True
            with anyio.fail_after(60):  # a hang guard, not a timing assertion
                await cancel(lambda: tl._core.tokens.refresh(_key(tl), used=used), pause)
                assert pause.reached.is_set()
                pause.release.set()
                await tl._core.tokens.drain(30)  # the flight whose caller left goes on
                token = await tl.auth.valid_token(user=USER)
            assert token.access_token == Secret(fake.latest_access_token("john") or "")
            assert fake.stats["refresh"] == 1
            await _newest_is_kept(fake, tl, inner)


@pytest.mark.asyncio
@pytest.mark.parametrize("cancel", ASYNCIO_KINDS)
async def test_a_caller_cancelled_during_a_shared_read_leaves_the_others_their_token(
    opener: Opener, cancel: Cancel
) -> None:
    async with FakeTrueLayer() as fake:
        async with fake.session(token_store=opener()) as first:
            await fake.connect(first, user=USER)
        fake.clock.advance(4000)  # expired: the shared read leads to a refresh
        pause = Pause("get")
        inner = opener()
        async with fake.session(token_store=CountingStore(inner, pause)) as tl:
            pause.armed = True
            other: list[Any] = []

            async def another_caller() -> None:
                await pause.reached.wait()
                other.append(await tl.auth.valid_token(user=USER))  # joins the same read

            with anyio.fail_after(60):  # a hang guard, not a timing assertion
                async with anyio.create_task_group() as tg:
                    tg.start_soon(another_caller)
                    await cancel(lambda: tl.auth.valid_token(user=USER), pause)
                    pause.release.set()
            latest = Secret(fake.latest_access_token("john") or "")
            assert [t.access_token for t in other] == [latest]
            assert fake.stats["refresh"] == 1
            await _newest_is_kept(fake, tl, inner)


@pytest.mark.asyncio
@pytest.mark.parametrize("cancel", ASYNCIO_KINDS)
async def test_a_caller_cancelled_while_the_expiry_flight_reads_the_store_loses_nothing(
    opener: Opener, cancel: Cancel
) -> None:
    """An expired cached token sends its caller straight to the flight, which reads the
    store before refreshing: the caller is cancelled during that read."""
    async with FakeTrueLayer() as fake:
        pause = Pause("get")
        inner = opener(cache_max_age=1e6)
        store = CountingStore(inner, pause)
        async with fake.session(token_store=store) as tl:
            await fake.connect(tl, user=USER)
            fake.clock.advance(4000)
            store.gets = 0
            pause.armed = True
            with anyio.fail_after(60):  # a hang guard, not a timing assertion
                await cancel(lambda: tl.auth.valid_token(user=USER), pause)
                assert pause.reached.is_set()
                pause.release.set()
                token = await tl.auth.valid_token(user=USER)  # joins the flight still going
            assert token.access_token == Secret(fake.latest_access_token("john") or "")
            assert fake.stats["refresh"] == 1
            # One flight outlived its caller: its read, then its read under the lock (a
            # flight cancelled with its caller would have sent nothing, so only a second
            # flight's reads tell it apart).
            assert store.gets == 2
            await _newest_is_kept(fake, tl, inner)


def _on_trio(test: Callable[..., Awaitable[None]], tmp_path: Path, *args: Any) -> None:
    """One of the asyncio tests above, run on trio over SQLite (redis.asyncio is asyncio's)."""

    async def main() -> None:
        opener = Opener(StoreSpec("sqlite", str(tmp_path / "tokens.db")))
        try:
            await test(opener, *args)
        finally:
            for store in opener.opened:
                await store.aclose()

    anyio.run(main, backend="trio")


@pytest.mark.parametrize("cancel", TRIO_KINDS)
@pytest.mark.parametrize("point", ["get", "set"])
def test_a_caller_cancelled_during_a_401_refresh_loses_no_rotated_pair_on_trio(
    tmp_path: Path, cancel: Cancel, point: str
) -> None:
    test = test_a_caller_cancelled_during_a_401_refresh_loses_no_rotated_pair
    _on_trio(test, tmp_path, cancel, point)


@pytest.mark.parametrize("cancel", TRIO_KINDS)
def test_a_caller_cancelled_during_a_shared_read_leaves_the_others_their_token_on_trio(
    tmp_path: Path, cancel: Cancel
) -> None:
    test = test_a_caller_cancelled_during_a_shared_read_leaves_the_others_their_token
    _on_trio(test, tmp_path, cancel)


@pytest.mark.parametrize("cancel", TRIO_KINDS)
def test_a_caller_cancelled_while_the_expiry_flight_reads_the_store_loses_nothing_on_trio(
    tmp_path: Path, cancel: Cancel
) -> None:
    test = test_a_caller_cancelled_while_the_expiry_flight_reads_the_store_loses_nothing
    _on_trio(test, tmp_path, cancel)


# -- the cache itself ----------------------------------------------------------------------


def _record(version: int) -> TokenRecord:
    when = datetime.fromtimestamp(10_000, timezone.utc)
    token = Token(access_token=Secret(f"at-{version}"), token_type=TokenType.DATA, expires_at=when)
    return TokenRecord(token=token, version=version)


def test_a_read_that_overlapped_a_write_or_delete_is_not_kept() -> None:
    key = TokenKey("ns", TokenType.DATA, USER)
    cache = TokenCache(10)
    mark = cache.entry(key)  # a store read starts ...
    cache.put(key, _record(2), 0.0)  # ... a write lands ...
    cache.keep(key, mark, _record(1), 0.0)  # ... the read returns the older record
    assert cache.fresh(key, 1.0) == _record(2)
    mark = cache.entry(key)
    cache.drop(key, 1.0)
    cache.keep(key, mark, _record(2), 1.0)
    assert cache.fresh(key, 1.0) is None
    mark = cache.entry(key)
    cache.keep(key, mark, _record(3), 2.0)  # nothing overlapped: kept
    assert cache.fresh(key, 2.0) == _record(3)


def test_cache_entries_expire_are_bounded_and_a_clock_gone_back_is_stale() -> None:
    cache = TokenCache(10, limit=3)
    keys = [TokenKey("ns", TokenType.DATA, f"u{n}") for n in range(4)]
    for key in keys:
        cache.put(key, _record(1), 100.0)
    assert len(cache) == 3 and cache.fresh(keys[0], 100.0) is None  # the oldest went
    assert cache.fresh(keys[3], 109.9) is not None
    assert cache.fresh(keys[3], 110.0) is None
    assert cache.fresh(keys[3], 99.0) is None


def test_counting_store_is_a_token_store() -> None:
    assert isinstance(CountingStore(MemoryTokenStore()), TokenStore)
