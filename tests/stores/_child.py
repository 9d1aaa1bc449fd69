"""Code that runs in child processes for the multi-process store tests.

Children are started by ``multiprocessing`` with the ``forkserver`` method (``spawn`` where
there is none): the server imports this module once, so each child starts in
milliseconds, and a fork of a single-threaded server is safe. Every child talks to the
parent over its own ``Pipe`` (no queues or semaphores, which a SIGKILL can corrupt).
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import multiprocessing.connection
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from truelayer_async import Environment, Secret, Session, Token, TokenKey, TokenRecord, TokenType
from truelayer_async.errors import StoreConflictError
from truelayer_async.stores import RedisTokenStore, SqliteTokenStore

Conn = multiprocessing.connection.Connection


@dataclass(frozen=True)
class StoreSpec:
    """How a child opens the store: ``("sqlite", path)`` or ``("redis", url)``."""

    backend: str
    location: str
    prefix: str = "truelayer_async:"
    lease: float = 30.0

    def open(self) -> SqliteTokenStore | RedisTokenStore:
        if self.backend == "sqlite":
            return SqliteTokenStore(self.location, lease=self.lease)
        return RedisTokenStore(self.location, prefix=self.prefix, lease=self.lease)


async def _close(store: SqliteTokenStore | RedisTokenStore) -> None:
    if isinstance(store, RedisTokenStore):
        await store.aclose()


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def record(version: int, *, access: str, refresh: str, expires_at: float) -> TokenRecord:
    token = Token(
        access_token=Secret(access),
        refresh_token=Secret(refresh),
        token_type=TokenType.DATA,
        expires_at=datetime.fromtimestamp(expires_at, timezone.utc),
        expires_in=3600,
        scopes=("info", "accounts", "offline_access"),
    )
    return TokenRecord(token=token, version=version, updated_at=time.time())


# -- children -----------------------------------------------------------------------------


def writer(conn: Conn, path: str, user: str) -> None:
    """Rewrite one record forever (new tokens, version + 1) until killed."""

    async def main() -> None:
        store = SqliteTokenStore(path)
        key = TokenKey("ns", TokenType.DATA, user)
        told = False
        while True:
            current = await store.get(key)
            version = 1 if current is None else current.version + 1
            tag = secrets.token_hex(256)  # a record of a few kB: writes take a while
            await store.set(
                key,
                record(version, access=f"at-{version}-{tag}", refresh=f"rt-{version}-{tag}",
                       expires_at=time.time() + 3600),
            )  # fmt: skip
            if not told:
                conn.send("writing")
                told = True

    asyncio.run(main())


def incrementer(conn: Conn, spec: StoreSpec, key: TokenKey, times: int) -> None:
    """Make ``times`` successful compare-and-set increments, retrying on conflict."""

    async def main() -> tuple[int, int]:
        store = spec.open()
        conflicts = 0
        try:
            conn.send("ready")
            conn.recv()
            done = 0
            while done < times:
                current = await store.get(key)
                assert current is not None
                new = current.version + 1
                try:
                    await store.set(
                        key,
                        record(new, access=f"at-{new}", refresh=f"rt-{new}",
                               expires_at=time.time() + 3600),
                    )  # fmt: skip
                except StoreConflictError:
                    conflicts += 1
                    continue
                done += 1
            return done, conflicts
        finally:
            await _close(store)

    conn.send(asyncio.run(main()))


def lock_holder(conn: Conn, spec: StoreSpec, key: TokenKey) -> None:
    """Take the store lock for ``key``, say when, then hang until killed."""

    async def main() -> None:
        store = spec.open()
        async with store.lock(key, timeout=10):
            conn.send(("held", time.time()))
            await asyncio.sleep(3600)

    asyncio.run(main())


def session_worker(
    conn: Conn, spec: StoreSpec, base_url: str, client: tuple[str, str], calls: Sequence[str]
) -> None:
    """Open a Session on the store; on "go", gather ``valid_token(user=u)`` for ``calls``.

    Sends back, per user, how many calls returned each access token (as digests), the
    error type names, and when the work started and ended.
    """

    async def main() -> dict[str, Any]:
        store = spec.open()
        try:
            async with Session(
                client[0],
                client[1],
                environment=Environment.custom(base_url),
                token_store=store,
            ) as session:
                conn.send("ready")
                conn.recv()
                started = time.time()

                async def call(user: str) -> tuple[str, str]:
                    try:
                        token = await session.auth.valid_token(user=user)
                    except Exception as exc:
                        return user, f"error:{type(exc).__name__}"
                    return user, digest(token.access_token.get_secret_value())

                results = await asyncio.wait_for(
                    asyncio.gather(*(call(u) for u in calls)), timeout=60
                )
                tokens: dict[str, Counter[str]] = {}
                for user, outcome in results:
                    tokens.setdefault(user, Counter())[outcome] += 1
                return {
                    "tokens": {u: dict(c) for u, c in tokens.items()},
                    "started": started,
                    "finished": time.time(),
                }
        finally:
            await _close(store)

    conn.send(asyncio.run(main()))


# -- the parent's side ---------------------------------------------------------------------


def context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


@dataclass
class Child:
    process: Any
    conn: Conn

    def receive(self, timeout: float) -> Any:
        if not self.conn.poll(timeout):
            raise TimeoutError(f"child {self.process.pid} said nothing for {timeout} s")
        return self.conn.recv()


@contextmanager
def children(
    target: Callable[..., None], argument_lists: Sequence[tuple[Any, ...]]
) -> Iterator[list[Child]]:
    """Start one child per argument tuple; kill, reap and close them all on exit."""
    ctx = context()
    started: list[Child] = []
    try:
        for args in argument_lists:
            parent_end, child_end = ctx.Pipe()
            process = ctx.Process(target=target, args=(child_end, *args), daemon=True)
            process.start()
            child_end.close()
            started.append(Child(process, parent_end))
        yield started
    finally:
        for child in started:
            if child.process.is_alive():
                child.process.kill()
        for child in started:
            child.process.join(10)
            child.process.close()
            child.conn.close()
