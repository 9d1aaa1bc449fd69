"""Flights: token operations that run in a task no caller owns.

A refresh spends a refresh token: once it is sent, the rotated pair that comes back is the
only credential left, and it must reach the token store. If the refresh ran in the
caller's task, anything that cancels the caller would cancel the refresh too, and an
anyio shield does not help against asyncio's own cancellation (``Task.cancel``,
``asyncio.wait_for``, ``asyncio.timeout``, a ``TaskGroup``, a web server's request
timeout). So the operation runs in a task of its own, a *flight*: on asyncio a task of
the running loop (strongly referenced by its flight until it ends), on trio a system
task. Callers only wait for the outcome; cancelling a caller, by any mechanism, leaves the
flight running. Each flight bounds its own network time, so none runs forever.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio

from . import errors as e

__all__ = ["Flight"]

T = TypeVar("T")


class Flight(Generic[T]):
    """One operation running in its own task; any number of callers await its outcome.

    Create it inside the event loop (it makes an ``anyio.Event``), then ``start`` it.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._done = anyio.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        self._error_tb: TracebackType | None = None
        self._task: Any = None  # keeps an asyncio task alive until the flight ends

    @property
    def done(self) -> bool:
        """Whether the operation has finished (successfully or not)."""
        return self._done.is_set()

    def start(self, body: Callable[[], Awaitable[T]]) -> None:
        """Run ``body`` in a new task that no caller owns."""

        async def run() -> None:
            try:
                value = await body()
            except BaseException as exc:
                cancelled = isinstance(exc, anyio.get_cancelled_exc_class())
                self._finish(None, _interrupted(self.name) if cancelled else exc)
                if cancelled or not isinstance(exc, Exception):
                    raise  # the loop is shutting down: let the task end as it must
            else:
                self._finish(value, None)

        if asyncio._get_running_loop() is not None:
            self._task = asyncio.get_running_loop().create_task(run(), name=self.name)
            # Retrieve an exception the loop would otherwise log as never retrieved.
            self._task.add_done_callback(_consume)
        else:  # trio (through anyio): a system task outlives every caller's scope
            import trio

            # The caller's context, as asyncio's create_task gives it (a span, a client
            # correlation id): a system task would otherwise start from trio's own.
            trio.lowlevel.spawn_system_task(
                run, name=self.name, context=contextvars.copy_context()
            )

    def _finish(self, value: T | None, error: BaseException | None) -> None:
        # Raised again in each waiter's task, starting from this traceback each time (as
        # asyncio.Future does), so one waiter's frames never show in another's. For SDK
        # errors it is empty: the flight's frames may hold what the operation sent.
        tb = None
        if error is not None and not isinstance(error, e.TrueLayerError):
            tb = error.__traceback__
        self._value, self._error, self._error_tb = value, error, tb
        self._task = None
        self._done.set()

    async def wait(self) -> T:
        """The operation's result, or its exception raised again.

        Cancelling the waiter (by any mechanism) does not touch the flight.
        """
        await self._done.wait()
        if self._error is not None:
            raise self._error.with_traceback(self._error_tb)
        return self._value  # type: ignore[return-value]  # set together with _done

    async def wait_quietly(self) -> None:
        """Wait for the end of the operation, whatever its outcome."""
        await self._done.wait()


def _interrupted(name: str) -> e.SessionClosedError:
    return e.SessionClosedError(
        f"the {name} was interrupted because the event loop is shutting down"
    )


def _consume(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
