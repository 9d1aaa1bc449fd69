"""Give back pool slots that a cancelled request leaves behind.

Two holes in httpcore 1.0.9 (the latest), both met when callers are cancelled under load:
a request cancelled right after it was given a new connection (issue #1093, below), and a
response whose close is interrupted by asyncio's own cancellation
(``release_interrupted``).

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

__all__ = ["reclaim_orphans", "release_interrupted"]


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


def open_connections(client: Any) -> int:
    """How many connections the client's pool holds open (0 when it has no pool we know,
    e.g. a mock or ASGI transport)."""
    transport = getattr(client, "_transport", None)
    counts = getattr(transport, "connection_counts", None)  # the SDK's AiohttpTransport
    if counts is not None:
        return int(counts()[0])
    try:
        return len(client._transport._pool.connections)
    except AttributeError:
        return 0


def release_interrupted(response: Any) -> Any | None:
    """Take a response whose close was interrupted out of its pool; the connection to close.

    Closing a response returns its connection to the pool through several awaits, and
    httpcore shields them from anyio cancellation only: asyncio's own (``Task.cancel``,
    ``wait_for``) can land in one of them, after httpcore marked the stream closed but
    before it gave the slot back. The request then stays registered and the connection
    ACTIVE for good. This removes both from the pool (without awaiting) and returns the
    connection, if it is not idle, for the caller to close in the background.
    """
    try:
        stream = response.stream
        # Through AsyncClient.send the transport's stream is wrapped (BoundAsyncStream);
        # sent straight to the transport (the SDK's own client) it is not.
        stream = getattr(stream, "_stream", stream)._httpcore_stream
        pool = stream._pool
        pool_request = stream._pool_request
        if pool_request in pool._requests:
            pool._requests.remove(pool_request)
        connection = pool_request.connection
        if connection is None or connection.is_idle() or connection not in pool._connections:
            return None
        pool._connections.remove(connection)
    except (AttributeError, TypeError, ValueError):
        return None  # not httpcore's pool as we know it: leave it alone
    return connection
