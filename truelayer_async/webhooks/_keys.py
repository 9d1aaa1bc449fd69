"""The key-set cache: fetched asynchronously, kept for a TTL, fetched once at a time.

* **Single flight.** However many verifications need a key set at once, one fetch runs
  (in a task no caller owns, see ``_flight``); the others wait for its outcome.
* **Rotation.** An unknown ``kid`` re-fetches once, but never sooner than
  ``refetch_floor`` seconds after the last fetch, so forged ``kid``\\s cannot make the SDK
  hammer TrueLayer.
* **Bounded.** A fetch that has not finished after ``fetch_timeout`` seconds fails with
  :class:`~truelayer_async.errors.WebhookKeySetUnavailableError`; after a failure, fetches
  pause for ``failure_backoff`` seconds (verifications fail fast meanwhile).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from .. import signing
from .._flight import Flight
from ..errors import (
    SignatureVerificationError,
    WebhookKeySetUnavailableError,
    WebhookSignatureError,
    WebhookUnknownKeyError,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["KeySetCache"]

FetchKeySet = Callable[[str], Awaitable[Any]]


@attrs.frozen
class _Entry:
    jwks: Mapping[str, Any]
    fetched_at: float
    #: Keys already built from ``jwks``, by kid: building a P-521 key (and checking its
    #: point) costs about a third of a verification, so it is done once per fetch.
    keys: dict[str, ec.EllipticCurvePublicKey] = attrs.field(factory=dict, eq=False)


class KeySetCache:
    """Key sets by URL. ``fetch(url)`` returns the decoded JSON of the key set.

    Args:
        fetch: the coroutine that GETs a key set (the Session's requester by default).
        ttl: seconds a fetched key set is used before it is fetched again (30 min).
        refetch_floor: minimum seconds between fetches triggered by an unknown ``kid``.
        fetch_timeout: seconds a verification waits for a fetch at most.
        failure_backoff: seconds during which a failed fetch is not retried.
        clock: seconds, monotonic enough for intervals (defaults to ``time.monotonic``).
    """

    def __init__(
        self,
        fetch: FetchKeySet,
        *,
        ttl: float = 1800.0,
        refetch_floor: float = 60.0,
        fetch_timeout: float = 5.0,
        failure_backoff: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self.ttl = ttl
        self.refetch_floor = refetch_floor
        self.fetch_timeout = fetch_timeout
        self.failure_backoff = failure_backoff
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._failed_at: dict[str, float] = {}
        self._flights: dict[str, Flight[_Entry]] = {}

    def clear(self) -> None:
        """Forget every cached key set (the next verification fetches again)."""
        self._entries.clear()
        self._failed_at.clear()

    async def key(self, url: str, kid: str) -> ec.EllipticCurvePublicKey:
        """The P-521 key ``kid`` from the key set at ``url`` (an allow-listed URL).

        Raises:
            WebhookUnknownKeyError: ``kid`` is not in the key set, even after a re-fetch.
            WebhookKeySetUnavailableError: the key set could not be fetched in time.
        """
        entry = self._entries.get(url)
        if entry is None or self._clock() - entry.fetched_at >= self.ttl:
            entry = await self._refresh(url)
        key = _lookup(entry, kid)
        if key is None and self._clock() - entry.fetched_at >= self.refetch_floor:
            entry = await self._refresh(url)  # key rotation: one re-fetch
            key = _lookup(entry, kid)
        if key is None:
            raise WebhookUnknownKeyError(
                f"the signing key {kid!r} is not in the key set", reason="kid"
            )
        return key

    async def _refresh(self, url: str) -> _Entry:
        flight = self._flights.get(url)
        if flight is None or flight.done:
            failed_at = self._failed_at.get(url)
            if failed_at is not None and self._clock() - failed_at < self.failure_backoff:
                raise WebhookKeySetUnavailableError(
                    "the key set could not be fetched a moment ago; not retrying yet",
                    reason="key_set",
                )
            flight = Flight("webhook key-set fetch")
            self._flights[url] = flight
            flight.start(lambda: self._fetch_entry(url))
        return await flight.wait()

    async def _fetch_entry(self, url: str) -> _Entry:
        jwks: Any = None
        with anyio.move_on_after(self.fetch_timeout) as scope:
            try:
                jwks = await self._fetch(url)
            except Exception:  # any failure to fetch is "unavailable": fail closed
                jwks = None
        if scope.cancelled_caught or not _is_key_set(jwks):
            self._failed_at[url] = self._clock()
            why = (
                f"did not answer within {self.fetch_timeout} s"
                if scope.cancelled_caught
                else "failed or did not return a JWKS"
            )
            raise WebhookKeySetUnavailableError(f"the webhook key set {why}", reason="key_set")
        entry = _Entry(jwks, self._clock())
        self._entries[url] = entry
        self._failed_at.pop(url, None)
        return entry


def _is_key_set(value: object) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("keys"), list)


def _lookup(entry: _Entry, kid: str) -> ec.EllipticCurvePublicKey | None:
    cached = entry.keys.get(kid)
    if cached is not None:
        return cached
    try:
        key = signing.key_from_jwks(entry.jwks, kid)
    except SignatureVerificationError as exc:
        message = str(exc)
    else:
        if key is not None:  # only keys that were found; misses and bad keys are re-checked
            entry.keys[kid] = key
        return key
    raise WebhookSignatureError(message, reason="key")
