"""Dropping duplicate webhooks by ``event_id`` (TrueLayer may deliver one event twice).

::

    dedup = Deduplicator.for_store(token_store)  # memory, SQLite file or Redis
    if await dedup.first_time(event.event_id):
        ...

Each event id is marked *seen* for ``ttl`` seconds (default four days: TrueLayer retries
for up to 72 hours). :meth:`Deduplicator.process` runs a handler at most once per event
id, and does not mark the event when the handler fails, so TrueLayer's retry is handled;
``tl.webhooks.asgi_app(handler, dedup=dedup)`` uses it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol, runtime_checkable

import anyio

from ..errors import InvalidParameterError

__all__ = [
    "DEFAULT_DEDUP_TTL",
    "Claim",
    "DedupBackend",
    "Deduplicator",
    "MemoryDedupBackend",
    "Outcome",
]

#: How long an event id is remembered: a day beyond TrueLayer's 72 hours of retries.
DEFAULT_DEDUP_TTL = 4 * 24 * 3600.0
#: How long a handler may hold an event before another delivery may take it over.
DEFAULT_LEASE = 120.0
#: How long a duplicate waits for the delivery being handled before answering.
DEFAULT_WAIT = 5.0
MAX_EVENT_ID = 256

#: ``claimed``: this caller handles it now; ``processing``: another caller does;
#: ``done``: it was handled (a duplicate).
Claim = Literal["claimed", "processing", "done"]
#: What :meth:`Deduplicator.process` did: ran the handler, skipped a duplicate, or gave
#: up waiting for another delivery of the same event that is still being handled.
Outcome = Literal["handled", "duplicate", "in_progress"]


@runtime_checkable
class DedupBackend(Protocol):
    """Where seen event ids live. Every method is atomic for one event id.

    * ``claim`` marks the id as being handled by ``owner`` for ``lease`` seconds, unless
      it is done, or claimed by another owner whose lease has not expired.
    * ``complete`` marks it done for ``ttl`` seconds (whoever holds it).
    * ``release`` removes ``owner``'s claim (not a done mark, not another owner's claim).
    * ``forget`` removes any mark.
    """

    async def claim(self, event_id: str, owner: str, lease: float) -> Claim: ...

    async def complete(self, event_id: str, owner: str, ttl: float) -> None: ...

    async def release(self, event_id: str, owner: str) -> None: ...

    async def forget(self, event_id: str) -> None: ...


class MemoryDedupBackend:
    """Event ids in a dict of this process (the default; gone when the process exits).

    Each call completes without yielding, so it is atomic within one event loop.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._marks: dict[str, tuple[str, float]] = {}  # id -> ("done" | owner, expires)
        self._writes = 0

    def __repr__(self) -> str:
        return f"MemoryDedupBackend({len(self._marks)} ids)"

    async def claim(self, event_id: str, owner: str, lease: float) -> Claim:
        """See :class:`DedupBackend`."""
        now = self._clock()
        mark = self._marks.get(event_id)
        if mark is not None and mark[1] > now:
            return "done" if mark[0] == _DONE else "processing"
        self._marks[event_id] = (owner, now + lease)
        return "claimed"

    async def complete(self, event_id: str, owner: str, ttl: float) -> None:
        """See :class:`DedupBackend`."""
        now = self._clock()
        self._marks[event_id] = (_DONE, now + ttl)
        self._writes += 1
        if self._writes % 1024 == 0:  # now and then, drop what has expired
            self._marks = {k: v for k, v in self._marks.items() if v[1] > now}

    async def release(self, event_id: str, owner: str) -> None:
        """See :class:`DedupBackend`."""
        mark = self._marks.get(event_id)
        if mark is not None and mark[0] == owner:
            del self._marks[event_id]

    async def forget(self, event_id: str) -> None:
        """See :class:`DedupBackend`."""
        self._marks.pop(event_id, None)


_DONE = "done"


class Deduplicator:
    """Remembers which webhook events were handled, by ``event_id``.

    Args:
        backend: where ids live (default: :class:`MemoryDedupBackend`); see
            :meth:`for_store` to use a token store's SQLite file or Redis server.
        ttl: seconds an id is remembered (default four days).
        lease: seconds a handler may hold an event before another delivery of it may be
            handled (a crashed process blocks it at most this long).
        wait: seconds :meth:`process` waits for another delivery of the same event still
            being handled, before giving up with ``"in_progress"``.
    """

    def __init__(
        self,
        backend: DedupBackend | None = None,
        *,
        ttl: float = DEFAULT_DEDUP_TTL,
        lease: float = DEFAULT_LEASE,
        wait: float = DEFAULT_WAIT,
    ) -> None:
        if not ttl > 0 or not lease > 0 or not wait >= 0:
            raise InvalidParameterError("ttl and lease must be positive, wait not negative")
        self.backend: DedupBackend = backend if backend is not None else MemoryDedupBackend()
        self.ttl = float(ttl)
        self.lease = float(lease)
        self.wait = float(wait)

    def __repr__(self) -> str:
        return f"Deduplicator({self.backend!r}, ttl={self.ttl:g})"

    @classmethod
    def for_store(cls, store: object, **options: float) -> Deduplicator:
        """A Deduplicator over a token store's backend: the same dict type, SQLite file
        (table ``truelayer_webhook_events``) or Redis server (keys
        ``prefix + "webhook:" + event_id``). The store stays yours to close."""
        from ..stores import MemoryTokenStore, RedisTokenStore, SqliteTokenStore

        if isinstance(store, MemoryTokenStore):
            return cls(MemoryDedupBackend(), **options)
        if isinstance(store, SqliteTokenStore):
            from ._dedup_sqlite import SqliteDedupBackend

            return cls(SqliteDedupBackend(store), **options)
        if isinstance(store, RedisTokenStore):
            from ._dedup_redis import RedisDedupBackend

            return cls(RedisDedupBackend(store), **options)
        raise InvalidParameterError(
            f"no dedup backend for {type(store).__name__}: pass Deduplicator(backend=...)"
        )

    async def first_time(self, event_id: str) -> bool:
        """Mark ``event_id`` as seen; ``True`` the first time (within ``ttl``).

        The mark is made at once: if handling the event then fails, call :meth:`forget`
        so that TrueLayer's retry is handled (or use :meth:`process`, which does both).
        """
        owner = _owner()
        claim = await self.backend.claim(_checked(event_id), owner, self.lease)
        if claim != "claimed":
            return False
        await self.backend.complete(event_id, owner, self.ttl)
        return True

    async def forget(self, event_id: str) -> None:
        """Remove the mark of ``event_id`` (the next delivery counts as the first)."""
        await self.backend.forget(_checked(event_id))

    async def process(self, event_id: str, handler: Callable[[], Awaitable[object]]) -> Outcome:
        """Run ``handler()`` unless ``event_id`` was already handled.

        Returns ``"handled"`` (it ran and returned: the id is marked for ``ttl``),
        ``"duplicate"`` (it had run before), or ``"in_progress"`` (another delivery of
        the same event was still being handled after ``wait`` seconds: answer non-2xx so
        TrueLayer tries again later). If ``handler`` raises, the claim is released and
        the error propagates: the next delivery runs it again.
        """
        owner = _owner()
        event_id = _checked(event_id)
        deadline = anyio.current_time() + self.wait
        delay = 0.01
        while True:
            claim = await self.backend.claim(event_id, owner, self.lease)
            if claim == "done":
                return "duplicate"
            if claim == "claimed":
                break
            remaining = deadline - anyio.current_time()
            if remaining <= 0:
                return "in_progress"
            await anyio.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.2)
        try:
            await handler()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.backend.release(event_id, owner)
            raise
        await self.backend.complete(event_id, owner, self.ttl)
        return "handled"


def _owner() -> str:
    return secrets.token_hex(8)


def _checked(event_id: object) -> str:
    if not isinstance(event_id, str) or not event_id or len(event_id) > MAX_EVENT_ID:
        raise InvalidParameterError(
            f"event_id must be a non-empty string of at most {MAX_EVENT_ID} characters"
        )
    return event_id
