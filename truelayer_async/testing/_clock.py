"""The emulator's clocks: a manually driven one (in-process) and a live one (served)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import anyio.lowlevel

__all__ = ["EmulatorClock", "FakeClock", "LiveClock"]


class FakeClock:
    """A clock that only moves when told to.

    Calling it (or reading ``now``) returns unix epoch seconds, like ``time.time``; that
    is the clock protocol the SDK accepts (``Session(..., clock=fake.clock)``). It starts
    at the real time of construction unless ``start`` is given. ``sleep`` is the matching
    sleep protocol (``Session(..., sleep=fake.clock.sleep)``): it moves the clock instead
    of waiting.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)

    def __call__(self) -> float:
        """The current fake time, in unix epoch seconds."""
        return self._now

    @property
    def now(self) -> float:
        """The current fake time, in unix epoch seconds (the same as calling the clock).

        Read-only: move the clock with :meth:`advance` or :meth:`sleep`.
        """
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


class LiveClock:
    """Real time plus an offset that only grows: what the served emulator uses.

    Same protocol as :class:`FakeClock` (call it for unix epoch seconds; ``advance``,
    ``sleep``, ``utcnow``), but time also passes on its own. ``advance`` adds to
    ``offset`` (so tokens and codes expire early, as if time had passed); ``sleep`` waits
    in real time.
    """

    def __init__(self) -> None:
        self._offset = 0.0

    def __call__(self) -> float:
        """Real time plus ``offset``, in unix epoch seconds."""
        return time.time() + self._offset

    @property
    def offset(self) -> float:
        """Seconds added by ``advance`` so far."""
        return self._offset

    def advance(self, seconds: float) -> float:
        """Jump ``seconds`` ahead (must not be negative); return the new time."""
        if seconds < 0:
            raise ValueError("the emulator's clock only moves forward")
        self._offset += seconds
        return self()

    def reset(self) -> None:
        """Drop the offset: back to plain real time."""
        self._offset = 0.0

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` in real time (``anyio.sleep``)."""
        await anyio.sleep(max(0.0, seconds))

    def utcnow(self) -> datetime:
        """The current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self(), tz=timezone.utc)

    def __repr__(self) -> str:
        return f"LiveClock({self.utcnow().isoformat()}, offset={self._offset:g})"


#: Either clock; the emulator only needs calling, ``advance`` and ``utcnow``.
EmulatorClock = FakeClock | LiveClock
