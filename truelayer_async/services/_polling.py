"""The loop behind every ``wait_for``: fetch until the status is one asked for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any, TypeVar

from .. import errors as e

if TYPE_CHECKING:
    from .._core import Core

__all__ = [
    "WAIT_FACTOR",
    "WAIT_FIRST_DELAY",
    "WAIT_MAX_DELAY",
    "poll_resource",
    "poll_until",
]

T = TypeVar("T")

#: The first pause, its growth factor and the longest pause (seconds).
WAIT_FIRST_DELAY = 1.0
WAIT_FACTOR = 2.0
WAIT_MAX_DELAY = 30.0


async def poll_until(
    fetch: Callable[[], Awaitable[T]],
    *,
    statuses: Collection[str] | None,
    is_final: Callable[[T], bool],
    timeout: float,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    what: str,
    unknown: type[Any] | tuple[()] = (),
) -> T:
    """``await fetch()`` until its ``status`` is in ``statuses``, ``is_final(it)``, or it
    is an ``unknown`` (the resource's class for a status this SDK version does not know:
    a poll cannot tell whether it will ever change, so the caller gets it at once); return
    it.

    Pauses start at 1 s and double up to 30 s, never past ``timeout`` (seconds, on
    ``clock``). ``what`` names the resource in messages (``"payout"``).

    Raises:
        InvalidParameterError: ``statuses`` is a string or holds a non-string, or
            ``timeout`` is not a number ≥ 0 (before the first fetch).
        WaitTimeoutError: ``timeout`` passed first; ``last`` holds the last result.
    """
    if isinstance(statuses, str) or not all(isinstance(s, str) for s in statuses or ()):
        raise e.InvalidParameterError("statuses must be a collection of status strings")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise e.InvalidParameterError("timeout must be a number of seconds, at least 0")
    wanted = frozenset(statuses or ())
    deadline = clock() + timeout
    delay = WAIT_FIRST_DELAY
    while True:
        result = await fetch()
        status: Any = getattr(result, "status", None)
        if status in wanted or isinstance(result, unknown) or is_final(result):
            return result
        left = deadline - clock()
        if left <= 0:
            raise e.WaitTimeoutError(f"{what} still {status!r} after {timeout} s", last=result)
        await sleep(min(delay, left))
        delay = min(delay * WAIT_FACTOR, WAIT_MAX_DELAY)


def poll_resource(
    core: Core,
    resource_id: str,
    fetch: Callable[[], Awaitable[T]],
    *,
    statuses: Collection[str] | None,
    is_final: Callable[[T], bool],
    unknown: type[Any],
    timeout: float,
    what: str,
) -> Awaitable[T]:
    """:func:`poll_until` for the resource ``resource_id`` on ``core``'s clock, whose
    pauses a webhook about that resource, verified by this Session's ``tl.webhooks``,
    ends at once (every ``wait_for`` of a resource TrueLayer sends webhooks about).
    ``unknown`` (``UnknownPayout``...) ends the wait as a final status does."""
    return poll_until(
        fetch,
        statuses=statuses,
        is_final=is_final,
        timeout=timeout,
        clock=core.clock,
        sleep=core.wakeups.sleeper(resource_id, core.sleep),
        what=what,
        unknown=unknown,
    )
