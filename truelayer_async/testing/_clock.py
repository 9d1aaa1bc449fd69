"""A manually driven clock shared by the emulator and the SDK under test."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import anyio.lowlevel

__all__ = ["FakeClock"]


class FakeClock:
    """A clock that only moves when told to.

    Calling it returns unix epoch seconds, like ``time.time``; that is the clock protocol
    the SDK accepts (``Session(..., clock=fake.clock)``). It starts at the real time of
    construction unless ``start`` is given. ``sleep`` is the matching sleep protocol
    (``Session(..., sleep=fake.clock.sleep)``): it moves the clock instead of waiting.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)

    def __call__(self) -> float:
        """The current fake time, in unix epoch seconds."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (must not be negative); return the new time."""
        if seconds < 0:
            raise ValueError("a FakeClock only moves forward")
        self._now += seconds
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (negative counts as 0) and yield to other
        tasks once (a checkpoint, like ``anyio.sleep(0)``), without waiting in real time.

        Tasks sleeping concurrently each move the clock, so it may move further than any
        single sleep asked for; time never goes backwards.
        """
        self.advance(max(0.0, seconds))
        await anyio.lowlevel.checkpoint()

    def utcnow(self) -> datetime:
        """The current fake time as an aware UTC datetime."""
        return datetime.fromtimestamp(self._now, tz=timezone.utc)

    def __repr__(self) -> str:
        return f"FakeClock({self.utcnow().isoformat()})"
