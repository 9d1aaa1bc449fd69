"""A persistent token store in one SQLite file, shared by the processes of one machine."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import re
import secrets
import sqlite3
import stat
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import TypeVar

import anyio
import anyio.to_thread

from .._resource import AsyncResource
from .._token_cache import DEFAULT_CACHE_MAX_AGE
from ..errors import (
    ConfigurationError,
    InsecureStoreError,
    StoreConflictError,
    StoreDecryptError,
    StoreError,
    TokenStoreBusy,
    TrueLayerError,
)
from ..tokens import TokenKey, TokenRecord, TokenType
from .codec import Codec, load_record, reencrypt_error, safe_dump_record

__all__ = ["SqliteTokenStore"]

log = logging.getLogger("truelayer_async.stores")

T = TypeVar("T")

DEFAULT_LEASE = 30.0
DEFAULT_BUSY_TIMEOUT = 10.0
DEFAULT_LOCK_TIMEOUT = 60.0
_POLL_FIRST = 0.005
_POLL_MAX = 0.2

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS truelayer_tokens (
        key TEXT PRIMARY KEY NOT NULL,
        version INTEGER NOT NULL,
        encrypted INTEGER NOT NULL,
        data BLOB NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS truelayer_locks (
        key TEXT PRIMARY KEY NOT NULL,
        owner TEXT NOT NULL,
        expires_at REAL NOT NULL
    )""",
)


class SqliteTokenStore(AsyncResource):
    """Tokens in a SQLite file: survives restarts; safe for many processes on one machine.

    * Only the standard library is needed. Every SQLite call runs in a worker thread
      (``anyio.to_thread``), so the event loop never blocks. Connections are pooled;
      :meth:`aclose` (or ``async with``) closes them, as does garbage collection.
    * WAL journal, ``synchronous=FULL``: a crash or ``kill -9`` mid-write leaves the old
      record or the new one, never a torn one.
    * ``set`` is compare-and-set on the record version, in one SQL statement.
    * The file is created with mode 0600 (missing parent directories with 0700). A file
      that is a symlink or has any group/other permission bit is refused with
      :class:`~truelayer_async.errors.InsecureStoreError`; permissions are never changed.
    * :meth:`lock` is a lease held in a lock row (owner token + expiry): renewed in the
      background while held, released only by its owner, and taken over once expired,
      so a killed holder blocks the others for at most ``lease`` seconds.
    * ``codec`` (e.g. :class:`~truelayer_async.stores.FernetCodec`) encrypts records.
    * Sessions cache what they read and write for ``cache_max_age`` seconds, so a data
      call does not read the file each time (docs/stores.md, "The read cache").

    Args:
        path: the database file.
        codec: optional encryption at rest.
        lease: seconds a lock is held without renewal; a crashed holder releases it
            after this long. The holder renews every ``lease / 3`` seconds.
        busy_timeout: seconds one SQLite call waits for another process's write.
        cache_max_age: seconds a Session serves a record from memory before reading the
            file again (0 reads it on every call).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        codec: Codec | None = None,
        lease: float = DEFAULT_LEASE,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        cache_max_age: float = DEFAULT_CACHE_MAX_AGE,
    ) -> None:
        if not lease > 0:
            raise ConfigurationError("lease must be positive")
        if not busy_timeout > 0:
            raise ConfigurationError("busy_timeout must be positive")
        if not cache_max_age >= 0:
            raise ConfigurationError("cache_max_age must be zero or positive")
        #: Seconds a Session serves a record it read or wrote from memory (0: never).
        self.cache_max_age = float(cache_max_age)
        self.path = os.path.abspath(os.fspath(path))
        self.lease = float(lease)
        self.busy_timeout = float(busy_timeout)
        self._codec = codec
        self._ready = False
        self._ready_lock = threading.Lock()
        # Idle connections, reused by the worker threads one at a time: opening one per
        # call costs ~1 ms of CPU, which adds up when many waiters poll a lock.
        self._idle: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._pid = os.getpid()
        weakref.finalize(self, _close_all, self._idle, self._pid)

    def __repr__(self) -> str:
        encrypted = ", encrypted" if self._codec is not None else ""
        return f"SqliteTokenStore({self.path!r}{encrypted})"

    async def aclose(self) -> None:
        """Close the idle SQLite connections (the store reopens them if used again).

        Optional: they are also closed when the store is garbage-collected.
        """
        await anyio.to_thread.run_sync(self._close_idle)

    # -- TokenStore -----------------------------------------------------------------

    async def get(self, key: TokenKey) -> TokenRecord | None:
        """The record stored under ``key``, if any.

        Raises :class:`StoreDecryptError` or :class:`StoreCorruptedError` (and leaves the
        row untouched) if the record cannot be decrypted or read.
        """
        result = await self._run(self._get_sync, str(key))
        if isinstance(result, StoreError):
            raise result
        return result

    async def set(self, key: TokenKey, record: TokenRecord) -> None:
        """Store ``record`` if the stored version is ``record.version - 1`` (else conflict)."""
        error = await self._run(self._set_sync, str(key), record)
        if error is not None:
            raise error

    async def delete(self, key: TokenKey) -> None:
        """Remove the record under ``key`` (no error if there is none)."""
        await self._run(self._delete_sync, str(key))

    async def keys(self) -> list[TokenKey]:
        """Every key that has a record, sorted by their string form.

        Reads the key column only: no record is decrypted or returned, so an undecryptable
        record is listed too. A row whose key is not a ``TokenKey`` string (written by
        something else) is skipped.
        """
        rows = await self._run(self._keys_sync)
        parsed = (_parse_key(row) for row in rows)
        return [key for key in parsed if key is not None]

    # -- LockingTokenStore ------------------------------------------------------------

    def lock(
        self, key: TokenKey, *, timeout: float = DEFAULT_LOCK_TIMEOUT
    ) -> AbstractAsyncContextManager[None]:
        """Hold the cross-process lock for ``key`` (``async with store.lock(key, ...)``).

        Polls with jittered back-off; raises :class:`TokenStoreBusy` if the lock is not
        free within ``timeout`` seconds.
        """
        return self._lock(str(key), timeout)

    @asynccontextmanager
    async def _lock(self, key: str, patience: float) -> AsyncIterator[None]:
        owner = secrets.token_hex(16)
        renewer: _Renewer | None = None
        try:
            await self._acquire(key, owner, patience)
            renewer = _Renewer(lambda: self._renew_sync(key, owner), self.lease / 3, self.lease)
            renewer.start()
            yield
        finally:
            with anyio.CancelScope(shield=True):
                # Always run, even if acquiring was cancelled after it succeeded: the
                # DELETE only matches our own owner token.
                await anyio.to_thread.run_sync(self._release_sync, key, owner, renewer)

    async def _acquire(self, key: str, owner: str, patience: float) -> None:
        deadline = anyio.current_time() + patience
        delay = _POLL_FIRST
        while True:
            remaining = deadline - anyio.current_time()
            if await self._run(self._try_lock_sync, key, owner, max(remaining, 0.05)):
                return
            remaining = deadline - anyio.current_time()
            if remaining <= 0:
                raise TokenStoreBusy(
                    f"the token store lock was not free within {patience:g} s "
                    "(another process is refreshing this token)"
                )
            await anyio.sleep(min(delay * (0.5 + random.random() / 2), remaining))  # noqa: S311
            delay = min(delay * 2, _POLL_MAX)

    # -- maintenance ------------------------------------------------------------------

    async def reencrypt(self) -> int:
        """Re-encode every record with this store's codec; return how many were written.

        Use it after putting a new key first in a :class:`FernetCodec` (then the old key
        can be removed), or after adding a codec to a store holding plaintext records.
        Versions are kept; a record written concurrently is skipped (it is already new).
        A record that cannot be decrypted is left untouched and reported at the end.
        """
        written, error = await self._run(self._reencrypt_sync)
        if error is not None:
            raise error
        return written

    # -- worker-thread side -------------------------------------------------------------

    async def _run(self, func: Callable[..., T], *args: object) -> T:
        return await anyio.to_thread.run_sync(_call, func, args)

    def _get_sync(self, key: str) -> TokenRecord | StoreError | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT version, encrypted, data FROM truelayer_tokens WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        version, encrypted, data = row
        return load_record(key, version, bool(encrypted), _as_bytes(data), self._codec)

    def _set_sync(self, key: str, record: TokenRecord) -> StoreError | None:
        if record.version < 1:
            return StoreConflictError(f"cannot write version {record.version}")
        payload = safe_dump_record(key, record, self._codec)
        if isinstance(payload, StoreError):
            return payload
        data, encrypted = payload
        with self._connect() as conn:
            if record.version == 1:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO truelayer_tokens (key, version, encrypted, data) "
                    "VALUES (?, ?, ?, ?)",
                    (key, 1, int(encrypted), data),
                )
            else:
                cursor = conn.execute(
                    "UPDATE truelayer_tokens SET version = ?, encrypted = ?, data = ? "
                    "WHERE key = ? AND version = ?",
                    (record.version, int(encrypted), data, key, record.version - 1),
                )
            if cursor.rowcount == 1:
                return None
            row = conn.execute(
                "SELECT version FROM truelayer_tokens WHERE key = ?", (key,)
            ).fetchone()
        stored = 0 if row is None else row[0]
        return StoreConflictError(f"version conflict: stored {stored!r}, writing {record.version}")

    def _keys_sync(self) -> list[str]:
        with self._connect() as conn:
            rows = conn.execute("SELECT key FROM truelayer_tokens ORDER BY key").fetchall()
        return [row[0] for row in rows if isinstance(row[0], str)]

    def _delete_sync(self, key: str) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM truelayer_tokens WHERE key = ?", (key,))

    def _try_lock_sync(self, key: str, owner: str, wait: float) -> bool:
        try:
            with self._connect(min(wait, self.busy_timeout), durable=False) as conn:
                now = time.time()
                # Look first, without the write lock (WAL readers never wait), so that
                # waiters polling a held lock do not crowd out the holder's renewals.
                if not _lock_is_free(conn, key, now):
                    return False
                # One statement, one short write transaction: insert the lock row, or take
                # over an expired lease; nothing changes while someone else holds it.
                cursor = conn.execute(
                    "INSERT INTO truelayer_locks (key, owner, expires_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, "
                    "expires_at = excluded.expires_at "
                    "WHERE truelayer_locks.expires_at <= ? "
                    "OR typeof(truelayer_locks.expires_at) NOT IN ('integer', 'real')",
                    (key, owner, now + self.lease, now),
                )
                return cursor.rowcount == 1
        except _Busy:
            return False  # another process is writing: poll again

    def _renew_sync(self, key: str, owner: str) -> bool:
        # SQLite's busy handler backs off to 100 ms naps, so under heavy contention a
        # waiting writer can lose the race for seconds. A renewal must not lose it (the
        # lease would expire while held), so it retries every few milliseconds instead.
        deadline = time.monotonic() + self.lease / 3
        with self._connect(0.0, durable=False) as conn:
            while True:
                try:
                    cursor = conn.execute(
                        "UPDATE truelayer_locks SET expires_at = ? WHERE key = ? AND owner = ?",
                        (time.time() + self.lease, key, owner),
                    )
                    return cursor.rowcount == 1
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc) or time.monotonic() > deadline:
                        raise
                time.sleep(0.002)

    def _release_sync(self, key: str, owner: str, renewer: _Renewer | None) -> None:
        if renewer is not None:
            renewer.stop()
        try:
            with self._connect(durable=False) as conn:
                cursor = conn.execute(
                    "DELETE FROM truelayer_locks WHERE key = ? AND owner = ?", (key, owner)
                )
                released = cursor.rowcount == 1
        except Exception as exc:
            # The lease will expire on its own; the caller's result must not be lost.
            log.warning("could not release a token store lock (%s)", type(exc).__name__)
            return
        if renewer is not None and not released:
            log.warning(
                "a token store lock lease expired while it was held; another process "
                "may have refreshed concurrently (consider a longer lease)"
            )

    def _reencrypt_sync(self) -> tuple[int, StoreError | None]:
        written = 0
        undecryptable = unreadable = 0
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT key, version, encrypted, data FROM truelayer_tokens"
            ).fetchall()
            for key, version, encrypted, data in rows:
                record = load_record(
                    key,
                    version,
                    bool(encrypted),
                    _as_bytes(data),
                    self._codec,
                    accept_plaintext=True,
                )
                if isinstance(record, StoreDecryptError):
                    undecryptable += 1
                    continue
                if isinstance(record, StoreError):
                    unreadable += 1
                    continue
                payload = safe_dump_record(key, record, self._codec)
                if isinstance(payload, StoreError):
                    return written, payload
                new_data, new_encrypted = payload
                cursor = conn.execute(
                    "UPDATE truelayer_tokens SET encrypted = ?, data = ? "
                    "WHERE key = ? AND version = ?",
                    (int(new_encrypted), new_data, key, version),
                )
                written += cursor.rowcount
        return written, reencrypt_error(undecryptable, unreadable)

    # -- the file and the connection ----------------------------------------------------

    @contextmanager
    def _connect(
        self, timeout: float | None = None, *, durable: bool = True
    ) -> Iterator[sqlite3.Connection]:
        """A pooled connection; ``durable=False`` (lock rows) skips the fsync per commit."""
        try:
            _check_file(self.path)
        except OSError as exc:
            raise StoreError(
                f"cannot create or inspect the token store file: {exc.strerror}"
            ) from None
        conn = self._checkout()
        reusable = False
        try:
            wait_ms = int(1000 * (self.busy_timeout if timeout is None else timeout))
            conn.execute(f"PRAGMA busy_timeout = {wait_ms}")
            # FULL: a committed token survives power loss. Lock rows need no such care
            # (a lease lost in a crash just expires), so their commits skip the fsync.
            conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            if not self._ready:
                self._prepare(conn)
            yield conn
            reusable = not conn.in_transaction
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise _Busy from None
            raise _store_error(exc) from None
        except sqlite3.Error as exc:
            raise _store_error(exc) from None
        finally:
            if reusable:
                self._checkin(conn)
            else:
                conn.close()

    def _checkout(self) -> sqlite3.Connection:
        with self._pool_lock:
            if self._pid != os.getpid():
                _close_all(self._idle, self._pid)  # forked: set the parent's aside
                self._pid = os.getpid()
            if self._idle:
                return self._idle.pop()
        try:
            return sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,  # autocommit: one statement is one transaction
                check_same_thread=False,  # pooled: used by one worker thread at a time
            )
        except sqlite3.Error as exc:
            raise _store_error(exc) from None

    def _checkin(self, conn: sqlite3.Connection) -> None:
        with self._pool_lock:
            if self._pid == os.getpid() and len(self._idle) < _MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def _close_idle(self) -> None:
        with self._pool_lock:
            idle = list(self._idle)
            self._idle.clear()
        _close_all(idle, self._pid)

    def _prepare(self, conn: sqlite3.Connection) -> None:
        with self._ready_lock:
            if self._ready:
                return
            (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            for statement in _SCHEMA:
                conn.execute(statement)
            self._ready = True


_MAX_IDLE = 8
_FORKED_AWAY: list[sqlite3.Connection] = []  # inherited over fork: kept, never touched


def _close_all(connections: list[sqlite3.Connection], pid: int) -> None:
    """Close connections opened by process ``pid``; in a forked child, set them aside.

    SQLite forbids using a connection across ``fork()``, and closing one counts.
    """
    if os.getpid() == pid:
        for conn in connections:
            conn.close()
    else:
        _FORKED_AWAY.extend(connections)
    connections.clear()


class _Busy(Exception):
    """SQLite stayed busy (another process's write) past the timeout."""


class _Renewer(threading.Thread):
    """Extends a held lease every ``interval`` seconds until stopped (or the lease is lost)."""

    def __init__(self, renew: Callable[[], bool], interval: float, lease: float) -> None:
        super().__init__(name="truelayer-store-lease", daemon=True)
        self._renew = renew
        self._interval = interval
        self._lease = lease
        self._stop_event = threading.Event()

    def run(self) -> None:
        last_ok = time.monotonic()
        while not self._stop_event.wait(self._interval):
            try:
                if self._renew():
                    last_ok = time.monotonic()
                    continue
            except Exception:
                if time.monotonic() - last_ok < self._lease:
                    continue  # transient: try again while the lease still holds
            log.warning("a token store lock lease was lost while it was held")
            return

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join()


def _call(func: Callable[..., T], args: tuple[object, ...]) -> T:
    """Run ``func``; re-raise its store errors as fresh exceptions.

    The fresh exception has no cause, no context and no traceback through the frames
    that held the record's bytes.
    """
    error: TrueLayerError
    try:
        return func(*args)
    except _Busy:
        error = StoreError("the token store database stayed locked by another process")
    except TrueLayerError as exc:
        error = type(exc)(str(exc))
    raise error


def _check_file(path: str) -> None:
    """Create the file with mode 0600 if missing; refuse a symlink or loose permissions."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        _make_private_dirs(os.path.dirname(path))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        with contextlib.suppress(FileExistsError):  # another process was first: check it
            os.close(os.open(path, flags, 0o600))
        info = os.lstat(path)
    _check_mode(path, info)
    for suffix in ("-wal", "-shm", "-journal"):
        try:
            side = os.lstat(path + suffix)
        except FileNotFoundError:
            continue
        _check_mode(path + suffix, side)


# ``str(TokenKey)``: namespace|type|-|scopes or namespace|type|u:USER|scopes (see tokens.py).
_KEY = re.compile(r"(?P<ns>.+?)\|(?P<type>data|payments)\|(?:-|u:(?P<user>.+))\|(?P<scopes>[^|]+)")


def _parse_key(text: str) -> TokenKey | None:
    """The ``TokenKey`` whose ``str()`` is ``text``, or ``None``."""
    match = _KEY.fullmatch(text)
    if match is None:
        return None
    scopes = match["scopes"]
    key = TokenKey(
        match["ns"],
        TokenType(match["type"]),
        match["user"],
        () if scopes == "-" else tuple(scopes.split("+")),
    )
    return key if str(key) == text else None


def _lock_is_free(conn: sqlite3.Connection, key: str, now: float) -> bool:
    row = conn.execute("SELECT expires_at FROM truelayer_locks WHERE key = ?", (key,)).fetchone()
    return row is None or not isinstance(row[0], (int, float)) or row[0] <= now


def _make_private_dirs(directory: str) -> None:
    """Create ``directory`` and any missing parents with mode 0700 (``makedirs`` would
    give the parents the umask's default)."""
    missing: list[str] = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.mkdir(path, 0o700)


def _check_mode(path: str, info: os.stat_result) -> None:
    if stat.S_ISLNK(info.st_mode):
        raise InsecureStoreError(f"refusing to use token store file {path!r}: it is a symlink")
    if not stat.S_ISREG(info.st_mode):
        raise InsecureStoreError(
            f"refusing to use token store file {path!r}: it is not a regular file"
        )
    if os.name == "posix" and info.st_mode & 0o077:
        raise InsecureStoreError(
            f"refusing to use token store file {path!r}: its mode is "
            f"{stat.S_IMODE(info.st_mode):04o}, open to group or others; "
            "it must be 0600 (chmod 600 it)"
        )


def _as_bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    return b""


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def _store_error(exc: sqlite3.Error) -> StoreError:
    # SQLite messages never include bound parameter values.
    return StoreError(f"the SQLite token store failed: {type(exc).__name__}: {exc}")
