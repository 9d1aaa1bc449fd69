"""Seen webhook event ids in a RedisTokenStore's server (``prefix + "webhook:" + id``).

Redis failures become :class:`~truelayer_async.errors.StoreError`, as in the store.

A claim is ``SET key p:<owner> NX PX <lease>``; done is ``SET key done PX <ttl>``; a
release deletes the key only while it still holds the owner's claim (Lua).
"""

from __future__ import annotations

from ..stores.redis import RedisTokenStore
from .dedup import Claim

__all__ = ["RedisDedupBackend"]

_DONE = b"done"
# KEYS[1] event key; ARGV[1] the owner's claim value. Only the owner's claim is removed.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisDedupBackend:
    """A :class:`~truelayer_async.webhooks.dedup.DedupBackend` on a Redis token store's
    client; expiry is Redis's own (``PX``)."""

    def __init__(self, store: RedisTokenStore) -> None:
        self.store = store
        self._release = store.client.register_script(_RELEASE)

    def __repr__(self) -> str:
        return f"RedisDedupBackend(prefix={self.store.prefix!r})"

    def key(self, event_id: str) -> str:
        """The Redis key for ``event_id``."""
        return f"{self.store.prefix}webhook:{event_id}"

    async def claim(self, event_id: str, owner: str, lease: float) -> Claim:
        """See ``DedupBackend``."""
        client, key, do = self.store.client, self.key(event_id), self.store._do
        for _ in range(3):  # a mark that expires between SET and GET: try again
            if await do(client.set(key, _claim(owner), nx=True, px=_ms(lease))):
                return "claimed"
            current = await do(client.get(key))
            if current is not None:
                return "done" if current == _DONE else "processing"
        return "processing"

    async def complete(self, event_id: str, owner: str, ttl: float) -> None:
        """See ``DedupBackend``."""
        await self.store._do(self.store.client.set(self.key(event_id), _DONE, px=_ms(ttl)))

    async def release(self, event_id: str, owner: str) -> None:
        """See ``DedupBackend``."""
        await self.store._do(self._release(keys=[self.key(event_id)], args=[_claim(owner)]))

    async def forget(self, event_id: str) -> None:
        """See ``DedupBackend``."""
        await self.store._do(self.store.client.delete(self.key(event_id)))


def _claim(owner: str) -> bytes:
    return b"p:" + owner.encode()


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
