"""reliability.md §2.7 ST: token storage (one test per id), over every shipped store.

The complete contract suite (every backend, a user-written store, encryption, locks,
real processes) is tests/stores/; these named tests drive the stores through a Session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest
import pytest_asyncio
import respx

from tests.support.reliability import (
    REDIRECT,
    TOKEN_URL,
    Guard,
    Secrets,
    TokenServer,
    connect,
    data_key,
    form_of,
    refresh_of,
    token_json,
)
from tests.support.stores import DictStore
from truelayer_async import LockingTokenStore, MemoryTokenStore, Session, TokenStore
from truelayer_async import errors as e
from truelayer_async.stores import FernetCodec, RedisTokenStore, SqliteTokenStore
from truelayer_async.testing import FakeClock

pytestmark = pytest.mark.asyncio

BACKENDS = ["memory", "user", "sqlite", "redis"]


@pytest_asyncio.fixture(params=BACKENDS)
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[object]:
    """A factory of store objects over one shared backing (a second 'process' view)."""
    backend = request.param
    shared_memory = MemoryTokenStore()
    shared_dict = DictStore()
    redis_stores: list[RedisTokenStore] = []
    url = request.getfixturevalue("redis_url") if backend == "redis" else ""
    prefix = f"rel-{request.node.name}-"

    def make(codec: FernetCodec | None = None) -> TokenStore:
        if backend == "memory":
            return shared_memory
        if backend == "user":
            return shared_dict
        if backend == "sqlite":
            return SqliteTokenStore(tmp_path / "t.db", codec=codec, lease=5.0)
        store = RedisTokenStore(url, codec=codec, lease=5.0, prefix=prefix)
        redis_stores.append(store)
        return store

    make.backend = backend  # type: ignore[attr-defined]
    yield make
    for store in redis_stores:
        await store.aclose()


def session(store: TokenStore, secrets: Secrets, clock: FakeClock) -> Session:
    return Session(
        "c", secrets.client_secret, redirect_uri=REDIRECT, clock=clock, token_store=store
    )


async def test_st01_pluggable_store_protocol(
    make_store: object, server: TokenServer, secrets: Secrets, clock: FakeClock
) -> None:
    store = make_store()  # type: ignore[operator]
    assert isinstance(store, TokenStore)
    async with session(store, secrets, clock) as tl:
        await connect(tl, secrets)
        clock.advance(4000)
        await tl.auth.valid_token(user="u")
        assert refresh_of(await store.get(data_key(tl))) == server.latest_refresh
        await store.delete(data_key(tl))
        assert await store.get(data_key(tl)) is None


async def test_st02_compare_and_set(
    make_store: object, server: TokenServer, secrets: Secrets, clock: FakeClock
) -> None:
    import attrs

    store = make_store()  # type: ignore[operator]
    async with session(store, secrets, clock) as tl:
        await connect(tl, secrets)
        key = data_key(tl)
    base = await store.get(key)
    assert base is not None
    first = attrs.evolve(base, version=base.version + 1)
    second = attrs.evolve(
        base,
        version=base.version + 1,
        token=attrs.evolve(base.token, refresh_token=None),
    )
    await store.set(key, first)
    with pytest.raises(e.StoreConflictError):
        await make_store().set(key, second)  # type: ignore[operator]
    assert refresh_of(await store.get(key)) == refresh_of(first)


async def test_st03_one_atomic_record(
    make_store: object, server: TokenServer, secrets: Secrets, clock: FakeClock
) -> None:
    store = make_store()  # type: ignore[operator]
    async with session(store, secrets, clock) as tl:
        await connect(tl, secrets)
        clock.advance(4000)
        server.revoked = True
        with pytest.raises(e.ReauthorizationRequired):
            await tl.auth.valid_token(user="u")
        record = await make_store().get(data_key(tl))  # type: ignore[operator]
    assert record is not None
    token = record.token
    assert token.access_token.get_secret_value() == secrets.access(1)
    assert refresh_of(record) == secrets.refresh(1)
    assert token.expires_at and record.version >= 2
    assert record.invalid and record.invalid_reason == "invalid_grant"


async def test_st04_optional_encryption_at_rest(
    make_store: object, server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard
) -> None:
    if make_store.backend in ("memory", "user"):  # type: ignore[attr-defined]
        pytest.skip("in-memory stores hold no bytes at rest")
    old, new = FernetCodec.generate_key(), FernetCodec.generate_key()
    store = make_store(FernetCodec(old))  # type: ignore[operator]
    async with session(store, secrets, clock) as tl:
        await connect(tl, secrets)
        key = data_key(tl)
    rotated = make_store(FernetCodec([new, old]))  # type: ignore[operator]
    assert refresh_of(await rotated.get(key)) == secrets.refresh(1)  # old records still decrypt
    with guard.raises(e.StoreDecryptError):
        await make_store(FernetCodec(new)).get(key)  # type: ignore[operator]
    assert refresh_of(await store.get(key)) == secrets.refresh(1)  # never reset


async def test_st05_tenants_are_isolated(
    make_store: object, clock: FakeClock, respx_mock: respx.MockRouter
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        if form["grant_type"] == "authorization_code":
            user = form["code"]
            return httpx.Response(200, json=token_json(f"{user}-at-1", f"{user}-rt-1"))
        return httpx.Response(400, json={"error": "invalid_grant"})  # alice's refresh fails

    respx_mock.post(TOKEN_URL).mock(side_effect=handler)
    respx_mock.get(url__startswith="https://api.truelayer-sandbox.com").mock(
        return_value=httpx.Response(401, json={"error": "unauthorized"})
    )
    store = make_store()  # type: ignore[operator]
    async with Session("c", "s", redirect_uri=REDIRECT, clock=clock, token_store=store) as tl:
        await tl.auth.exchange_code("alice", user="alice")
        await tl.auth.exchange_code("bob", user="bob")
        before = await store.get(data_key(tl, "bob"))
        with pytest.raises(e.ReauthorizationRequired):
            await tl.data.accounts(user="alice")  # 401, then invalid_grant: alice only
        after = await store.get(data_key(tl, "bob"))
        alice = await store.get(data_key(tl, "alice"))
    assert before is not None and after is not None and alice is not None
    assert after.to_dict() == before.to_dict()
    assert alice.invalid and not after.invalid


async def test_st06_store_errors_carry_no_values(
    tmp_path: Path, secrets: Secrets, guard: Guard
) -> None:
    import sqlite3

    store = SqliteTokenStore(tmp_path / "t.db")
    key = data_key(Session("c", "s"))
    await store.get(key)  # creates the schema
    conn = sqlite3.connect(tmp_path / "t.db")
    conn.execute(
        "INSERT INTO truelayer_tokens (key, version, encrypted, data) VALUES (?, 1, 0, ?)",
        (str(key), f'{{"access_token": "{secrets.access(1)}", "refresh_token": '.encode()),
    )
    conn.commit()
    conn.close()
    with guard.raises(e.StoreCorruptedError):
        await store.get(key)
    with guard.raises(e.StoreCorruptedError):
        async with session(store, secrets, FakeClock()) as tl:
            await tl.auth.valid_token(user="u")


async def test_st07_redis_lock_one_refresh_across_instances(
    redis_url: str,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    respx_mock: respx.MockRouter,
    request: pytest.FixtureRequest,
) -> None:
    async def slow(req: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.1)
        return server(req)

    respx_mock.post(TOKEN_URL).mock(side_effect=slow)
    prefix = f"rel-{request.node.name}-"
    stores = [RedisTokenStore(redis_url, lease=5.0, prefix=prefix) for _ in range(2)]
    try:
        assert all(isinstance(s, LockingTokenStore) for s in stores)
        assert stores[0].ttl >= 30 * 86_400  # outlives the refresh token, not the access token
        a, b = (session(s, secrets, clock) for s in stores)
        async with a, b:
            await connect(a, secrets)
            clock.advance(4000)
            async with anyio.create_task_group() as tg:
                for tl in (a, b, a, b):
                    tg.start_soon(lambda tl=tl: tl.auth.valid_token(user="u"))
            assert server.count("refresh_token") == 1
    finally:
        for store in stores:
            await store.aclose()
