"""RedisTokenStore against a real redis-server: ownership, TTL, prefix, locks (ST-07)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import anyio
import pytest
import pytest_asyncio
import redis.asyncio

from tests.stores._child import StoreSpec, children, incrementer, lock_holder
from tests.support.processes import free_port
from tests.support.stores import key_for, make_record, secrets_of
from truelayer_async.errors import (
    ConfigurationError,
    StoreCorruptedError,
    StoreError,
    TokenStoreBusy,
)
from truelayer_async.stores import FernetCodec, RedisTokenStore

pytestmark = pytest.mark.asyncio

DAY = 86_400


@pytest_asyncio.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    connection = redis.asyncio.Redis.from_url(redis_url)
    await connection.flushdb()
    try:
        yield connection
    finally:
        await connection.aclose()


async def test_a_given_client_is_left_open(client: redis.asyncio.Redis) -> None:
    store = RedisTokenStore(client)
    await store.set(key_for(), make_record(1))
    await store.aclose()
    async with RedisTokenStore(client) as again:
        assert await again.get(key_for()) is not None
    assert await client.ping()  # still usable: the store never closed it


async def test_a_store_from_a_url_closes_its_client(
    redis_url: str, client: redis.asyncio.Redis
) -> None:
    before = len(await client.client_list())
    async with RedisTokenStore(redis_url) as store:
        await store.set(key_for(), make_record(1))
        assert len(await client.client_list()) == before + 1
    with anyio.fail_after(5):
        while len(await client.client_list()) != before:  # the server sees it go
            await anyio.sleep(0.01)
    await store.aclose()  # twice is fine


async def test_record_layout_prefix_and_ttl(client: redis.asyncio.Redis) -> None:
    store = RedisTokenStore(client)
    await store.set(key_for(), make_record(1))
    name = f"truelayer_async:{key_for()}"
    assert store.record_key(key_for()) == name
    assert await client.type(name) == b"hash"
    assert set(await client.hkeys(name)) == {b"v", b"e", b"d"}
    assert 90 * DAY * 1000 - 60_000 < await client.pttl(name) <= 90 * DAY * 1000

    short = RedisTokenStore(client, prefix="app1:", ttl=120)
    await short.set(key_for(), make_record(1, access="at-app1"))
    assert 100_000 < await client.pttl(f"app1:{key_for()}") <= 120_000
    await short.set(key_for(), make_record(2, access="at-app1"))  # every write resets it
    assert 100_000 < await client.pttl(f"app1:{key_for()}") <= 120_000
    assert secrets_of(await store.get(key_for()))[0] == "at-1"  # prefixes are isolated
    await short.delete(key_for())
    assert await store.get(key_for()) is not None


async def test_reencrypt_keeps_ttl_and_skips_locks(client: redis.asyncio.Redis) -> None:
    plain = RedisTokenStore(client, ttl=1000)
    await plain.set(key_for("a"), make_record(1))
    await plain.set(key_for("b"), make_record(1))
    encrypting = RedisTokenStore(client, codec=FernetCodec(FernetCodec.generate_key()))
    async with encrypting.lock(key_for("a"), timeout=1):
        assert await encrypting.reencrypt() == 2
    assert 900_000 < await client.pttl(encrypting.record_key(key_for("a"))) <= 1_000_000
    assert secrets_of(await encrypting.get(key_for("b"))) == ("at-1", "rt-1")


async def test_decode_responses_client_is_refused(redis_url: str) -> None:
    text_client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        with pytest.raises(ConfigurationError, match="decode_responses"):
            RedisTokenStore(text_client)
    finally:
        await text_client.aclose()


async def test_bad_arguments() -> None:
    with pytest.raises(ConfigurationError):
        RedisTokenStore(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RedisTokenStore("redis://127.0.0.1:1/0", ttl=0)
    with pytest.raises(ConfigurationError):
        RedisTokenStore("redis://127.0.0.1:1/0", ttl=10, lease=30)


async def test_a_key_of_another_type_is_corrupted_and_left_alone(
    client: redis.asyncio.Redis,
) -> None:
    store = RedisTokenStore(client)
    name = store.record_key(key_for())
    await client.set(name, b"someone else's value")
    with pytest.raises(StoreCorruptedError):
        await store.get(key_for())
    with pytest.raises(StoreCorruptedError):
        await store.set(key_for(), make_record(1))
    assert await client.get(name) == b"someone else's value"
    await client.delete(name)
    await client.hset(name, mapping={"v": "x", "e": "0", "d": "{}"})
    with pytest.raises(StoreCorruptedError):
        await store.set(key_for(), make_record(2))
    assert await client.hget(name, "v") == b"x"


async def test_redis_down_is_a_store_error_without_cause() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0?socket_connect_timeout=0.5"
    async with RedisTokenStore(url) as store:
        with anyio.fail_after(20):
            with pytest.raises(StoreError) as caught:
                await store.get(key_for())
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


# -- locks --------------------------------------------------------------------------------------


async def test_lock_key_has_a_lease_and_is_renewed(client: redis.asyncio.Redis) -> None:
    store = RedisTokenStore(client, lease=0.3, ttl=60)
    other = RedisTokenStore(client, lease=0.3, ttl=60)
    async with store.lock(key_for(), timeout=1):
        assert 0 < await client.pttl(store.lock_key(key_for())) <= 300
        with pytest.raises(TokenStoreBusy):
            async with other.lock(key_for(), timeout=1.0):  # > 3 leases
                pytest.fail("a held lease expired")
    assert await client.exists(store.lock_key(key_for())) == 0
    async with other.lock(key_for(), timeout=1):
        pass


async def test_only_the_owner_releases(
    client: redis.asyncio.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    first, second, third = (RedisTokenStore(client, lease=5) for _ in range(3))
    caplog.set_level(logging.WARNING, "truelayer_async.stores")
    first_lock = first.lock(key_for(), timeout=1)
    await first_lock.__aenter__()
    await client.delete(first.lock_key(key_for()))  # the lease ran out
    second_lock = second.lock(key_for(), timeout=1)
    await second_lock.__aenter__()
    await first_lock.__aexit__(None, None, None)  # the old holder leaves late ...
    assert "expired while it was held" in caplog.text
    with pytest.raises(TokenStoreBusy):  # ... and did not delete the new holder's lock
        async with third.lock(key_for(), timeout=0.2):
            pytest.fail("a stale holder released someone else's lock")
    await second_lock.__aexit__(None, None, None)
    async with third.lock(key_for(), timeout=1):
        pass


async def test_killed_lock_holder_blocks_others_only_for_the_lease(
    redis_url: str, client: redis.asyncio.Redis
) -> None:
    lease = 1.0
    spec = StoreSpec("redis", redis_url, lease=lease)
    store = RedisTokenStore(client, lease=lease)
    with children(lock_holder, [(spec, key_for())]) as (kid,):
        state, held_at = kid.receive(30)
        assert state == "held"
        kid.process.kill()
        kid.process.join(10)
    with pytest.raises(TokenStoreBusy):
        async with store.lock(key_for(), timeout=0.2):
            pytest.fail("the dead holder's lease was ignored")
    async with store.lock(key_for(), timeout=5):
        taken_at = time.time()
    assert held_at + lease - 0.05 <= taken_at <= held_at + lease + 2.0


async def test_processes_sharing_redis_lose_no_update(
    redis_url: str, client: redis.asyncio.Redis
) -> None:
    store = RedisTokenStore(client)
    await store.set(key_for("counter"), make_record(1))
    spec = StoreSpec("redis", redis_url)
    with children(incrementer, [(spec, key_for("counter"), 25)] * 4) as kids:
        for kid in kids:
            assert kid.receive(30) == "ready"
        for kid in kids:
            kid.conn.send("go")
        results = [kid.receive(60) for kid in kids]
    assert [done for done, _ in results] == [25] * 4
    final = await store.get(key_for("counter"))
    assert final is not None
    assert final.version == 101
