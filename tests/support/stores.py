"""The token-store tests' pieces: records and keys, a user-written store, one harness per
backend (the store, a sibling over the same data, raw access to the stored bytes), and
process helpers for the cross-process tests.
"""

import contextlib
import json
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.support.processes import REPO
from truelayer_async import Secret, Token, TokenKey, TokenRecord, TokenType
from truelayer_async.errors import StoreConflictError, TokenStoreBusy
from truelayer_async.stores import (
    Codec,
    MemoryTokenStore,
    RedisTokenStore,
    SqliteTokenStore,
    TokenStore,
)

NAMESPACE = "https://auth.truelayer-sandbox.com#sandbox-client"


def key_for(user: str | None = "alice", token_type: TokenType = TokenType.DATA) -> TokenKey:
    return TokenKey(NAMESPACE, token_type, user)


def make_record(
    version: int = 1,
    *,
    access: str = "at-1",
    refresh: str | None = "rt-1",
    expires_at: float | None = None,
    invalid: bool = False,
    invalid_reason: str | None = None,
    scopes: tuple[str, ...] = ("info", "accounts", "offline_access"),
) -> TokenRecord:
    when = time.time() + 3600 if expires_at is None else expires_at
    token = Token(
        access_token=Secret(access),
        refresh_token=None if refresh is None else Secret(refresh),
        token_type=TokenType.DATA,
        expires_at=datetime.fromtimestamp(when, timezone.utc),
        expires_in=3600,
        scopes=scopes,
    )
    return TokenRecord(
        token=token,
        version=version,
        invalid=invalid,
        invalid_reason=invalid_reason,
        updated_at=round(time.time(), 3),
    )


def secrets_of(record: TokenRecord | None) -> tuple[str, str | None]:
    """(access token, refresh token) as plain strings, for assertions."""
    assert record is not None
    token = record.token
    refresh = None if token.refresh_token is None else token.refresh_token.get_secret_value()
    return token.access_token.get_secret_value(), refresh


# -- a store written the way a user would write one, from the protocol alone ------------


class DictStore:
    """A user-written store: JSON text in a dict, compare-and-set, a semaphore per key.

    It exists to prove that the public protocol is enough to write a correct store.
    """

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}
        self._locks: dict[str, anyio.Semaphore] = {}

    async def get(self, key: TokenKey) -> TokenRecord | None:
        text = self.rows.get(str(key))
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            data = None  # from_dict raises StoreCorruptedError without echoing the text
        return TokenRecord.from_dict(data)

    async def set(self, key: TokenKey, record: TokenRecord) -> None:
        current = await self.get(key)
        stored = 0 if current is None else current.version
        if stored != record.version - 1:
            raise StoreConflictError(f"stored {stored}, writing {record.version}")
        self.rows[str(key)] = json.dumps(record.to_dict())

    async def delete(self, key: TokenKey) -> None:
        self.rows.pop(str(key), None)

    @asynccontextmanager
    async def _held(self, key: TokenKey, timeout: float) -> AsyncIterator[None]:
        lock = self._locks.setdefault(str(key), anyio.Semaphore(1))
        try:
            with anyio.fail_after(timeout):
                await lock.acquire()
        except TimeoutError:
            raise TokenStoreBusy("the lock was not free in time") from None
        try:
            yield
        finally:
            lock.release()

    def lock(self, key: TokenKey, *, timeout: float) -> AbstractAsyncContextManager[None]:
        return self._held(key, timeout)


# -- redis-server ------------------------------------------------------------------------


def redis_answers(port: int) -> bool:
    """Whether a redis-server on this loopback port answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# -- one harness per backend -------------------------------------------------------------


class Harness:
    """One backend under test (see the module docstring)."""

    name: str
    store: TokenStore
    locking: bool = False
    encrypting: bool = False
    raw_access: bool = True

    def sibling(self) -> TokenStore:
        """Another store over the same data (what a second process would open)."""
        return self.store

    async def raw_get(self, key: TokenKey) -> Any:
        raise NotImplementedError

    async def raw_put(self, key: TokenKey, value: Any) -> None:
        raise NotImplementedError

    def with_codec(self, codec: Codec | None) -> TokenStore:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


class MemoryHarness(Harness):
    name = "memory"
    raw_access = False

    def __init__(self) -> None:
        self.store = MemoryTokenStore()


class DictHarness(Harness):
    name = "dict"
    locking = True

    def __init__(self) -> None:
        self.store = self._dict = DictStore()

    async def raw_get(self, key: TokenKey) -> Any:
        return self._dict.rows.get(str(key))

    async def raw_put(self, key: TokenKey, value: Any) -> None:
        self._dict.rows[str(key)] = value if isinstance(value, str) else value.decode("latin-1")


class SqliteHarness(Harness):
    name = "sqlite"
    locking = True
    encrypting = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = self._open(None)

    def _open(self, codec: Codec | None) -> SqliteTokenStore:
        store = SqliteTokenStore(self.path, codec=codec, lease=5.0)
        self._opened = [*getattr(self, "_opened", []), store]
        return store

    def sibling(self) -> TokenStore:
        return self._open(None)

    def with_codec(self, codec: Codec | None) -> TokenStore:
        return self._open(codec)

    async def aclose(self) -> None:
        for store in self._opened:
            await store.aclose()

    def _sql(self, statement: str, *args: Any) -> Any:
        import sqlite3

        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            return conn.execute(statement, args).fetchone()
        finally:
            conn.close()

    async def raw_get(self, key: TokenKey) -> Any:
        await self.store.get(key_for("-schema-"))  # the store creates its file and tables
        return self._sql(
            "SELECT version, encrypted, data FROM truelayer_tokens WHERE key = ?", str(key)
        )

    async def raw_put(self, key: TokenKey, value: Any) -> None:
        if isinstance(value, tuple):
            version, encrypted, data = value
        else:
            version, encrypted, data = 1, 0, value
        await self.store.get(key_for("-schema-"))
        self._sql(
            "INSERT OR REPLACE INTO truelayer_tokens (key, version, encrypted, data) "
            "VALUES (?, ?, ?, ?)",
            str(key),
            version,
            encrypted,
            data,
        )


class RedisHarness(Harness):
    name = "redis"
    locking = True
    encrypting = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.store = self._redis = RedisTokenStore(url, lease=5.0)
        self._others: list[RedisTokenStore] = []

    def sibling(self) -> TokenStore:
        other = RedisTokenStore(self.url, lease=5.0)
        self._others.append(other)
        return other

    def with_codec(self, codec: Codec | None) -> TokenStore:
        other = RedisTokenStore(self.url, codec=codec, lease=5.0)
        self._others.append(other)
        return other

    async def raw_get(self, key: TokenKey) -> Any:
        client = self._redis.client
        fields = await client.hmget(self._redis.record_key(key), ["v", "e", "d"])
        return None if fields == [None, None, None] else tuple(fields)

    async def raw_put(self, key: TokenKey, value: Any) -> None:
        if isinstance(value, tuple):
            version, encrypted, data = value
        else:
            version, encrypted, data = 1, 0, value
        fields = {"v": version, "e": encrypted, "d": data}
        await self._redis.client.hset(
            self._redis.record_key(key),
            mapping={k: v if isinstance(v, bytes) else str(v) for k, v in fields.items()},
        )

    async def aclose(self) -> None:
        for other in self._others:
            await other.aclose()
        await self._redis.aclose()


BACKENDS = ["memory", "dict", "sqlite", "redis"]


async def open_harness(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if name == "memory":
        return MemoryHarness()
    if name == "dict":
        return DictHarness()
    if name == "sqlite":
        return SqliteHarness(tmp_path / "state" / "tokens.db")
    url: str = request.getfixturevalue("redis_url")
    harness = RedisHarness(url)
    await harness._redis.client.flushdb()
    return harness


def scan_for(exc: BaseException, needles: list[str], *, frames: bool = True) -> list[str]:
    """Where any needle shows up in an exception: message, args, chain, SDK frame locals."""
    found: list[str] = []
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    package = str(REPO / "truelayer_async")
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        texts = [str(current), repr(current), repr(current.args)]
        tb = current.__traceback__ if frames else None
        while tb is not None:
            frame = tb.tb_frame
            if frame.f_code.co_filename.startswith(package):
                for name, value in frame.f_locals.items():
                    shown = value if isinstance(value, (str, bytes)) else repr(value)
                    texts.append(f"{frame.f_code.co_name}.{name}={shown!r}")
            tb = tb.tb_next
        for text in texts:
            for needle in needles:
                if needle in text:
                    found.append(text[:200])
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)
    return found


@contextlib.contextmanager
def killing(procs: list[subprocess.Popen[bytes]]) -> Iterator[None]:
    """Make sure no child outlives the test."""
    try:
        yield
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
