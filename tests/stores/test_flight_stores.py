"""Issue #15 with real stores: a cancelled caller loses no rotated pair in SQLite or Redis.

The same scenario as ``tests/auth/test_flights.py`` (the emulator rotates strictly; the
caller is cancelled while the answer is in flight or while the store writes the new
pair), with the write going to a real SQLite file or a real redis-server, whose
cross-process lock the flight also holds.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.support.flights import ASYNCIO_KINDS, TRIO_KINDS, Cancel, cancellation_scenario
from truelayer_async import RedisTokenStore, SqliteTokenStore

POINTS = ["answer", "store"]


@pytest.mark.asyncio
@pytest.mark.parametrize("cancel", ASYNCIO_KINDS)
@pytest.mark.parametrize("point", POINTS)
async def test_sqlite_keeps_the_pair_of_a_cancelled_caller(
    point: str, cancel: Cancel, tmp_path: Path
) -> None:
    async with SqliteTokenStore(tmp_path / "tokens.db") as store:
        await cancellation_scenario(point, cancel, store)


@pytest.mark.parametrize("cancel", TRIO_KINDS)
@pytest.mark.parametrize("point", POINTS)
def test_sqlite_keeps_the_pair_of_a_cancelled_caller_on_trio(
    point: str, cancel: Cancel, tmp_path: Path
) -> None:
    test = test_sqlite_keeps_the_pair_of_a_cancelled_caller
    anyio.run(test, point, cancel, tmp_path, backend="trio")


@pytest.mark.asyncio
@pytest.mark.parametrize("cancel", ASYNCIO_KINDS)
@pytest.mark.parametrize("point", POINTS)
async def test_redis_keeps_the_pair_of_a_cancelled_caller(
    point: str, cancel: Cancel, redis_url: str
) -> None:
    async with RedisTokenStore(redis_url) as store:
        await cancellation_scenario(point, cancel, store)
