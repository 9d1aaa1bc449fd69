"""The heart of persistent stores: many processes, one refresh (TK-14, ST-07).

The emulator runs as a real HTTP server on loopback. 8 worker processes each open a
Session on the same SQLite file or Redis server and gather ``valid_token`` calls on the
same expired connection. Workers have their own clocks, so "expired" is seeded: the store
starts with a record whose ``expires_at`` is in the past and whose refresh token is real.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.stores._child import (
    Child,
    StoreSpec,
    children,
    digest,
    lock_holder,
    record,
    session_worker,
)
from truelayer_async import Environment, Session, TokenKey, TokenType, _token_manager
from truelayer_async.errors import TokenStoreBusy
from truelayer_async.stores import RedisTokenStore, SqliteTokenStore
from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeTrueLayer

pytestmark = pytest.mark.asyncio

WORKERS = 8
# Realistic leases for the contention tests: 8 busy processes on a 2-CPU runner can delay
# a renewal by seconds. The killed-holder test uses a short one to keep the wait short.
LEASE = 10.0
SHORT_LEASE = 1.5
CLIENT = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)


@pytest.fixture
def fake() -> Iterator[tuple[FakeTrueLayer, str]]:
    emulator = FakeTrueLayer()
    with emulator.serve_in_thread() as base_url:
        yield emulator, base_url


@pytest_asyncio.fixture(params=["sqlite", "redis"])
async def spec(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreSpec]:
    if request.param == "sqlite":
        yield StoreSpec("sqlite", str(tmp_path / "tokens.db"), lease=LEASE)
        return
    url: str = request.getfixturevalue("redis_url")
    yield StoreSpec("redis", url, prefix=f"xp-{uuid.uuid4().hex[:8]}:", lease=LEASE)


def key_of(base_url: str, user: str) -> TokenKey:
    """The key the workers' Sessions will use (computed by the SDK itself)."""
    session = Session(*CLIENT, environment=Environment.custom(base_url))
    return session._core.tokens.key(TokenType.DATA, user)


async def seed_expired(
    spec: StoreSpec, fake: FakeTrueLayer, base_url: str, users: list[str]
) -> dict[str, str]:
    """Connect each user at the fake; store its tokens as expired. Returns credentials ids."""
    store = spec.open()
    credentials: dict[str, str] = {}
    try:
        for user in users:
            grant: dict[str, Any] = fake.create_connection()
            credentials[user] = fake.credentials_id(grant["access_token"])
            await store.set(
                key_of(base_url, user),
                record(
                    1,
                    access=grant["access_token"],
                    refresh=grant["refresh_token"],
                    expires_at=time.time() - 600,
                ),
            )
    finally:
        if isinstance(store, RedisTokenStore):
            await store.aclose()
    return credentials


def start_all(kids: list[Child]) -> None:
    for kid in kids:
        assert kid.receive(60) == "ready"
    for kid in kids:
        kid.conn.send("go")


def gather_results(kids: list[Child]) -> list[dict[str, Any]]:
    results = [kid.receive(90) for kid in kids]
    for kid in kids:
        kid.process.join(10)
        assert kid.process.exitcode == 0
    return results


async def stored_access_digest(spec: StoreSpec, base_url: str, user: str) -> tuple[str, int]:
    store = spec.open()
    try:
        got = await store.get(key_of(base_url, user))
    finally:
        if isinstance(store, RedisTokenStore):
            await store.aclose()
    assert got is not None
    return digest(got.token.access_token.get_secret_value()), got.version


async def test_400_callers_in_8_processes_cause_one_refresh(
    spec: StoreSpec, fake: tuple[FakeTrueLayer, str]
) -> None:
    emulator, base_url = fake
    credentials = await seed_expired(spec, emulator, base_url, ["john"])
    emulator.requests.clear()

    with children(session_worker, [(spec, base_url, CLIENT, ["john"] * 50)] * WORKERS) as kids:
        start_all(kids)
        results = gather_results(kids)

    assert emulator.stats["refresh"] == 1
    assert emulator.count("/connect/token", status=400) == 0  # no invalid_grant anywhere
    latest = emulator.latest_access_token(credentials["john"])
    assert latest is not None
    expected = digest(latest)
    for result in results:
        assert result["tokens"] == {"john": {expected: 50}}  # all 400 got the same token
    assert await stored_access_digest(spec, base_url, "john") == (expected, 2)


async def test_100_users_cause_exactly_100_refreshes(
    spec: StoreSpec, fake: tuple[FakeTrueLayer, str]
) -> None:
    emulator, base_url = fake
    users = [f"user-{n:03d}" for n in range(100)]
    credentials = await seed_expired(spec, emulator, base_url, users)
    emulator.requests.clear()

    # Every worker asks for every user, in its own order, so they all contend.
    orders = [users[n * 12 :] + users[: n * 12] for n in range(WORKERS)]
    with children(session_worker, [(spec, base_url, CLIENT, o) for o in orders]) as kids:
        start_all(kids)
        results = gather_results(kids)

    assert emulator.stats["refresh"] == 100
    assert emulator.count("/connect/token", status=400) == 0
    for user in users:
        latest = emulator.latest_access_token(credentials[user])
        assert latest is not None
        for result in results:
            assert result["tokens"][user] == {digest(latest): 1}


async def test_killed_lock_holder_stalls_no_one_beyond_the_lease(
    spec: StoreSpec, fake: tuple[FakeTrueLayer, str]
) -> None:
    emulator, base_url = fake
    spec = dataclasses.replace(spec, lease=SHORT_LEASE)
    credentials = await seed_expired(spec, emulator, base_url, ["john"])
    emulator.requests.clear()
    key = key_of(base_url, "john")

    with children(lock_holder, [(spec, key)]) as (holder,):
        state, held_at = holder.receive(30)
        assert state == "held"
        with children(session_worker, [(spec, base_url, CLIENT, ["john"] * 50)] * WORKERS) as kids:
            start_all(kids)
            time.sleep(0.3)  # the workers are now waiting for the lock ...
            holder.process.kill()  # ... and its holder dies without releasing it
            killed_at = time.time()
            holder.process.join(10)
            results = gather_results(kids)

    assert emulator.stats["refresh"] == 1
    assert emulator.count("/connect/token", status=400) == 0
    latest = emulator.latest_access_token(credentials["john"])
    assert latest is not None
    for result in results:
        assert result["tokens"] == {"john": {digest(latest): 50}}  # no token was lost
        # Nobody went ahead before the dead holder's lease ran out (it had renewed it
        # until it died), and nobody was kept waiting much longer than one lease.
        assert held_at + spec.lease - 0.1 <= result["finished"] <= killed_at + spec.lease + 4
    assert (await stored_access_digest(spec, base_url, "john"))[1] == 2


# -- in one process: the SDK over two store instances (as two processes would have) ------


@pytest_asyncio.fixture(params=["sqlite", "redis"])
async def twin_stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Any, Any]]:
    """Two independent store objects over the same data."""
    if request.param == "sqlite":
        path = tmp_path / "tokens.db"
        async with SqliteTokenStore(path) as first, SqliteTokenStore(path) as second:
            yield first, second
        return
    url: str = request.getfixturevalue("redis_url")
    prefix = f"twin-{uuid.uuid4().hex[:8]}:"
    async with (
        RedisTokenStore(url, prefix=prefix) as first,
        RedisTokenStore(url, prefix=prefix) as second,
    ):
        yield first, second


async def test_lock_held_elsewhere_past_the_deadline_is_busy_with_no_refresh(
    twin_stores: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """TK-14: no refresh without the lock (it would not be persisted safely)."""
    holder, store = twin_stores
    monkeypatch.setattr(_token_manager, "STORE_LOCK_TIMEOUT", 0.3)
    async with FakeTrueLayer() as emulator:
        session = emulator.session(token_store=store)
        async with session:
            key = session._core.tokens.key(TokenType.DATA, "john")
            grant = emulator.create_connection()
            await store.set(
                key,
                record(
                    1,
                    access=grant["access_token"],
                    refresh=grant["refresh_token"],
                    expires_at=emulator.clock() - 600,
                ),
            )
            async with holder.lock(key, timeout=1):
                with pytest.raises(TokenStoreBusy):
                    await session.auth.valid_token(user="john")
            assert emulator.stats["refresh"] == 0
            token = await session.auth.valid_token(user="john")  # free again: refreshes
            assert emulator.stats["refresh"] == 1
            assert token.access_token.get_secret_value() == emulator.latest_access_token("john")


async def test_tokens_survive_a_restart(twin_stores: tuple[Any, Any]) -> None:
    first, second = twin_stores
    async with FakeTrueLayer() as emulator:
        async with emulator.session(token_store=first) as session:
            key = session._core.tokens.key(TokenType.DATA, "john")
            grant = emulator.create_connection()
            await first.set(
                key,
                record(
                    1,
                    access=grant["access_token"],
                    refresh=grant["refresh_token"],
                    expires_at=emulator.clock() - 600,
                ),
            )
            refreshed = await session.auth.valid_token(user="john")
        async with emulator.session(token_store=second) as restarted:  # a new process
            again = await restarted.auth.valid_token(user="john")
    assert again == refreshed
    assert emulator.stats["refresh"] == 1
