"""Polling a resource until its status is one asked for: the loop behind ``wait_for``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from .. import errors as e

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["poll_status", "wanted_statuses"]

T = TypeVar("T")

#: Seconds between polls: doubled after each poll, from the first to the last.
FIRST_INTERVAL = 0.5
MAX_INTERVAL = 5.0


def wanted_statuses(statuses: Iterable[str] | None, terminal: frozenset[str]) -> frozenset[str]:
    """The statuses that end the wait: those asked for, plus every terminal one."""
    if statuses is None:
        return terminal
    if isinstance(statuses, str):
        raise e.InvalidParameterError("statuses must be a collection of strings, not a string")
    wanted = frozenset(statuses)
    if not wanted or not all(isinstance(status, str) for status in wanted):
        raise e.InvalidParameterError("statuses must be a non-empty collection of strings")
    return wanted | terminal


async def poll_status(
    core: Core,
    fetch: Callable[[], Awaitable[T]],
    wanted: frozenset[str],
    *,
    timeout: float,
    what: str,
) -> T:
    """``fetch()`` until the result's ``status`` is in ``wanted``, sleeping with back-off
    (``core.sleep``, deadline on ``core.clock``); ``TransportTimeout`` after ``timeout``
    seconds. ``what`` names the resource in that error (an id, never a secret)."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise e.InvalidParameterError("timeout must be a positive number of seconds")
    deadline = core.clock() + timeout
    interval = FIRST_INTERVAL
    while True:
        result = await fetch()
        status: Any = getattr(result, "status", None)
        if status in wanted:
            return result
        remaining = deadline - core.clock()
        if remaining <= 0:
            raise e.TransportTimeout(
                f"{what} did not reach {', '.join(sorted(wanted))} within {timeout} s "
                f"(last status: {status})"
            )
        await core.sleep(min(interval, remaining))
        interval = min(interval * 2, MAX_INTERVAL)
