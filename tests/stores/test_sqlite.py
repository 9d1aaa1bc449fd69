"""SqliteTokenStore: file safety (SEC-08), WAL, processes sharing a file, kill -9, leases."""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from tests.stores._child import StoreSpec, children, incrementer, lock_holder, writer
from tests.support.stores import key_for, make_record, secrets_of
from truelayer_async import TokenKey, TokenType
from truelayer_async.errors import (
    ConfigurationError,
    InsecureStoreError,
    StoreError,
    TokenStoreBusy,
)
from truelayer_async.stores import SqliteTokenStore

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "tokens.db"


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# -- the file -------------------------------------------------------------------------------


@posix_only
@pytest.mark.asyncio
async def test_file_is_created_0600_in_a_0700_directory(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "new-dir" / "nested" / "tokens.db"
    store = SqliteTokenStore(path)
    assert not path.exists()  # nothing happens until first use
    await store.set(key_for(), make_record(1))
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert mode_of(path.parent.parent) == 0o700


@posix_only
@pytest.mark.asyncio
async def test_wal_and_shm_files_are_private_too(db: Path, umask_022: None) -> None:
    store = SqliteTokenStore(db)
    await store.set(key_for(), make_record(1))
    reader = sqlite3.connect(db)  # keeps the WAL files alive while the store writes
    try:
        reader.execute("SELECT count(*) FROM truelayer_tokens").fetchone()
        await store.set(key_for(), make_record(2))
        assert (reader.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal"
        for suffix in ("-wal", "-shm"):
            side = Path(f"{db}{suffix}")
            assert side.exists()
            assert mode_of(side) == 0o600
    finally:
        reader.close()


@posix_only
@pytest.mark.asyncio
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
async def test_loose_permissions_are_refused_and_not_changed(db: Path, mode: int) -> None:
    await SqliteTokenStore(db).set(key_for(), make_record(1))
    os.chmod(db, mode)
    store = SqliteTokenStore(db)
    with pytest.raises(InsecureStoreError, match="chmod 600"):
        await store.get(key_for())
    with pytest.raises(InsecureStoreError):
        await store.set(key_for(), make_record(2))
    assert mode_of(db) == mode  # never widened, never silently "fixed"
    os.chmod(db, 0o600)
    assert secrets_of(await store.get(key_for())) == ("at-1", "rt-1")


@posix_only
@pytest.mark.asyncio
async def test_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "real.db"
    await SqliteTokenStore(target).set(key_for(), make_record(1))
    link = tmp_path / "link.db"
    link.symlink_to(target)
    with pytest.raises(InsecureStoreError, match="symlink"):
        await SqliteTokenStore(link).get(key_for())
    dangling = tmp_path / "dangling.db"
    dangling.symlink_to(tmp_path / "nowhere.db")
    with pytest.raises(InsecureStoreError, match="symlink"):
        await SqliteTokenStore(dangling).set(key_for(), make_record(1))
    assert not (tmp_path / "nowhere.db").exists()


@posix_only
@pytest.mark.asyncio
async def test_loose_side_file_is_refused(db: Path) -> None:
    await SqliteTokenStore(db).set(key_for(), make_record(1))
    wal = Path(f"{db}-wal")
    wal.write_bytes(b"")
    os.chmod(wal, 0o644)
    with pytest.raises(InsecureStoreError):
        await SqliteTokenStore(db).get(key_for())


@pytest.mark.asyncio
async def test_a_directory_or_a_foreign_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(InsecureStoreError, match="not a regular file"):
        await SqliteTokenStore(tmp_path / "dir.db").get(key_for())
    foreign = tmp_path / "foreign.db"
    foreign.write_bytes(b"this is not a database, just some bytes " * 200)
    os.chmod(foreign, 0o600)
    with pytest.raises(StoreError) as caught:
        await SqliteTokenStore(foreign).get(key_for())
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_bad_settings() -> None:
    with pytest.raises(ConfigurationError):
        SqliteTokenStore("x.db", lease=0)
    with pytest.raises(ConfigurationError):
        SqliteTokenStore("x.db", busy_timeout=-1)


@pytest.mark.asyncio
async def test_connections_are_pooled_and_closed(db: Path) -> None:
    async with SqliteTokenStore(db) as store:
        await store.set(key_for(), make_record(1))
        await store.get(key_for())
        assert len(store._idle) == 1  # one connection, reused
        await store.aclose()
        assert store._idle == []
        assert await store.get(key_for()) is not None  # reopens on demand
    assert store._idle == []


def test_repr_names_the_file_only(db: Path) -> None:
    assert repr(SqliteTokenStore(db)) == f"SqliteTokenStore({str(db)!r})"


# -- never blocking the event loop ----------------------------------------------------------


@pytest.mark.asyncio
async def test_a_locked_database_does_not_block_the_event_loop(db: Path) -> None:
    store = SqliteTokenStore(db, busy_timeout=0.5)
    await store.set(key_for(), make_record(1))
    blocker = sqlite3.connect(db, isolation_level=None)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.sleep(0.01)

    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            started = time.monotonic()
            with pytest.raises(StoreError, match="locked"):
                await store.set(key_for(), make_record(2))
            waited = time.monotonic() - started
            assert await store.get(key_for()) is not None  # WAL: readers are not blocked
            tg.cancel_scope.cancel()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert waited >= 0.4
    assert ticks >= 20  # the loop kept running while SQLite waited
    await store.set(key_for(), make_record(2))


# -- processes --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_processes_sharing_the_file_lose_no_update(db: Path) -> None:
    """4 processes x 25 compare-and-set increments, retried on conflict: version 101."""
    store = SqliteTokenStore(db)
    await store.set(key_for("counter"), make_record(1))
    spec = StoreSpec("sqlite", str(db))
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
    assert secrets_of(final) == ("at-101", "rt-101")


def _read_raw(db: Path, key: TokenKey) -> int:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (version,) = conn.execute(
            "SELECT version FROM truelayer_tokens WHERE key = ?", (str(key),)
        ).fetchone()
        return int(version)
    finally:
        conn.close()


@pytest.mark.asyncio
async def test_kill_9_mid_write_leaves_a_valid_record(db: Path) -> None:
    """20 times: a child rewrites one record in a loop and is SIGKILLed at a random point.

    After every kill the record is readable, its access and refresh tokens belong to the
    same write, and the version never goes back.
    """
    key = TokenKey("ns", TokenType.DATA, "victim")
    store = SqliteTokenStore(db)
    rng = random.Random(20240501)
    last = 0
    for _ in range(20):
        with children(writer, [(str(db), "victim")]) as (kid,):
            assert kid.receive(30) == "writing"
            await anyio.sleep(rng.uniform(0.0, 0.08))
            kid.process.kill()
            kid.process.join(10)
        got = await store.get(key)
        assert got is not None
        access, refresh = secrets_of(got)
        assert access.startswith(f"at-{got.version}-")
        assert refresh == "rt" + access[2:]  # both from one write, never a mix
        assert got.version >= last
        assert _read_raw(db, key) == got.version
        last = got.version
    assert last > 20  # the children really were writing


@pytest.mark.asyncio
async def test_killed_lock_holder_blocks_others_only_for_the_lease(db: Path) -> None:
    lease = 1.0
    spec = StoreSpec("sqlite", str(db), lease=lease)
    store = SqliteTokenStore(db, lease=lease)
    await store.get(key_for())  # create the file before the child races for it
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


# -- the lease ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_lease_is_renewed_while_held(db: Path) -> None:
    holder = SqliteTokenStore(db, lease=0.3)
    other = SqliteTokenStore(db, lease=0.3)
    async with holder.lock(key_for(), timeout=1):
        with pytest.raises(TokenStoreBusy):
            async with other.lock(key_for(), timeout=1.0):  # > 3 leases
                pytest.fail("a held lease expired")
    async with other.lock(key_for(), timeout=1):
        pass


@pytest.mark.asyncio
async def test_only_the_owner_releases(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    first, second, third = (SqliteTokenStore(db, lease=5) for _ in range(3))
    caplog.set_level(logging.WARNING, "truelayer_async.stores")
    first_lock = first.lock(key_for(), timeout=1)
    await first_lock.__aenter__()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("UPDATE truelayer_locks SET expires_at = 0")  # the lease ran out
    finally:
        conn.close()
    second_lock = second.lock(key_for(), timeout=1)
    await second_lock.__aenter__()  # an expired lease is taken over
    await first_lock.__aexit__(None, None, None)  # the old holder leaves late ...
    assert "expired while it was held" in caplog.text
    with pytest.raises(TokenStoreBusy):  # ... and did not release the new holder's lock
        async with third.lock(key_for(), timeout=0.2):
            pytest.fail("a stale holder released someone else's lock")
    await second_lock.__aexit__(None, None, None)
    async with third.lock(key_for(), timeout=1):
        pass
