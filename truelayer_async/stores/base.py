"""The TokenStore protocol that every store implements."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from ..tokens import TokenKey, TokenRecord

__all__ = ["LockingTokenStore", "TokenStore"]


@runtime_checkable
class TokenStore(Protocol):
    """Where tokens live between requests (and, for persistent stores, between processes).

    * ``get(key)`` returns the record or ``None``.
    * ``set(key, record)`` is compare-and-set: it succeeds only if the stored version is
      ``record.version - 1`` (no record counts as version 0), and raises
      :class:`~truelayer_async.errors.StoreConflictError` otherwise, so a stale writer can
      never overwrite a newer rotation. The access and refresh tokens are written together.
    * ``delete(key)`` removes the record (no error if absent).

    Implementations must not log or raise record values.

    Optional: a ``cache_max_age`` attribute (seconds, > 0) lets each Session serve
    records it read or wrote from memory for that long instead of calling ``get`` on
    every request (the SQLite and Redis stores set it; see docs/stores.md).
    """

    async def get(self, key: TokenKey) -> TokenRecord | None: ...

    async def set(self, key: TokenKey, record: TokenRecord) -> None: ...

    async def delete(self, key: TokenKey) -> None: ...


@runtime_checkable
class LockingTokenStore(TokenStore, Protocol):
    """A store that can also lock one key across processes (and machines).

    ``lock(key, timeout=...)`` is an async context manager held while a token is refreshed.
    It raises :class:`~truelayer_async.errors.TokenStoreBusy` if it cannot be taken within
    ``timeout`` seconds. Its lease must outlive the token endpoint's deadline.
    """

    def lock(self, key: TokenKey, *, timeout: float) -> AbstractAsyncContextManager[None]: ...
