"""A manually driven clock shared by the emulator and the SDK under test."""

from __future__ import annotations

import time
from datetime import datetime, timezone

__all__ = ["FakeClock"]


class FakeClock:
    """A clock that only moves when told to.

    Calling it returns unix epoch seconds, like ``time.time``; that is the clock protocol
    the SDK accepts (``Session(..., clock=fake.clock)``). It starts at the real time of
    construction unless ``start`` is given.
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

    def utcnow(self) -> datetime:
        """The current fake time as an aware UTC datetime."""
        return datetime.fromtimestamp(self._now, tz=timezone.utc)

    def __repr__(self) -> str:
        return f"FakeClock({self.utcnow().isoformat()})"
