"""The read cache in front of a persistent token store (issue #21).

A process serves a token it read or wrote recently from memory instead of reading SQLite
or Redis on every call. The store stays the source of truth: an entry is served only
while it is younger than ``max_age`` seconds and its token is fresh; the token manager
reads the store again before any refresh and after any 401 (another process may have
rotated the token: TrueLayer honours only the newest one).

An entry is a new tuple ``(record, cached_at)`` on every change. A store read remembers
its result only if the entry it started from is still in place, so a read that overlapped
a write or a delete of the same key never puts back what that write replaced.
"""

from __future__ import annotations

from typing import Any

from .tokens import TokenKey, TokenRecord

__all__ = ["DEFAULT_CACHE_MAX_AGE", "TokenCache", "cache_for"]

#: Seconds a cached record is served before the store is read again (see docs/stores.md).
DEFAULT_CACHE_MAX_AGE = 10.0
#: Entries kept at most; the oldest written is dropped first (one per user and token type).
MAX_ENTRIES = 10_000

Entry = tuple[TokenRecord | None, float]


class TokenCache:
    """Recently read or written records of one store, for one event loop."""

    __slots__ = ("_entries", "limit", "max_age")

    def __init__(self, max_age: float, limit: int = MAX_ENTRIES) -> None:
        self.max_age = max_age
        self.limit = limit
        self._entries: dict[TokenKey, Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, key: TokenKey) -> Entry | None:
        """The current entry (the mark a store read passes back to :meth:`keep`)."""
        return self._entries.get(key)

    def fresh(self, key: TokenKey, now: float) -> TokenRecord | None:
        """The cached record if it is younger than ``max_age`` (a clock gone back: stale)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        record, cached_at = entry
        if 0.0 <= now - cached_at < self.max_age:
            return record
        return None

    def keep(
        self, key: TokenKey, mark: Entry | None, record: TokenRecord | None, now: float
    ) -> None:
        """Remember what a store read returned, unless the entry changed while it ran."""
        if self._entries.get(key) is mark:
            self._set(key, (record, now))

    def put(self, key: TokenKey, record: TokenRecord, now: float) -> None:
        """Remember a record this process has just written."""
        self._set(key, (record, now))

    def drop(self, key: TokenKey, now: float) -> None:
        """Forget ``key``: a deleted record, or one whose write failed.

        Leaves an empty entry behind (a new tuple, never served) so that a read already
        under way does not put the old record back.
        """
        self._set(key, (None, now))

    def _set(self, key: TokenKey, entry: Entry) -> None:
        entries = self._entries
        entries.pop(key, None)  # re-inserted last: the oldest write is dropped first
        entries[key] = entry
        if len(entries) > self.limit:
            del entries[next(iter(entries))]


def cache_for(store: Any) -> TokenCache | None:
    """A cache for ``store`` if it asks for one (a positive ``cache_max_age`` attribute)."""
    max_age = getattr(store, "cache_max_age", None)
    if isinstance(max_age, (int, float)) and not isinstance(max_age, bool) and max_age > 0:
        return TokenCache(float(max_age))
    return None
