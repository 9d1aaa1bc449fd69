"""Keeping tokens valid: single-flight refresh per token key, persist before use.

The algorithm (reliability.md TK-01..TK-14, issues #15 and #21):

* Fast path, no lock: a stored token that is not within its leeway of expiry is returned.
  A persistent store that asks for it (``cache_max_age``) is read through a per-process
  cache (``_token_cache.py``): a fresh cached token is served without a store read,
  concurrent misses of one key share one read, and an expiring cached token goes straight
  to the flight, which reads the store once for every waiter before refreshing.
* After a 401 the flight reads the store first (no lock): a token another process has
  rotated meanwhile is used; only the refused one is refreshed, under the locks below.
* Everything that spends a refresh token or a code (refresh, forced refresh, connection
  extension, code exchange) runs as a *flight* (``_flight.py``): a task that no caller
  owns, so cancelling a caller by any mechanism (asyncio or anyio) never cancels it. The
  flight takes the key's lock (one per key and store, shared by every Session of the
  loop that uses the store) and the store's cross-process lock if it has one, re-reads
  the store, and skips the refresh if another task or process already did it. The new
  pair is written in one record inside the flight, before anyone gets it.
* Concurrent refreshes of one key (automatic or forced) join one flight. Each flight
  bounds its network time by the token timeout; a waiting caller leaves at its own
  deadline (``Timeouts.total``) while the flight goes on.
* A failed write raises TokenPersistenceError but keeps the new record in memory, next
  to the key's lock (so every Session on the store sees it); the next access retries the
  write rather than refreshing again.
* ``invalid_grant`` marks the record invalid (kept, not deleted); later calls fail fast.
* A refresh whose response was lost is retried once with the same refresh token; if the
  server then says ``invalid_grant`` and no other writer rotated it, the outcome is
  unknown and the user must re-authorise.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import attrs

from . import errors as e
from ._error_mapping import Api
from ._flight import Flight
from ._http import TOKEN_MAX_BYTES, FormValue, Response
from ._retry import RetryMode
from ._secret import Secret
from ._token_cache import TokenCache, cache_for
from ._token_response import TokenGrant, parse_token_response, salvage_refresh_token
from .tokens import Token, TokenKey, TokenRecord, TokenType

if TYPE_CHECKING:
    from ._core import Core
    from .stores import TokenStore

__all__ = ["TokenManager"]

log = logging.getLogger("truelayer_async")

T = TypeVar("T")

ADVISORY_BACKOFF = 5.0
STORE_LOCK_TIMEOUT = 60.0
KEY_CACHE_SIZE = 4096  # token keys a TokenManager remembers (users, mostly)

Renew = Callable[[TokenRecord | None], Awaitable[Token]]
Spend = Callable[[TokenRecord | None], Awaitable[T]]


class _Shared:
    """What every Session of one event loop using one token store shares, per key.

    Two Sessions over one store must not both refresh (TK-04), and a record one of them
    failed to save must be seen by the other (issue #15, item 3): so the locks, the
    refresh flights in progress, the unsaved records and the advisory back-off live here,
    not in a Session.
    """

    def __init__(self, cache: TokenCache | None = None) -> None:
        #: Records read or written recently (persistent stores only; None: read each time).
        self.cache = cache
        #: Store reads in progress (cache misses), shared by concurrent callers per key.
        self.reading: dict[TokenKey, Flight[TokenRecord | None]] = {}
        # Weak values: a lock lives only while a flight holds or waits for it.
        self._locks: weakref.WeakValueDictionary[TokenKey, anyio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self.refreshing: dict[TokenKey, Flight[Token]] = {}
        self.unsaved: dict[TokenKey, TokenRecord] = {}
        self.backoff_until: dict[TokenKey, float] = {}

    def lock(self, key: TokenKey) -> anyio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = anyio.Lock()
            self._locks[key] = lock
        return lock


# One _Shared per (store object, event loop), alive while a TokenManager holds it (a
# manager keeps its store alive, so the store's id cannot be reused meanwhile). Created
# lazily inside the running loop; nothing here is an event-loop object at import time.
_SHARED: weakref.WeakValueDictionary[tuple[int, object], _Shared] = weakref.WeakValueDictionary()


def _shared_for(store: TokenStore, loop: object) -> _Shared:
    shared = _SHARED.get((id(store), loop))
    if shared is None:
        shared = _Shared(cache_for(store))
        _SHARED[(id(store), loop)] = shared
    return shared


class TokenManager:
    """The refresh / persist logic for one Session; flights and locks shared per store."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self._shared_state: _Shared | None = None
        self._flights: set[Flight[Any]] = set()  # started by this Session, for aclose
        # Keys by (type, user, scopes), built once: a key is hashed on every call, and
        # building one (namespace string, frozen attrs) costs as much.
        self._keys: dict[tuple[TokenType, str | None, tuple[str, ...]], TokenKey] = {}

    @property
    def _shared(self) -> _Shared:
        shared = self._shared_state
        if shared is None:
            core = self._core
            core.requester()  # open, and on the Session's loop
            shared = _shared_for(core.token_store, core.loop_token)
            self._shared_state = shared
        return shared

    @property
    def _unsaved(self) -> Mapping[TokenKey, TokenRecord]:
        """Records the store failed to save (for tests; read-only, any thread)."""
        shared = self._shared_state
        return {} if shared is None else shared.unsaved

    # -- keys and reads -------------------------------------------------------------

    def key(
        self, token_type: TokenType, user: str | None, scopes: tuple[str, ...] = ()
    ) -> TokenKey:
        """The store key for this Session's client, environment, type, user and scopes
        (built once, then remembered: at most ``KEY_CACHE_SIZE``, the oldest dropped)."""
        if user is not None and (not isinstance(user, str) or not user):
            raise e.InvalidParameterError("user must be a non-empty string or None")
        keys = self._keys
        known = (token_type, user, scopes)
        key = keys.get(known)
        if key is None:
            s = self._core
            key = TokenKey(f"{s.environment.auth_url}#{s.client_id}", token_type, user, scopes)
            if len(keys) >= KEY_CACHE_SIZE:
                del keys[next(iter(keys))]  # the oldest
            keys[known] = key
        return key

    async def read(self, key: TokenKey) -> TokenRecord | None:
        """The newest record for ``key``: an unsaved one first, else a fresh cached one,
        else the store's."""
        shared = self._shared
        unsaved = shared.unsaved.get(key)
        if unsaved is not None:
            return unsaved
        cache = shared.cache
        if cache is None:
            return await self._core.store.get(key)
        cached = cache.fresh(key, self._core.clock())
        return cached if cached is not None else await self._read_shared(key)

    async def _load(self, key: TokenKey) -> TokenRecord | None:
        """The store's record (never the cache's), remembered in the cache."""
        cache = self._shared.cache
        if cache is None:
            return await self._core.store.get(key)
        mark = cache.entry(key)
        record = await self._core.store.get(key)
        cache.keep(key, mark, record, self._core.clock())
        return record

    async def _read_shared(self, key: TokenKey) -> TokenRecord | None:
        """``_load`` for a cache miss: concurrent callers of one key share one store read.

        The read runs as a flight, so a cancelled caller leaves the others their result.
        """
        reading = self._shared.reading
        flight = reading.get(key)
        if flight is None:
            flight = Flight("token store read")
            reading[key] = flight
            flights = self._flights
            flights.add(flight)

            async def run() -> TokenRecord | None:
                try:
                    return await self._load(key)
                finally:
                    if reading.get(key) is flight:
                        del reading[key]
                    flights.discard(flight)

            flight.start(run)
        return await flight.wait()

    async def forget(self, key: TokenKey) -> None:
        """Delete the stored record of ``key`` and every copy this process keeps of it."""
        shared = self._shared
        shared.unsaved.pop(key, None)
        shared.backoff_until.pop(key, None)
        cache = shared.cache
        if cache is None:
            await self._core.store.delete(key)
            return
        cache.drop(key, self._core.clock())
        try:
            await self._core.store.delete(key)
        finally:
            cache.drop(key, self._core.clock())  # a read that overlapped is not kept

    def _usable(self, record: TokenRecord, now: float) -> bool:
        token = record.token
        return (
            not record.invalid
            and bool(token.access_token)
            and not token.is_expired(now, leeway=self._core.leeway)
        )

    def _store_lock(self, key: TokenKey) -> AbstractAsyncContextManager[Any]:
        lock = getattr(self._core.token_store, "lock", None)
        if lock is None:
            return nullcontext()
        result: AbstractAsyncContextManager[Any] = lock(key, timeout=STORE_LOCK_TIMEOUT)
        observer = self._core.observer
        if observer is not None:
            return observer.lock_wait("store", result)
        return result

    # -- flights ----------------------------------------------------------------------

    def _launch(
        self, key: TokenKey, name: str, body: Callable[[], Awaitable[T]], *, join: bool
    ) -> tuple[Flight[T], bool]:
        """Start a flight for ``key`` (or join the refresh in progress when ``join``).

        Returns the flight and whether this call started it. Flights of one key run one
        at a time, under the key's lock.
        """
        shared = self._shared
        if join:
            running = shared.refreshing.get(key)
            if running is not None:
                return running, False  # type: ignore[return-value]  # join: T is Token
        flight: Flight[T] = Flight(name)
        if join:
            shared.refreshing[key] = flight  # type: ignore[assignment]  # join: T is Token
        lock = shared.lock(key)
        flights = self._flights
        flights.add(flight)
        observer = self._core.observer

        async def run() -> T:
            try:
                if observer is not None:
                    return await observer.flight(name, key, lock, body)
                async with lock:
                    return await body()
            finally:
                # No await between here and the waiters being woken: nobody joins a
                # finished flight, and nobody misses a running one.
                if shared.refreshing.get(key) is flight:
                    del shared.refreshing[key]
                flights.discard(flight)

        flight.start(run)
        return flight, True

    async def _outcome(self, flight: Flight[T]) -> T:
        """Wait for a flight, leaving at the caller's own deadline if it has one."""
        observer = self._core.observer
        if observer is not None:
            observer.flight_waiter(flight.name)
        total = self._core.timeouts.total
        if not total:
            return await flight.wait()
        with anyio.move_on_after(total):
            return await flight.wait()
        raise e.TransportTimeout(
            f"no token within the {total} s deadline; the {flight.name} goes on and its "
            "result will be stored",
            request_sent=True,
        )

    async def spend(self, key: TokenKey, name: str, body: Spend[T]) -> T:
        """Run ``body(record)`` as a flight under the key's locks (exclusive, never joined).

        For operations that spend a code or the refresh token outside the refresh grant
        (code exchange, connection extension): they and refreshes of the key never
        overlap, and the caller's cancellation never interrupts them.
        """

        async def locked() -> T:
            async with self._store_lock(key):
                if key in self._shared.unsaved:
                    await self._retry_persist(key)
                record = self._shared.unsaved.get(key)
                if record is None:
                    record = await self._load(key)
                return await body(record)

        flight, _ = self._launch(key, name, locked, join=False)
        return await self._outcome(flight)

    async def drain(self, limit: float) -> None:
        """Wait (at most ``limit`` seconds) for the flights this Session started."""
        with anyio.move_on_after(limit, shield=True):
            while self._flights:
                await next(iter(self._flights)).wait_quietly()

    # -- the valid-token path ---------------------------------------------------------

    async def valid(self, key: TokenKey, renew: Renew | None = None) -> Token:
        """A token for ``key`` that is not about to expire, refreshing it if needed.

        ``renew`` replaces the refresh grant (client credentials fetch a new token).
        """
        core = self._core
        core.requester()  # open, and on the Session's loop, even on the fast path
        shared = self._shared_state or self._shared
        unsaved = shared.unsaved
        # A key with an unsaved record always takes the flight (which retries the write);
        # otherwise the cached or stored record is served if usable. Testing `not unsaved`
        # first keeps the common case at one hash of the key.
        if not unsaved or key not in unsaved:
            cache = shared.cache
            if cache is None:
                record = await core.store.get(key)
            else:
                now = core.clock()
                record = cache.fresh(key, now)
                if record is not None and not record.invalid:
                    if self._usable(record, now):
                        return record.token
                    # Expiring: the flight reads the store once for every waiter (another
                    # process may have refreshed already), then refreshes if it must.
                    return await self._valid_flight(key, renew)
                if key in shared.refreshing:
                    return await self._valid_flight(key, renew)  # its token is the newest
                # A miss, or a cached invalid mark: the mark is only raised on the store's
                # word, since another process may have reconnected the user since (one read
                # on an error path; test_read_cache.py, "reconnected elsewhere").
                record = await self._read_shared(key)
            # Tested again after the await: a failed write may have been kept meanwhile.
            if record is not None and (not unsaved or key not in unsaved):
                if self._usable(record, core.clock()):
                    return record.token
                if record.invalid:
                    raise _marked_invalid()
        return await self._valid_flight(key, renew)

    async def _valid_flight(self, key: TokenKey, renew: Renew | None) -> Token:
        """Join the key's refresh flight (or start one) and wait for its token."""
        name = "token refresh" if renew is None else "client-credentials grant"
        flight, _ = self._launch(key, name, lambda: self._valid_locked(key, renew), join=True)
        return await self._outcome(flight)

    async def _valid_locked(self, key: TokenKey, renew: Renew | None) -> Token:
        shared = self._shared
        if key in shared.unsaved:
            await self._retry_persist(key)
        now = self._core.clock()
        cache = shared.cache
        if cache is not None:
            cached = cache.fresh(key, now)
            if cached is not None and self._usable(cached, now):
                return cached.token  # renewed by a flight that ended as this one began
        record = await self._load(key)
        if record is not None and self._usable(record, now):
            return record.token  # another task refreshed while we waited
        if record is not None and record.invalid:
            raise _marked_invalid()
        if renew is not None:
            async with self._store_lock(key):
                record = await self._load(key)
                if record is not None and self._usable(record, self._core.clock()):
                    return record.token
                return await renew(record)
        if record is None:
            raise e.NoTokenError(
                f"no {key.token_type.value} token is stored for user {key.user!r}: "
                "run the auth flow (auth_link, parse_callback, exchange_code) first"
            )
        if record.token.refresh_token is None:
            raise _no_refresh_token()
        if self._in_advisory_backoff(key, record, now):
            return record.token
        return await self._refresh_with_store_lock(key, record.token.access_token)

    async def renew(self, key: TokenKey, renew: Renew, used: Secret) -> Token:
        """A new client-credentials token for ``key`` in place of ``used`` (after a 401).

        Single flight like a refresh: if another task already replaced ``used``, its
        newer token is returned and no second grant is made.
        """

        async def body() -> Token:
            async with self._store_lock(key):
                record = await self._load(key)
                newer = self._newer(record, used)
                return newer if newer is not None else await renew(record)

        flight, started = self._launch(key, "token renewal", body, join=True)
        token = await self._outcome(flight)
        if not started and token.access_token == used:
            # The flight we joined kept the very token that was refused: renew it.
            flight, _ = self._launch(key, "token renewal", body, join=True)
            token = await self._outcome(flight)
        return token

    async def refresh(self, key: TokenKey, used: Secret | None = None) -> Token:
        """Refresh now (single flight), unless the token ``used`` was already replaced.

        This is what a 401 triggers: only the token that request used is invalidated.
        Concurrent refreshes of one key, forced or not, share one flight.
        """

        async def body() -> Token:
            if key in self._shared.unsaved:
                await self._retry_persist(key)
            if used is not None and self._shared.cache is not None:
                # A 401: our cached token may be one another process has since rotated.
                # Read the store first (no lock); use its token unless it is the refused one.
                newer = self._newer(await self._load(key), used)
                if newer is not None:
                    return newer
            return await self._refresh_with_store_lock(key, used)

        flight, started = self._launch(key, "token refresh", body, join=True)
        token = await self._outcome(flight)
        if not started and used is not None and token.access_token == used:
            # The flight we joined kept the very token that was refused: refresh it.
            flight, _ = self._launch(key, "token refresh", body, join=True)
            token = await self._outcome(flight)
        return token

    async def _refresh_with_store_lock(self, key: TokenKey, replacing: Secret | None) -> Token:
        """Refresh under the store's lock, unless the token being replaced already was."""
        async with self._store_lock(key):
            # Re-read under the cross-process lock: another process may have refreshed.
            record = await self._load(key)
            if record is None:
                raise e.NoTokenError(
                    f"no {key.token_type.value} token is stored for user {key.user!r}"
                )
            if record.invalid:
                raise _marked_invalid()
            newer = self._newer(record, replacing)
            if newer is not None:
                return newer
            if record.token.refresh_token is None:
                raise _no_refresh_token()
            return await self._refresh(key, record)

    def _newer(self, record: TokenRecord | None, used: Secret | None) -> Token | None:
        """``record``'s token if it replaced ``used`` (the refused one) and is usable."""
        if record is None or used is None or record.token.access_token == used:
            return None
        return record.token if self._usable(record, self._core.clock()) else None

    def _in_advisory_backoff(self, key: TokenKey, record: TokenRecord, now: float) -> bool:
        until = self._shared.backoff_until.get(key)
        if until is None or now >= until:
            return False
        return bool(record.token.access_token) and now < record.token.expires_at.timestamp()

    # -- the refresh grant ------------------------------------------------------------

    async def _refresh(self, key: TokenKey, record: TokenRecord) -> Token:
        """Spend the record's refresh token and save the new pair (inside a flight)."""
        refresh_token = record.token.refresh_token
        assert refresh_token is not None
        form = self._core.client_form("refresh_token")
        form["refresh_token"] = refresh_token
        limit = self._core.timeouts.token
        # The flight's own deadline covers the network only: once an answer is in, its
        # refresh token is saved whatever the time.
        with anyio.move_on_after(limit) as deadline:
            outcome = await self._refresh_grant(key, form, refresh_token)
        if deadline.cancelled_caught:
            stuck = e.TransportTimeout(
                f"POST /connect/token: no answer within the {limit} s refresh deadline",
                request_sent=True,
            )
            return self._serve_stale_or_raise(key, record, stuck)
        if isinstance(outcome, TokenGrant):
            self._shared.backoff_until.pop(key, None)
            return await self.save_grant(key, outcome, record.token.token_type, previous=record)
        if isinstance(outcome, Token):
            return outcome  # another writer rotated it: not lost after all
        if isinstance(outcome, _Unsent):
            return self._serve_stale_or_raise(key, record, outcome.error)
        await self._mark_invalid(key, record, outcome.reason or "invalid_grant")
        raise outcome.with_traceback(None)

    async def _refresh_grant(
        self, key: TokenKey, form: Mapping[str, FormValue], refresh_token: Secret
    ) -> TokenGrant | Token | _Unsent | e.ReauthorizationRequired:
        """The token endpoint's verdict on a refresh, retried once if the answer was lost.

        Returns instead of marking or raising, so the caller does the store writes outside
        the network deadline.
        """
        lost = False
        try:
            return await self.token_request(form, RetryMode.UNSENT_ONLY)
        except e.TransportError as exc:
            if not exc.request_sent:
                return _Unsent(exc)
            lost = True
        except e.AuthApiError as exc:
            if exc.error == "invalid_grant":
                return _reauth_from(exc, "invalid_grant")
            if isinstance(exc, e.TokenEndpointUnavailable):
                return _Unsent(exc)
            raise
        assert lost
        log.debug("refresh response lost; retrying once with the same refresh token")
        try:
            return await self.token_request(form, RetryMode.UNSENT_ONLY)
        except e.AuthApiError as exc:
            if exc.error != "invalid_grant":
                raise
            current = await self._load(key)
            if (
                current is not None
                and current.token.refresh_token != refresh_token
                and self._usable(current, self._core.clock())
            ):
                return current.token
            return _reauth_from(exc, "refresh_outcome_unknown")

    def _serve_stale_or_raise(self, key: TokenKey, record: TokenRecord, exc: Exception) -> Token:
        now = self._core.clock()
        if record.token.access_token and now < record.token.expires_at.timestamp():
            self._shared.backoff_until[key] = now + ADVISORY_BACKOFF
            log.debug("refresh failed transiently; serving the still-valid access token")
            return record.token
        raise exc.with_traceback(None)

    async def token_request(self, form: Mapping[str, FormValue], mode: RetryMode) -> TokenGrant:
        """POST /connect/token (within the token timeout, in all) and validate the answer."""
        s = self._core
        limit = s.timeouts.token
        # A total deadline: a server trickling bytes defeats the per-read timeout.
        with anyio.move_on_after(limit) as deadline:
            response = await s.flight_requester().request(
                "POST",
                f"{s.environment.auth_url}/connect/token",
                api=Api.AUTH,
                form=form,
                retry_mode=mode,
                token_endpoint=True,
                max_bytes=TOKEN_MAX_BYTES,
            )
        if deadline.cancelled_caught:
            raise e.TransportTimeout(
                f"POST /connect/token: no answer within the {limit} s token deadline",
                request_sent=True,
            )
        return grant_from_response(response)

    # -- persistence ------------------------------------------------------------------

    def record_for(
        self, grant: TokenGrant, token_type: TokenType, previous: TokenRecord | None
    ) -> TokenRecord:
        """The record a grant becomes; keeps the old refresh token if none came back."""
        now = self._core.clock()
        old = previous.token if previous is not None else None
        refresh = grant.refresh_token or (old.refresh_token if old is not None else None)
        scopes = grant.scopes if grant.scopes is not None else (old.scopes if old else ())
        token = Token(
            access_token=grant.access_token or Secret(""),
            refresh_token=refresh,
            token_type=token_type,
            expires_at=datetime.fromtimestamp(now + grant.expires_in, timezone.utc),
            expires_in=grant.expires_in or 1,
            scopes=scopes,
        )
        version = (previous.version if previous is not None else 0) + 1
        return TokenRecord(token=token, version=version, updated_at=now)

    async def save_grant(
        self,
        key: TokenKey,
        grant: TokenGrant,
        token_type: TokenType,
        previous: TokenRecord | None,
    ) -> Token:
        """Persist a grant (then raise if it was malformed) and return its token."""
        record = self.record_for(grant, token_type, previous)
        await self.persist(key, record)
        if grant.problem is not None:
            raise e.MalformedTokenResponse(
                "token response unusable; its refresh token was saved",
                path=grant.problem.split()[0],
            )
        return record.token

    async def persist(self, key: TokenKey, record: TokenRecord) -> None:
        """Write ``record``; on failure keep it in memory and raise TokenPersistenceError."""
        store = self._core.store
        failure: str | None = None
        try:
            try:
                await store.set(key, record)
            except e.StoreConflictError:
                # A writer we did not coordinate with: put our newer result on top.
                current = await store.get(key)
                version = (current.version if current is not None else 0) + 1
                record = attrs.evolve(record, version=version)
                await store.set(key, record)
        except Exception as exc:  # any store failure must be loud and typed
            failure = type(exc).__name__
        shared = self._shared
        cache = shared.cache
        if failure is None:
            shared.unsaved.pop(key, None)
            if cache is not None:
                cache.put(key, record, self._core.clock())
            return
        shared.unsaved[key] = record
        if cache is not None:
            cache.drop(key, self._core.clock())  # the unsaved record is served instead
        raise e.TokenPersistenceError(
            f"the token store failed to save the new token ({failure}); it is kept in memory "
            "and the write will be retried on the next access"
        )

    async def _retry_persist(self, key: TokenKey) -> None:
        record = self._shared.unsaved[key]
        current: TokenRecord | None = None
        failure: str | None = None
        try:
            current = await self._core.store.get(key)
        except Exception as exc:
            failure = type(exc).__name__
        if failure is not None:
            raise e.TokenPersistenceError(f"the token store is still failing ({failure})")
        version = (current.version if current is not None else 0) + 1
        await self.persist(key, attrs.evolve(record, version=version))

    async def _mark_invalid(self, key: TokenKey, record: TokenRecord, reason: str) -> None:
        current = await self._core.store.get(key)
        base = current if current is not None else record
        marked = attrs.evolve(
            base, invalid=True, invalid_reason=reason, version=base.version + 1,
            updated_at=self._core.clock(),
        )  # fmt: skip
        try:
            await self.persist(key, marked)
        except e.TokenPersistenceError:
            log.debug("could not mark the credential invalid in the store; kept in memory")

    async def store_new(self, key: TokenKey, grant: TokenGrant, token_type: TokenType) -> Token:
        """Store a brand-new grant (code exchange, extension) over whatever is stored."""

        async def save(current: TokenRecord | None) -> Token:
            return await self.save_new(key, grant, token_type, current)

        return await self.spend(key, "token save", save)

    async def save_new(
        self,
        key: TokenKey,
        grant: TokenGrant,
        token_type: TokenType,
        current: TokenRecord | None,
    ) -> Token:
        """Save a new connection's grant over ``current`` (inside a flight)."""
        previous = None
        if current is not None:
            # A new connection: never carry over the old connection's refresh token.
            previous = attrs.evolve(current, token=attrs.evolve(current.token, refresh_token=None))
        return await self.save_grant(key, grant, token_type, previous)


@attrs.frozen
class _Unsent:
    """A refresh that never reached the token endpoint (or was refused as unavailable)."""

    error: e.TrueLayerError


def grant_from_response(response: Response) -> TokenGrant:
    """Validate a token-endpoint 200; an ``error`` member without a token is an error.

    The body holds tokens, so it is decoded in a helper that returns its verdict: no frame
    left on an error's traceback holds the body as a local (SEC-03).
    """
    outcome = _decode_grant(response)
    if isinstance(outcome, TokenGrant):
        return outcome
    raise outcome.with_traceback(None)


def _decode_grant(response: Response) -> TokenGrant | e.TrueLayerError:
    try:
        data = response.json(error_cls=e.MalformedTokenResponse)
    except e.MalformedTokenResponse as exc:
        refresh = salvage_refresh_token(response.content) if response.status_code == 200 else None
        if refresh is None:
            return exc
        # Still an error for the caller, but the issued refresh token is saved first.
        return TokenGrant(None, refresh, 0, None, problem="$ is not valid JSON")
    if isinstance(data, dict) and "error" in data and "access_token" not in data:
        error = data.get("error")
        return e.AuthApiError(
            response.status_code,
            error if isinstance(error, str) else "error",
            None,
            correlation_id=response.correlation_id,
        )
    try:
        return parse_token_response(data)
    except ValueError as exc:
        problem = str(exc)
    return e.MalformedTokenResponse(
        "unusable token response",
        status_code=response.status_code,
        path=problem.split()[0] if problem.startswith("$") else None,
        correlation_id=response.correlation_id,
    )


def _no_refresh_token() -> e.ReauthorizationRequired:
    return e.ReauthorizationRequired(
        None,
        "no_refresh_token",
        "the token expired and there is no refresh token (was offline_access granted?)",
        reason="no_refresh_token",
    )


def _marked_invalid() -> e.ReauthorizationRequired:
    return e.ReauthorizationRequired(
        None,
        "credential_invalid",
        "this credential was marked invalid after a failed refresh; the user must "
        "re-authorise (no request was sent)",
        reason="marked_invalid",
    )


def _reauth_from(exc: e.ApiError, reason: str) -> e.ReauthorizationRequired:
    return exc._retyped(e.ReauthorizationRequired, reason=reason)
