"""The states a Session hands out in auth links: expiry and single use, in bounded memory.

A state the Session generates carries its own issue time, signed with a key that lives
only in this Session: ``base64url(32 random bytes | issue time | HMAC-SHA256[:16])``. Its
age can be checked at any time without remembering it, so expiry holds however many
other links were issued since. A state the caller chose is remembered with its issue
time until it expires.

A used state is remembered until its lifetime is over (``ttl`` after it was used, which
is after it was issued). Both tables drop only expired entries, oldest first, so memory
is bounded by the number of states issued and used within one ``ttl``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from collections import OrderedDict
from collections.abc import Callable

from . import errors as e

__all__ = ["StateBook"]

_RANDOM = 32
_TIME = struct.Struct(">d")
_MAC = 16
_SIGNED_BYTES = _RANDOM + _TIME.size + _MAC
_SIGNED_CHARS = (_SIGNED_BYTES * 4 + 2) // 3  # base64url without padding


class StateBook:
    """Issues states and judges the ones that come back in callbacks (one per Session)."""

    def __init__(self, clock: Callable[[], float], ttl: float) -> None:
        self._clock = clock
        self._ttl = ttl
        self._key = secrets.token_bytes(32)
        # OrderedDict: O(1) removal at the old end (a dict rescans its deleted slots).
        self._chosen: OrderedDict[str, float] = OrderedDict()  # caller's state -> issued at
        self._used: OrderedDict[str, float] = OrderedDict()  # used state -> used at

    def __repr__(self) -> str:
        return f"StateBook(chosen={len(self._chosen)}, used={len(self._used)})"

    def new(self) -> str:
        """A fresh state: 256 random bits and its signed issue time."""
        body = secrets.token_bytes(_RANDOM) + _TIME.pack(self._clock())
        raw = body + self._mac(body)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def chosen(self, state: str) -> None:
        """Record a state the caller chose for an auth link (timed while remembered)."""
        now = self._clock()
        self._prune(now)
        self._chosen[state] = now
        self._chosen.move_to_end(state)  # re-issued: it moves to the young end

    def accept(self, state: str) -> e.StateMismatchError | None:
        """Use ``state`` once: the error if it was used already or has expired, else None.

        A state this Session neither generated nor remembers (another process issued it)
        is not timed; it is still single use while remembered.
        """
        now = self._clock()
        issued = self._signed_time(state)
        if issued is None:  # looked up before pruning: an expired one must still be found
            issued = self._chosen.pop(state, None)
        self._prune(now)
        if state in self._used:
            return e.StateMismatchError("this state was already used; start a new auth flow")
        self._used[state] = now
        if issued is not None and now - issued > self._ttl:
            return e.StateExpiredError(
                f"this auth link is older than {self._ttl:.0f} s; start a new auth flow"
            )
        return None

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:_MAC]

    def _signed_time(self, state: str) -> float | None:
        """The issue time signed into ``state`` by this Session, or None."""
        if len(state) != _SIGNED_CHARS:
            return None
        try:
            raw = base64.urlsafe_b64decode(state + "=" * (-len(state) % 4))
        except ValueError:
            return None
        body, mac = raw[:-_MAC], raw[-_MAC:]
        if len(raw) != _SIGNED_BYTES or not hmac.compare_digest(mac, self._mac(body)):
            return None
        issued: float = _TIME.unpack_from(body, _RANDOM)[0]
        return issued

    def _prune(self, now: float) -> None:
        # Both tables are in time order: drop from the old end while entries have expired.
        # A clock that stepped back only makes entries stay longer.
        for table in (self._chosen, self._used):
            while table:
                state = next(iter(table))
                if now - table[state] <= self._ttl:
                    break
                del table[state]
