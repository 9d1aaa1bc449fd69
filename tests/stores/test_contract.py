"""One contract for every token store (reliability.md ST-01..ST-06, TK-14).

Run against MemoryTokenStore, SqliteTokenStore, RedisTokenStore (real redis-server) and
``DictStore``, a store written in the test from the public protocol alone.
"""

from __future__ import annotations

import json
import time

import anyio
import pytest

from tests.support.stores import Harness, key_for, make_record, scan_for, secrets_of
from truelayer_async import TokenKey, TokenType
from truelayer_async.errors import (
    StoreConflictError,
    StoreCorruptedError,
    StoreDecryptError,
    StoreError,
    TokenStoreBusy,
)
from truelayer_async.stores import FernetCodec, LockingTokenStore, TokenStore

pytestmark = pytest.mark.asyncio


async def test_implements_the_protocol(harness: Harness) -> None:
    assert isinstance(harness.store, TokenStore)
    assert isinstance(harness.store, LockingTokenStore) == harness.locking


async def test_get_set_delete(harness: Harness) -> None:
    store, key = harness.store, key_for()
    assert await store.get(key) is None
    record = make_record(1, access="at-a", refresh="rt-a")
    await store.set(key, record)
    assert await store.get(key) == record
    await store.delete(key)
    assert await store.get(key) is None
    await store.delete(key)  # absent: no error


async def test_record_round_trips_every_field(harness: Harness) -> None:
    record = make_record(
        1,
        access="at-full",
        refresh="rt-full",
        expires_at=1_900_000_000.25,
        scopes=("accounts", "balance"),
    )
    await harness.store.set(key_for(), record)
    got = await harness.sibling().get(key_for())
    assert got == record
    assert got is not None
    assert got.token.expires_at == record.token.expires_at
    assert got.token.scopes == ("accounts", "balance")
    assert got.updated_at == record.updated_at


async def test_record_without_refresh_token(harness: Harness) -> None:
    record = make_record(1, refresh=None)
    await harness.store.set(key_for(), record)
    assert secrets_of(await harness.store.get(key_for())) == ("at-1", None)


async def test_versions_must_follow_each_other(harness: Harness) -> None:
    store, key = harness.store, key_for()
    with pytest.raises(StoreConflictError):
        await store.set(key, make_record(2))  # nothing stored: only version 1 may be written
    with pytest.raises(StoreConflictError):
        await store.set(key, make_record(0))
    await store.set(key, make_record(1))
    with pytest.raises(StoreConflictError):
        await store.set(key, make_record(1, access="at-again"))  # insert over a record
    with pytest.raises(StoreConflictError):
        await store.set(key, make_record(3))  # skipping a version
    await store.set(key, make_record(2, access="at-2"))
    got = await store.get(key)
    assert got is not None
    assert got.version == 2
    assert secrets_of(got)[0] == "at-2"


async def test_two_writers_from_one_base_second_conflicts(harness: Harness) -> None:
    """ST-02: the stale writer gets StoreConflictError; the first writer's tokens stay."""
    key = key_for()
    await harness.store.set(key, make_record(1, access="at-0", refresh="rt-0"))
    writer_a, writer_b = harness.store, harness.sibling()
    base_a, base_b = await writer_a.get(key), await writer_b.get(key)
    assert base_a is not None
    assert base_b is not None
    await writer_a.set(key, make_record(base_a.version + 1, access="at-A", refresh="rt-A"))
    with pytest.raises(StoreConflictError) as caught:
        await writer_b.set(key, make_record(base_b.version + 1, access="at-B", refresh="rt-B"))
    assert "rt-B" not in str(caught.value)
    assert secrets_of(await writer_b.get(key)) == ("at-A", "rt-A")


async def test_concurrent_writers_exactly_one_wins(harness: Harness) -> None:
    key = key_for()
    await harness.store.set(key, make_record(1))
    stores = [harness.store, harness.sibling()]
    winners: list[int] = []
    conflicts: list[int] = []

    async def write(n: int) -> None:
        try:
            await stores[n % 2].set(key, make_record(2, access=f"at-{n}", refresh=f"rt-{n}"))
        except StoreConflictError:
            conflicts.append(n)
        else:
            winners.append(n)

    async with anyio.create_task_group() as tg:
        for n in range(20):
            tg.start_soon(write, n)
    assert len(winners) == 1
    assert len(conflicts) == 19
    (n,) = winners
    assert secrets_of(await harness.store.get(key)) == (f"at-{n}", f"rt-{n}")


async def test_record_is_atomic(harness: Harness) -> None:
    """ST-03: access and refresh token are one record; a refused write changes neither."""
    key = key_for()
    await harness.store.set(key, make_record(1, access="at-1", refresh="rt-1"))
    await harness.store.set(key, make_record(2, access="at-2", refresh="rt-2"))
    with pytest.raises(StoreConflictError):
        await harness.sibling().set(key, make_record(2, access="at-x", refresh="rt-x"))
    assert secrets_of(await harness.store.get(key)) == ("at-2", "rt-2")
    if harness.raw_access:
        raw = await harness.raw_get(key)
        text = repr(raw)
        assert text.count("at-2") == 1
        assert text.count("rt-2") == 1
        assert "at-x" not in text


async def test_invalid_flag_round_trip(harness: Harness) -> None:
    key = key_for()
    await harness.store.set(key, make_record(1))
    await harness.store.set(
        key, make_record(2, invalid=True, invalid_reason="invalid_grant", access="")
    )
    got = await harness.sibling().get(key)
    assert got is not None
    assert got.invalid is True
    assert got.invalid_reason == "invalid_grant"
    assert got.token.access_token.get_secret_value() == ""
    assert secrets_of(got)[1] == "rt-1"  # kept for audit


async def test_keys_are_distinct(harness: Harness) -> None:
    keys = [
        key_for("alice"),
        key_for("bob"),
        key_for(None),
        key_for("alice", TokenType.PAYMENTS),
        TokenKey("https://auth.truelayer.com#sandbox-client", TokenType.DATA, "alice"),
        TokenKey(key_for().namespace, TokenType.PAYMENTS, None, ("payments",)),
        TokenKey(key_for().namespace, TokenType.PAYMENTS, None, ("payments", "x")),
    ]
    for n, key in enumerate(keys):
        await harness.store.set(key, make_record(1, access=f"at-{n}"))
    for n, key in enumerate(keys):
        assert secrets_of(await harness.store.get(key))[0] == f"at-{n}"


async def test_tenant_isolation(harness: Harness) -> None:
    """ST-05: one user's delete, conflict or corruption never touches another user."""
    alice, bob = key_for("alice"), key_for("bob")
    await harness.store.set(alice, make_record(1, access="at-alice", refresh="rt-alice"))
    await harness.store.set(bob, make_record(1, access="at-bob", refresh="rt-bob"))
    bob_before = await harness.raw_get(bob) if harness.raw_access else None

    with pytest.raises(StoreConflictError):
        await harness.store.set(alice, make_record(1))
    await harness.store.delete(alice)
    assert await harness.store.get(alice) is None
    assert secrets_of(await harness.store.get(bob)) == ("at-bob", "rt-bob")

    if harness.raw_access:
        await harness.raw_put(alice, b"\x00 not a record")
        with pytest.raises(StoreCorruptedError):
            await harness.store.get(alice)
        assert await harness.raw_get(bob) == bob_before  # byte for byte
        assert secrets_of(await harness.store.get(bob)) == ("at-bob", "rt-bob")


@pytest.mark.parametrize(
    "garbage",
    [b"\x00\xff garbage", b"{}", b"[1, 2]", b'{"format": 1, "key": "x"}', b""],
    ids=["binary", "empty-object", "list", "wrong-shape", "empty"],
)
async def test_corrupted_record_raises_and_is_left_untouched(
    harness: Harness, garbage: bytes
) -> None:
    if not harness.raw_access:
        pytest.skip("objects in memory cannot be corrupted")
    key = key_for()
    await harness.raw_put(key, garbage)
    before = await harness.raw_get(key)
    with pytest.raises(StoreCorruptedError):
        await harness.store.get(key)
    with pytest.raises((StoreConflictError, StoreCorruptedError)):
        await harness.store.set(key, make_record(1))  # never reset over it
    assert await harness.raw_get(key) == before


async def test_errors_carry_no_record_values(harness: Harness, sentinel: str) -> None:
    """ST-06: conflict and corruption errors hold no token, in message, chain or locals."""
    key = key_for()
    await harness.store.set(key, make_record(1, access=sentinel + "-at", refresh=sentinel))
    with pytest.raises(StoreConflictError) as conflict:
        await harness.store.set(key, make_record(1, access=sentinel + "-2", refresh=sentinel))
    assert scan_for(conflict.value, [sentinel]) == []
    if harness.raw_access:
        raw = await harness.raw_get(key)
        text = raw if isinstance(raw, str) else raw[2].decode()
        await harness.raw_put(key, text.replace('"version"', '"versio"').encode())
        with pytest.raises(StoreError) as corrupted:
            await harness.store.get(key)
        # The test's DictStore calls TokenRecord.from_dict directly, whose frame holds the
        # parsed dict; the shipped stores keep even their frame locals clean.
        shipped = harness.name in ("sqlite", "redis")
        assert scan_for(corrupted.value, [sentinel], frames=shipped) == []


# -- locks (LockingTokenStore) -------------------------------------------------------------


def _locking(harness: Harness) -> LockingTokenStore:
    if not harness.locking:
        pytest.skip(f"{harness.name} store has no lock")
    assert isinstance(harness.store, LockingTokenStore)
    return harness.store


async def test_lock_is_exclusive_and_times_out(harness: Harness) -> None:
    store = _locking(harness)
    other = harness.sibling()
    assert isinstance(other, LockingTokenStore)
    key = key_for()
    async with store.lock(key, timeout=1):
        started = time.monotonic()
        with pytest.raises(TokenStoreBusy):
            async with other.lock(key, timeout=0.3):
                pytest.fail("the lock was taken twice")
        assert 0.25 <= time.monotonic() - started < 2.5
        async with other.lock(key_for("bob"), timeout=1):
            pass  # another key is not blocked
    async with other.lock(key, timeout=1):
        pass  # released on exit


async def test_lock_serialises_critical_sections(harness: Harness) -> None:
    store = _locking(harness)
    stores = [store, harness.sibling()]
    inside = 0
    peak = 0
    order: list[int] = []

    async def worker(n: int) -> None:
        nonlocal inside, peak
        async with stores[n % 2].lock(key_for(), timeout=10):  # type: ignore[attr-defined]
            inside += 1
            peak = max(peak, inside)
            await anyio.sleep(0.01)
            order.append(n)
            inside -= 1

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            for n in range(6):
                tg.start_soon(worker, n)
    assert peak == 1
    assert sorted(order) == list(range(6))


async def test_lock_released_on_error_and_error_kept(harness: Harness) -> None:
    store = _locking(harness)
    with pytest.raises(KeyError):
        async with store.lock(key_for(), timeout=1):
            raise KeyError("boom")  # the body's own exception, not a group
    async with store.lock(key_for(), timeout=0.5):
        pass


async def test_lock_released_on_cancellation(harness: Harness) -> None:
    store = _locking(harness)
    entered = anyio.Event()

    async def hold() -> None:
        async with store.lock(key_for(), timeout=1):
            entered.set()
            await anyio.sleep(30)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(hold)
            await entered.wait()
            tg.cancel_scope.cancel()
        async with store.lock(key_for(), timeout=1):
            pass


async def test_waiting_for_the_lock_can_be_cancelled(harness: Harness) -> None:
    store = _locking(harness)
    async with store.lock(key_for(), timeout=1):
        with anyio.move_on_after(0.2) as scope:
            async with harness.sibling().lock(key_for(), timeout=30):  # type: ignore[attr-defined]
                pytest.fail("the lock was taken twice")
        assert scope.cancelled_caught
    async with store.lock(key_for(), timeout=1):
        pass  # the cancelled waiter left nothing behind


# -- encryption (the shipped persistent stores) ----------------------------------------------


async def test_encrypted_round_trip_hides_tokens(persistent: Harness, sentinel: str) -> None:
    codec = FernetCodec(FernetCodec.generate_key())
    store = persistent.with_codec(codec)
    key = key_for()
    record = make_record(1, access=sentinel + "-at", refresh=sentinel + "-rt")
    await store.set(key, record)
    assert await store.get(key) == record
    raw = await persistent.raw_get(key)
    assert sentinel.encode() not in b"".join(
        v if isinstance(v, bytes) else str(v).encode() for v in raw
    )
    assert sentinel.encode() not in codec.encode(b"x")  # sanity: it really encrypts


async def test_key_rotation(persistent: Harness) -> None:
    old, new = FernetCodec.generate_key(), FernetCodec.generate_key()
    key, other = key_for("alice"), key_for("bob")
    await persistent.with_codec(FernetCodec(old)).set(key, make_record(1, access="at-old"))
    await persistent.with_codec(FernetCodec(old)).set(other, make_record(1, access="at-b"))

    rotated = persistent.with_codec(FernetCodec([new, old]))
    assert secrets_of(await rotated.get(key))[0] == "at-old"  # old records still decrypt
    await rotated.set(key, make_record(2, access="at-new"))  # new writes use the new key
    new_only = persistent.with_codec(FernetCodec(new))
    assert secrets_of(await new_only.get(key))[0] == "at-new"
    with pytest.raises(StoreDecryptError):
        await new_only.get(other)  # not re-encrypted yet: the old key is still needed

    assert await rotated.reencrypt() == 2  # type: ignore[attr-defined]
    assert secrets_of(await new_only.get(other))[0] == "at-b"  # now the old key can go
    got = await new_only.get(other)
    assert got is not None
    assert got.version == 1  # versions are kept


async def test_removed_key_and_tampering_raise_decrypt_error(persistent: Harness) -> None:
    first, second = FernetCodec.generate_key(), FernetCodec.generate_key()
    key = key_for()
    await persistent.with_codec(FernetCodec(first)).set(key, make_record(1))
    before = await persistent.raw_get(key)

    with pytest.raises(StoreDecryptError):
        await persistent.with_codec(FernetCodec(second)).get(key)  # key removed
    with pytest.raises(StoreDecryptError):
        await persistent.with_codec(None).get(key)  # no codec at all

    version, encrypted, data = before
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x01
    await persistent.raw_put(key, (version, encrypted, bytes(flipped)))
    tampered = await persistent.raw_get(key)
    with pytest.raises(StoreDecryptError) as caught:
        await persistent.with_codec(FernetCodec(first)).get(key)
    assert await persistent.raw_get(key) == tampered  # left untouched
    assert "at-1" not in str(caught.value)
    assert caught.value.__cause__ is None


async def test_plaintext_record_is_refused_by_an_encrypting_store(persistent: Harness) -> None:
    key = key_for()
    await persistent.store.set(key, make_record(1))
    codec = FernetCodec(FernetCodec.generate_key())
    store = persistent.with_codec(codec)
    with pytest.raises(StoreDecryptError):
        await store.get(key)
    assert await store.reencrypt() == 1  # type: ignore[attr-defined]  # explicit migration
    assert secrets_of(await store.get(key)) == ("at-1", "rt-1")
    with pytest.raises(StoreDecryptError):
        await persistent.store.get(key)


async def test_reencrypt_leaves_undecryptable_records_alone(persistent: Harness) -> None:
    lost, kept = FernetCodec.generate_key(), FernetCodec.generate_key()
    await persistent.with_codec(FernetCodec(lost)).set(key_for("a"), make_record(1))
    await persistent.with_codec(FernetCodec(kept)).set(key_for("b"), make_record(1))
    before = await persistent.raw_get(key_for("a"))
    store = persistent.with_codec(FernetCodec(kept))
    with pytest.raises(StoreDecryptError, match="1 token record"):
        await store.reencrypt()  # type: ignore[attr-defined]
    assert await persistent.raw_get(key_for("a")) == before
    assert secrets_of(await store.get(key_for("b"))) == ("at-1", "rt-1")


async def test_payload_moved_to_another_key_is_refused(persistent: Harness) -> None:
    codec = FernetCodec(FernetCodec.generate_key())
    store = persistent.with_codec(codec)
    await store.set(key_for("alice"), make_record(1, access="at-alice"))
    await persistent.raw_put(key_for("mallory"), await persistent.raw_get(key_for("alice")))
    with pytest.raises(StoreCorruptedError, match="another key"):
        await store.get(key_for("mallory"))


async def test_version_column_must_match_payload(persistent: Harness) -> None:
    await persistent.store.set(key_for(), make_record(1))
    _, encrypted, data = await persistent.raw_get(key_for())
    await persistent.raw_put(key_for(), (7, encrypted, data))
    with pytest.raises(StoreCorruptedError):
        await persistent.store.get(key_for())


async def test_plaintext_payload_is_json(persistent: Harness) -> None:
    """Without a codec the payload is readable JSON (documented format)."""
    await persistent.store.set(key_for(), make_record(1))
    _, encrypted, data = await persistent.raw_get(key_for())
    assert int(encrypted) == 0
    document = json.loads(data)
    assert document["format"] == 1
    assert document["key"] == str(key_for())
    assert document["record"]["refresh_token"] == "rt-1"


async def test_decrypt_errors_carry_no_values(persistent: Harness, sentinel: str) -> None:
    codec = FernetCodec(FernetCodec.generate_key())
    key = key_for()
    await persistent.store.set(key, make_record(1, refresh=sentinel))
    with pytest.raises(StoreDecryptError) as plaintext_refused:
        await persistent.with_codec(codec).get(key)
    assert scan_for(plaintext_refused.value, [sentinel]) == []
