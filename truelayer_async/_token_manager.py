"""Keeping tokens valid: single-flight refresh per token key, persist before use.

The algorithm (reliability.md TK-01..TK-14):

* Fast path, no lock: a stored token that is not within its leeway of expiry is returned.
* Otherwise take the key's lock (one per key, so unrelated users never wait on each
  other), and the store's cross-process lock if it has one; re-read the store, and skip
  the refresh if another task or process already did it.
* The refresh runs in a shielded cancel scope: a cancelled caller cannot lose a rotated
  refresh token. The new pair is written in one record before it is returned.
* A failed write raises TokenPersistenceError but keeps the new record in memory; the
  next access retries the write rather than refreshing again.
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
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import attrs

from . import errors as e
from ._error_mapping import Api
from ._http import TOKEN_MAX_BYTES, FormValue, Response
from ._retry import RetryMode
from ._secret import Secret
from ._token_response import TokenGrant, parse_token_response
from .tokens import Token, TokenKey, TokenRecord, TokenType

if TYPE_CHECKING:
    from .session import Session

__all__ = ["TokenManager"]

log = logging.getLogger("truelayer_async")

ADVISORY_BACKOFF = 5.0
STORE_LOCK_TIMEOUT = 60.0

# Per-key refresh locks, shared by every Session of one event loop that uses the same
# store object: two Sessions over one store must not both refresh (TK-04). Weak values:
# a lock lives only while someone holds or waits for it. Locks are created lazily, inside
# the running loop; nothing here is an asyncio primitive at import time.
_LockKey = tuple[int, object, TokenKey]
_SHARED_LOCKS: weakref.WeakValueDictionary[_LockKey, anyio.Lock] = weakref.WeakValueDictionary()

Renew = Callable[[TokenRecord | None], Awaitable[Token]]


class TokenManager:
    """Owns the per-key locks and the refresh / persist logic for one Session."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._unsaved: dict[TokenKey, TokenRecord] = {}
        self._backoff_until: dict[TokenKey, float] = {}

    # -- keys and reads -------------------------------------------------------------

    def key(
        self, token_type: TokenType, user: str | None, scopes: tuple[str, ...] = ()
    ) -> TokenKey:
        """The store key for this Session's client, environment, type, user and scopes."""
        if user is not None and (not isinstance(user, str) or not user):
            raise e.InvalidParameterError("user must be a non-empty string or None")
        s = self._session
        return TokenKey(f"{s.environment.auth_url}#{s.client_id}", token_type, user, scopes)

    async def read(self, key: TokenKey) -> TokenRecord | None:
        """The newest record for ``key``: an unsaved one first, else the store's."""
        unsaved = self._unsaved.get(key)
        if unsaved is not None:
            return unsaved
        return await self._session.token_store.get(key)

    def _usable(self, record: TokenRecord, now: float) -> bool:
        token = record.token
        return (
            not record.invalid
            and bool(token.access_token)
            and not token.is_expired(now, leeway=self._session.leeway)
        )

    def _lock(self, key: TokenKey) -> anyio.Lock:
        shared_key = (id(self._session.token_store), anyio.lowlevel.current_token(), key)
        lock = _SHARED_LOCKS.get(shared_key)
        if lock is None:
            lock = anyio.Lock()
            _SHARED_LOCKS[shared_key] = lock
        return lock

    def _store_lock(self, key: TokenKey) -> AbstractAsyncContextManager[Any]:
        lock = getattr(self._session.token_store, "lock", None)
        if lock is None:
            return nullcontext()
        result: AbstractAsyncContextManager[Any] = lock(key, timeout=STORE_LOCK_TIMEOUT)
        return result

    # -- the valid-token path ---------------------------------------------------------

    async def valid(self, key: TokenKey, renew: Renew | None = None) -> Token:
        """A token for ``key`` that is not about to expire, refreshing it if needed.

        ``renew`` replaces the refresh grant (client credentials fetch a new token).
        """
        session = self._session
        session.requester()  # open, and on the Session's loop, even on the fast path
        # A key with an unsaved record always takes the lock (which retries the write);
        # otherwise the store's record is served if usable. Testing `not unsaved` first
        # keeps the common case at one hash of the key (in the store).
        unsaved = self._unsaved
        if not unsaved or key not in unsaved:
            record = await session.token_store.get(key)
            # Tested again after the await: a failed write may have been kept meanwhile.
            if record is not None and (not unsaved or key not in unsaved):
                if self._usable(record, session.clock()):
                    return record.token
                if record.invalid:
                    raise _marked_invalid()
        async with self._lock(key):
            return await self._valid_locked(key, renew)

    async def _valid_locked(self, key: TokenKey, renew: Renew | None) -> Token:
        if key in self._unsaved:
            await self._retry_persist(key)
        now = self._session.clock()
        record = await self._session.token_store.get(key)
        if record is not None and self._usable(record, now):
            return record.token  # another task refreshed while we waited
        if record is not None and record.invalid:
            raise _marked_invalid()
        if renew is not None:
            async with self._store_lock(key):
                record = await self._session.token_store.get(key)
                if record is not None and self._usable(record, self._session.clock()):
                    return record.token
                with anyio.CancelScope(shield=True):
                    token = await renew(record)
                return token
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

    async def refresh(self, key: TokenKey, used: Secret | None = None) -> Token:
        """Refresh now (single flight), unless the token ``used`` was already replaced.

        This is what a 401 triggers: only the token that request used is invalidated.
        """
        async with self._lock(key):
            if key in self._unsaved:
                await self._retry_persist(key)
            return await self._refresh_with_store_lock(key, used)

    async def _refresh_with_store_lock(self, key: TokenKey, replacing: Secret | None) -> Token:
        """Refresh under the store's lock, unless the token being replaced already was."""
        async with self._store_lock(key):
            # Re-read under the cross-process lock: another process may have refreshed.
            record = await self._session.token_store.get(key)
            if record is None:
                raise e.NoTokenError(
                    f"no {key.token_type.value} token is stored for user {key.user!r}"
                )
            if record.invalid:
                raise _marked_invalid()
            if (
                replacing is not None
                and record.token.access_token != replacing
                and self._usable(record, self._session.clock())
            ):
                return record.token
            if record.token.refresh_token is None:
                raise _no_refresh_token()
            with anyio.CancelScope(shield=True):
                token = await self._refresh(key, record)
            return token

    def _in_advisory_backoff(self, key: TokenKey, record: TokenRecord, now: float) -> bool:
        until = self._backoff_until.get(key)
        if until is None or now >= until:
            return False
        return bool(record.token.access_token) and now < record.token.expires_at.timestamp()

    # -- the refresh grant ------------------------------------------------------------

    async def _refresh(self, key: TokenKey, record: TokenRecord) -> Token:
        refresh_token = record.token.refresh_token
        assert refresh_token is not None
        form: dict[str, FormValue] = {
            "grant_type": "refresh_token",
            "client_id": self._session.client_id,
            "client_secret": self._session.client_secret,
            "refresh_token": refresh_token,
        }
        lost = False
        try:
            grant = await self.token_request(form, RetryMode.UNSENT_ONLY)
        except e.TransportError as exc:
            if not exc.request_sent:
                return self._serve_stale_or_raise(key, record, exc)
            lost = True
        except e.AuthApiError as exc:
            if exc.error == "invalid_grant":
                await self._mark_invalid(key, record, "invalid_grant")
                raise _reauth_from(exc, "invalid_grant") from None
            if isinstance(exc, e.TokenEndpointUnavailable):
                return self._serve_stale_or_raise(key, record, exc)
            raise
        if lost:
            log.debug("refresh response lost; retrying once with the same refresh token")
            try:
                grant = await self.token_request(form, RetryMode.UNSENT_ONLY)
            except e.AuthApiError as exc:
                if exc.error != "invalid_grant":
                    raise
                current = await self._session.token_store.get(key)
                if (
                    current is not None
                    and current.token.refresh_token != refresh_token
                    and self._usable(current, self._session.clock())
                ):
                    return current.token  # another writer rotated it: not lost after all
                await self._mark_invalid(key, record, "refresh_outcome_unknown")
                raise _reauth_from(exc, "refresh_outcome_unknown") from None
        self._backoff_until.pop(key, None)
        return await self.save_grant(key, grant, record.token.token_type, previous=record)

    def _serve_stale_or_raise(self, key: TokenKey, record: TokenRecord, exc: Exception) -> Token:
        now = self._session.clock()
        if record.token.access_token and now < record.token.expires_at.timestamp():
            self._backoff_until[key] = now + ADVISORY_BACKOFF
            log.debug("refresh failed transiently; serving the still-valid access token")
            return record.token
        raise exc

    async def token_request(self, form: Mapping[str, FormValue], mode: RetryMode) -> TokenGrant:
        """POST /connect/token and validate the answer."""
        s = self._session
        response = await s.requester().request(
            "POST",
            f"{s.environment.auth_url}/connect/token",
            api=Api.AUTH,
            form=form,
            retry_mode=mode,
            token_endpoint=True,
            max_bytes=TOKEN_MAX_BYTES,
        )
        return grant_from_response(response)

    # -- persistence ------------------------------------------------------------------

    def record_for(
        self, grant: TokenGrant, token_type: TokenType, previous: TokenRecord | None
    ) -> TokenRecord:
        """The record a grant becomes; keeps the old refresh token if none came back."""
        now = self._session.clock()
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
        store = self._session.token_store
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
        if failure is None:
            self._unsaved.pop(key, None)
            return
        self._unsaved[key] = record
        raise e.TokenPersistenceError(
            f"the token store failed to save the new token ({failure}); it is kept in memory "
            "and the write will be retried on the next access"
        )

    async def _retry_persist(self, key: TokenKey) -> None:
        record = self._unsaved[key]
        current: TokenRecord | None = None
        failure: str | None = None
        try:
            current = await self._session.token_store.get(key)
        except Exception as exc:
            failure = type(exc).__name__
        if failure is not None:
            raise e.TokenPersistenceError(f"the token store is still failing ({failure})")
        version = (current.version if current is not None else 0) + 1
        await self.persist(key, attrs.evolve(record, version=version))

    async def _mark_invalid(self, key: TokenKey, record: TokenRecord, reason: str) -> None:
        current = await self._session.token_store.get(key)
        base = current if current is not None else record
        marked = attrs.evolve(
            base, invalid=True, invalid_reason=reason, version=base.version + 1,
            updated_at=self._session.clock(),
        )  # fmt: skip
        try:
            await self.persist(key, marked)
        except e.TokenPersistenceError:
            log.debug("could not mark the credential invalid in the store; kept in memory")

    async def store_new(self, key: TokenKey, grant: TokenGrant, token_type: TokenType) -> Token:
        """Store a brand-new grant (code exchange, extension) over whatever is stored."""
        async with self._lock(key), self._store_lock(key):
            with anyio.CancelScope(shield=True):
                current = await self.read(key)
                previous = None
                if current is not None:
                    # A new connection: never carry over the old connection's refresh token.
                    previous = attrs.evolve(
                        current, token=attrs.evolve(current.token, refresh_token=None)
                    )
                token = await self.save_grant(key, grant, token_type, previous)
            return token


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
        return exc
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
    return e.ReauthorizationRequired(
        exc.status_code,
        exc.error,
        exc.description,
        details=exc.details,
        correlation_id=exc.correlation_id,
        reason=reason,
    )
