"""Seen webhook event ids in a SqliteTokenStore's file (table ``truelayer_webhook_events``).

It borrows the store's pooled connections, worker threads and file checks (mode 0600,
no symlink); every call is one short statement, so one event id is claimed by one
process only.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from ..stores.sqlite import SqliteTokenStore
from .dedup import Claim

__all__ = ["SqliteDedupBackend"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS truelayer_webhook_events (
        event_id TEXT PRIMARY KEY NOT NULL,
        owner TEXT NOT NULL,
        done INTEGER NOT NULL,
        expires_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS truelayer_webhook_events_expiry "
    "ON truelayer_webhook_events (expires_at)",
)


class SqliteDedupBackend:
    """A :class:`~truelayer_async.webhooks.dedup.DedupBackend` in a SQLite token store's
    file. Expiry uses wall-clock time (shared by the processes of one machine)."""

    def __init__(self, store: SqliteTokenStore) -> None:
        self.store = store
        self._ready = False
        self._ready_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SqliteDedupBackend({self.store.path!r})"

    async def claim(self, event_id: str, owner: str, lease: float) -> Claim:
        """See ``DedupBackend``."""
        claim: Claim = await self.store._run(self._claim_sync, event_id, owner, lease)
        return claim

    async def complete(self, event_id: str, owner: str, ttl: float) -> None:
        """See ``DedupBackend``."""
        await self.store._run(self._complete_sync, event_id, owner, ttl)

    async def release(self, event_id: str, owner: str) -> None:
        """See ``DedupBackend``."""
        await self.store._run(
            self._execute,
            "DELETE FROM truelayer_webhook_events WHERE event_id = ? AND owner = ? AND done = 0",
            (event_id, owner),
        )

    async def forget(self, event_id: str) -> None:
        """See ``DedupBackend``."""
        await self.store._run(
            self._execute, "DELETE FROM truelayer_webhook_events WHERE event_id = ?", (event_id,)
        )

    # -- worker-thread side -------------------------------------------------------------

    def _prepare(self, conn: sqlite3.Connection) -> None:
        with self._ready_lock:
            if not self._ready:
                for statement in _SCHEMA:
                    conn.execute(statement)
                self._ready = True

    def _execute(self, sql: str, params: tuple[object, ...]) -> None:
        with self.store._connect() as conn:
            self._prepare(conn)
            conn.execute(sql, params)

    def _claim_sync(self, event_id: str, owner: str, lease: float) -> Claim:
        now = time.time()
        with self.store._connect() as conn:
            self._prepare(conn)
            # One statement: insert, or take over an expired mark; else nothing changes.
            cursor = conn.execute(
                "INSERT INTO truelayer_webhook_events (event_id, owner, done, expires_at) "
                "VALUES (?, ?, 0, ?) ON CONFLICT (event_id) DO UPDATE SET "
                "owner = excluded.owner, done = 0, expires_at = excluded.expires_at "
                "WHERE truelayer_webhook_events.expires_at <= ?",
                (event_id, owner, now + lease, now),
            )
            if cursor.rowcount == 1:
                return "claimed"
            row = conn.execute(
                "SELECT done FROM truelayer_webhook_events WHERE event_id = ?", (event_id,)
            ).fetchone()
        return "done" if row is not None and row[0] else "processing"

    def _complete_sync(self, event_id: str, owner: str, ttl: float) -> None:
        now = time.time()
        with self.store._connect() as conn:
            self._prepare(conn)
            conn.execute(
                "INSERT INTO truelayer_webhook_events (event_id, owner, done, expires_at) "
                "VALUES (?, ?, 1, ?) ON CONFLICT (event_id) DO UPDATE SET "
                "owner = excluded.owner, done = 1, expires_at = excluded.expires_at",
                (event_id, owner, now + ttl),
            )
            conn.execute("DELETE FROM truelayer_webhook_events WHERE expires_at <= ?", (now,))
