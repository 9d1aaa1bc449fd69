"""A token store in Redis, shared by any number of processes and machines.

Needs the ``[redis]`` extra (``pip install 'truelayer-async[redis]'``); the ``redis``
package is imported only when a :class:`RedisTokenStore` is created.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import AsyncIterator, Awaitable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from .._resource import AsyncResource
from .._token_cache import DEFAULT_CACHE_MAX_AGE
from ..errors import (
    ConfigurationError,
    StoreConflictError,
    StoreCorruptedError,
    StoreDecryptError,
    StoreError,
    TokenStoreBusy,
)
from ..tokens import TokenKey, TokenRecord
from .codec import Codec, load_record, reencrypt_error, safe_dump_record

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["RedisTokenStore"]

log = logging.getLogger("truelayer_async.stores")

T = TypeVar("T")

DEFAULT_PREFIX = "truelayer_async:"
DEFAULT_TTL = 90 * 24 * 3600.0  # TrueLayer refresh tokens live at most 90 days
DEFAULT_LEASE = 30.0
DEFAULT_LOCK_TIMEOUT = 60.0
_POLL_FIRST = 0.005
_POLL_MAX = 0.2

# KEYS[1] record hash; ARGV: expected version, new version, encrypted flag, data, ttl ms.
# Returns -1 when written, -2 when the key holds something that is not a record, else the
# stored version (a conflict).
_CAS_SET = """
local kind = redis.call('TYPE', KEYS[1])['ok']
local current = 0
if kind == 'hash' then
  current = tonumber(redis.call('HGET', KEYS[1], 'v'))
  if current == nil then return -2 end
elseif kind ~= 'none' then
  return -2
end
if current ~= tonumber(ARGV[1]) then return current end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'e', ARGV[3], 'd', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return -1
"""

# KEYS[1] record hash; ARGV: version read, encrypted flag, data. Keeps version and TTL.
_REWRITE = """
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'e', ARGV[2], 'd', ARGV[3])
return 1
"""

# KEYS[1] lock key; ARGV[1] owner token (ARGV[2] lease ms). Only the owner extends or
# releases.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisTokenStore(AsyncResource):
    """Tokens in Redis, one hash per record; safe for many processes and machines.

    * Uses redis-py's asyncio client. Pass a URL (the store creates the client and
      :meth:`aclose` closes it; ``async with`` does too) or an existing
      ``redis.asyncio.Redis`` created with ``decode_responses=False`` (the store never
      closes a client it was given).
    * Each record is one hash at ``prefix + str(key)`` (fields ``v`` version, ``e``
      encrypted flag, ``d`` payload) with a TTL of ``ttl`` seconds (default 90 days,
      the refresh token's lifetime), reset on every write.
    * ``set`` is compare-and-set in a Lua script: check the version, write, set the TTL,
      atomically.
    * :meth:`lock` is ``SET prefix+"lock:"+str(key) <owner> NX PX <lease>``, renewed while
      held, released only by its owner (compare-and-delete in Lua). A killed holder
      blocks the others for at most ``lease`` seconds.
    * ``codec`` (e.g. :class:`~truelayer_async.stores.FernetCodec`) encrypts records.
    * Sessions cache what they read and write for ``cache_max_age`` seconds, so a data
      call does not ask Redis each time (docs/stores.md, "The read cache").

    Args:
        url_or_client: ``redis://`` / ``rediss://`` / ``unix://`` URL, or a client.
        prefix: prepended to every key this store touches.
        ttl: seconds a record lives after its last write (at least the refresh token's
            lifetime).
        lease: seconds a lock is held without renewal; a crashed holder releases it
            after this long. The holder renews every ``lease / 3`` seconds.
        codec: optional encryption at rest.
        max_connections, pool_timeout: for a client created from a URL, the size of its
            blocking connection pool and how long a command waits for a connection.
        cache_max_age: seconds a Session serves a record from memory before asking Redis
            again (0 asks on every call).
    """

    def __init__(
        self,
        url_or_client: str | Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: float = DEFAULT_TTL,
        lease: float = DEFAULT_LEASE,
        codec: Codec | None = None,
        max_connections: int = 50,
        pool_timeout: float = 20.0,
        cache_max_age: float = DEFAULT_CACHE_MAX_AGE,
    ) -> None:
        try:
            import redis.asyncio
        except ImportError:
            raise ConfigurationError(
                "RedisTokenStore needs the redis package: pip install 'truelayer-async[redis]'"
            ) from None
        if not ttl > 0 or not lease > 0 or not pool_timeout > 0 or max_connections < 1:
            raise ConfigurationError(
                "ttl, lease, pool_timeout and max_connections must be positive"
            )
        if ttl < lease:
            raise ConfigurationError("ttl must be at least the lock lease")
        if not cache_max_age >= 0:
            raise ConfigurationError("cache_max_age must be zero or positive")
        if isinstance(url_or_client, str):
            # A blocking pool: past max_connections, commands wait for a free connection
            # instead of failing with "Too many connections".
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                url_or_client, max_connections=max_connections, timeout=pool_timeout
            )
            client: Redis = redis.asyncio.Redis.from_pool(pool)
            self._owns_client = True
        elif isinstance(url_or_client, redis.asyncio.Redis):
            client = url_or_client
            self._owns_client = False
            if client.connection_pool.connection_kwargs.get("decode_responses"):
                raise ConfigurationError(
                    "RedisTokenStore needs a client created with decode_responses=False "
                    "(records may be binary); pass a URL or a second client"
                )
        else:
            raise ConfigurationError(
                "RedisTokenStore needs a redis:// URL or a redis.asyncio.Redis client"
            )
        self.prefix = prefix
        self.ttl = float(ttl)
        #: Seconds a Session serves a record it read or wrote from memory (0: never).
        self.cache_max_age = float(cache_max_age)
        self.lease = float(lease)
        self._client = client
        self._codec = codec
        self._cas_set: AsyncScript = client.register_script(_CAS_SET)
        self._rewrite: AsyncScript = client.register_script(_REWRITE)
        self._renew: AsyncScript = client.register_script(_RENEW)
        self._release: AsyncScript = client.register_script(_RELEASE)

    def __repr__(self) -> str:
        encrypted = ", encrypted" if self._codec is not None else ""
        return f"RedisTokenStore(prefix={self.prefix!r}{encrypted})"

    @property
    def client(self) -> Redis:
        """The ``redis.asyncio.Redis`` client in use."""
        return self._client

    async def aclose(self) -> None:
        """Close the client if this store created it (from a URL); safe to call twice."""
        if self._owns_client:
            await self._client.aclose()

    def record_key(self, key: TokenKey) -> str:
        """The Redis key holding the record for ``key``."""
        return f"{self.prefix}{key}"

    def lock_key(self, key: TokenKey) -> str:
        """The Redis key of the lock for ``key``."""
        return f"{self.prefix}lock:{key}"

    # -- TokenStore -----------------------------------------------------------------

    async def get(self, key: TokenKey) -> TokenRecord | None:
        """The record stored under ``key``, if any.

        Raises :class:`StoreDecryptError` or :class:`StoreCorruptedError` (and leaves the
        key untouched) if the record cannot be decrypted or read.
        """
        fields = await self._do(self._client.hmget(self.record_key(key), ["v", "e", "d"]))
        result = _decode_fields(str(key), fields, self._codec)
        del fields  # the raw record: keep it out of the traceback of what is raised
        if isinstance(result, StoreError):
            raise result
        return result

    async def set(self, key: TokenKey, record: TokenRecord) -> None:
        """Store ``record`` if the stored version is ``record.version - 1`` (else conflict)."""
        if record.version < 1:
            raise StoreConflictError(f"cannot write version {record.version}")
        payload = safe_dump_record(str(key), record, self._codec)
        if isinstance(payload, StoreError):
            raise payload
        call = self._cas_set(
            keys=[self.record_key(key)],
            args=[
                record.version - 1,
                record.version,
                int(payload[1]),
                payload[0],
                int(self.ttl * 1000),
            ],
        )
        del payload
        outcome = await self._do(call)
        if outcome == -1:
            return
        if outcome == -2:
            raise StoreCorruptedError(
                "the Redis key holds something that is not a token record; it was left untouched"
            )
        raise StoreConflictError(f"version conflict: stored {outcome}, writing {record.version}")

    async def delete(self, key: TokenKey) -> None:
        """Remove the record under ``key`` (no error if there is none)."""
        await self._do(self._client.delete(self.record_key(key)))

    # -- LockingTokenStore ------------------------------------------------------------

    def lock(
        self, key: TokenKey, *, timeout: float = DEFAULT_LOCK_TIMEOUT
    ) -> AbstractAsyncContextManager[None]:
        """Hold the lock for ``key`` across processes (``async with store.lock(key, ...)``).

        Polls with jittered back-off; raises :class:`TokenStoreBusy` if the lock is not
        free within ``timeout`` seconds.
        """
        return self._lock(self.lock_key(key), timeout)

    @asynccontextmanager
    async def _lock(self, lock_key: str, patience: float) -> AsyncIterator[None]:
        owner = secrets.token_hex(16)
        stop = asyncio.Event()
        renewer: asyncio.Task[None] | None = None
        try:
            await self._acquire(lock_key, owner, patience)
            renewer = asyncio.get_running_loop().create_task(self._keep(lock_key, owner, stop))
            yield
        finally:
            with anyio.CancelScope(shield=True):
                if renewer is not None:
                    # The flag, not just cancel(): on Python < 3.12 asyncio.wait_for (used
                    # inside redis-py) can swallow a cancellation that races a reply.
                    stop.set()
                    renewer.cancel()
                    with anyio.move_on_after(self.lease):
                        await asyncio.wait({renewer})
                # Always run, even if acquiring was cancelled after SET succeeded: the
                # script deletes the key only if it still holds our owner token. If Redis
                # does not answer within a lease, the lease expires on its own.
                released = None
                with anyio.move_on_after(self.lease):
                    call = self._release(keys=[lock_key], args=[owner])
                    released = await self._do(call, quiet=True)
                if renewer is not None and released == 0:
                    log.warning(
                        "a token store lock lease expired while it was held; another "
                        "process may have refreshed concurrently (consider a longer lease)"
                    )

    async def _acquire(self, lock_key: str, owner: str, patience: float) -> None:
        deadline = anyio.current_time() + patience
        lease_ms = int(self.lease * 1000)
        delay = _POLL_FIRST
        while True:
            if await self._do(self._client.set(lock_key, owner, nx=True, px=lease_ms)):
                return
            remaining = deadline - anyio.current_time()
            if remaining <= 0:
                raise TokenStoreBusy(
                    f"the token store lock was not free within {patience:g} s "
                    "(another process is refreshing this token)"
                )
            await anyio.sleep(min(delay * (0.5 + random.random() / 2), remaining))  # noqa: S311
            delay = min(delay * 2, _POLL_MAX)

    async def _keep(self, lock_key: str, owner: str, stop: asyncio.Event) -> None:
        """Renew the lease every ``lease / 3`` seconds until stopped or lost."""
        loop = asyncio.get_running_loop()
        last_ok = loop.time()
        lease_ms = int(self.lease * 1000)
        while not stop.is_set():
            await asyncio.sleep(self.lease / 3)
            if stop.is_set():
                return
            call = self._renew(keys=[lock_key], args=[owner, lease_ms])
            renewed = await self._do(call, quiet=True)
            if stop.is_set():
                return
            if renewed is None and loop.time() - last_ok < self.lease:
                continue  # transient failure: try again while the lease still holds
            if not renewed:
                log.warning("a token store lock lease was lost while it was held")
                return
            last_ok = loop.time()

    # -- maintenance ------------------------------------------------------------------

    async def reencrypt(self) -> int:
        """Re-encode every record under ``prefix`` with this store's codec.

        Use it after putting a new key first in a :class:`FernetCodec` (then the old key
        can be removed), or after adding a codec to a store holding plaintext records.
        Versions and TTLs are kept; a record written concurrently is skipped (it is
        already new). Records that cannot be decrypted are left untouched and reported
        at the end. Returns how many records were rewritten.
        """
        written = undecryptable = unreadable = 0
        lock_prefix = f"{self.prefix}lock:".encode()
        pattern = _glob_escape(self.prefix) + "*"
        async for raw_key in self._scan(pattern):
            if raw_key.startswith(lock_prefix):
                continue
            key = raw_key[len(self.prefix.encode()) :].decode("utf-8", "replace")
            fields = await self._do(self._client.hmget(raw_key, ["v", "e", "d"]))
            record = _decode_fields(key, fields, self._codec, accept_plaintext=True)
            if record is None:
                continue  # deleted meanwhile
            if isinstance(record, StoreDecryptError):
                undecryptable += 1
                continue
            if isinstance(record, StoreError):
                unreadable += 1
                continue
            payload = safe_dump_record(key, record, self._codec)
            if isinstance(payload, StoreError):
                raise payload
            call = self._rewrite(keys=[raw_key], args=[fields[0], int(payload[1]), payload[0]])
            del payload, fields
            written += int(await self._do(call))
        error = reencrypt_error(undecryptable, unreadable)
        if error is not None:
            raise error
        return written

    async def _scan(self, pattern: str) -> AsyncIterator[bytes]:
        cursor: int = 0
        while True:
            cursor, keys = await self._do(self._client.scan(cursor, match=pattern, count=500))
            for raw_key in keys:
                yield raw_key
            if cursor == 0:
                return

    # -- errors -----------------------------------------------------------------------

    async def _do(self, call: Awaitable[T], *, quiet: bool = False) -> Any:
        """Await a Redis call; a Redis failure becomes a fresh :class:`StoreError`.

        The new exception has no cause or context, so no command argument (a record) is
        reachable from it. With ``quiet``, failures are logged and ``None`` is returned.
        """
        from redis.exceptions import RedisError, ResponseError

        error: StoreError
        try:
            return await call
        except ResponseError as exc:
            if "WRONGTYPE" in str(exc):
                error = StoreCorruptedError(
                    "the Redis key holds something that is not a token record; "
                    "it was left untouched"
                )
            else:
                error = StoreError(f"the Redis token store failed: {type(exc).__name__}")
        except RedisError as exc:
            error = StoreError(f"the Redis token store failed: {type(exc).__name__}: {exc}")
        if quiet:
            log.warning("%s", error)
            return None
        raise error


def _decode_fields(
    key: str, fields: Any, codec: Codec | None, *, accept_plaintext: bool = False
) -> TokenRecord | StoreError | None:
    if not isinstance(fields, list) or len(fields) != 3:
        return StoreCorruptedError("unexpected reply from Redis; the record was left untouched")
    version, encrypted, data = fields
    if version is None and encrypted is None and data is None:
        return None
    if not isinstance(data, bytes) or encrypted not in (b"0", b"1"):
        return StoreCorruptedError("a stored token record is unreadable; it was left untouched")
    try:
        number: object = int(version)
    except (TypeError, ValueError):
        number = None
    return load_record(
        key, number, encrypted == b"1", data, codec, accept_plaintext=accept_plaintext
    )


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
