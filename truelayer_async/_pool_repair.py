"""Give back pool slots that a cancelled request leaves behind (httpcore issue #1093).

httpcore 1.0.9 (the latest) assigns a queued request a *new* connection and wakes it; if
the request is cancelled before it runs, the connection is never connected and no
request owns it. It is then neither idle, closed, expired nor available, so the pool
never reclaims it, and once ``max_connections`` of them pile up every request fails with
``PoolTimeout``. A web backend whose request timeouts cancel SDK calls under load meets
exactly this.

``reclaim_orphans`` removes such connections: never connected, never failed, and owned by
no request waiting in the pool. It reads httpcore's private pool state, so anything
unexpected (another transport, another httpcore) makes it do nothing. It never awaits,
so it can run while a cancellation propagates.
"""

from __future__ import annotations

from typing import Any

__all__ = ["reclaim_orphans"]


def reclaim_orphans(client: Any) -> int:
    """Drop never-connected, unowned connections from ``client``'s pool; how many."""
    try:
        pool = client._transport._pool
        connections: list[Any] = pool._connections
        owned = {id(r.connection) for r in pool._requests if r.connection is not None}
        orphans = [
            c
            for c in connections
            if c._connection is None and not c._connect_failed and id(c) not in owned
        ]
        for orphan in orphans:
            connections.remove(orphan)
    except (AttributeError, TypeError, ValueError):
        return 0  # not httpcore's pool as we know it: leave it alone
    return len(orphans)
