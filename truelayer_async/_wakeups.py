"""Polls woken early by a verified webhook (``wait_for_*`` "satisfied by the webhook").

A ``wait_for`` sleeps between polls through :meth:`Wakeups.sleep`; when ``tl.webhooks``
verifies an event naming the same resource (an account holder verification, a payment,
a refund, a payout, a mandate), the sleep ends at once and the next poll reads the new
status. Without webhooks nothing changes: the sleep runs its course.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

__all__ = ["RESOURCE_ID_FIELDS", "Wakeups"]

#: The event fields that name the resource a webhook is about.
RESOURCE_ID_FIELDS = (
    "account_holder_verification_id",
    "payment_id",
    "refund_id",
    "payout_id",
    "mandate_id",
)


class Wakeups:
    """Sleeping polls by resource id; one per Session (its core)."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[anyio.Event]] = {}

    async def sleep(
        self, resource_id: str, seconds: float, sleep: Callable[[float], Awaitable[None]]
    ) -> None:
        """``await sleep(seconds)``, ended early by a webhook about ``resource_id``."""
        event = anyio.Event()
        waiting = self._waiting.setdefault(resource_id, set())
        waiting.add(event)
        try:
            async with anyio.create_task_group() as group:

                async def nap() -> None:
                    await sleep(seconds)
                    event.set()

                group.start_soon(nap)
                await event.wait()  # the nap ran its course, or a webhook came first
                group.cancel_scope.cancel()
        finally:
            waiting.discard(event)
            if not waiting and self._waiting.get(resource_id) is waiting:
                del self._waiting[resource_id]

    def wake(self, event: object) -> None:
        """Wake the polls of every resource a verified webhook ``event`` names."""
        for name in RESOURCE_ID_FIELDS:
            resource_id = getattr(event, name, None)
            if isinstance(resource_id, str):
                for waiter in self._waiting.get(resource_id, ()):
                    waiter.set()

    def sleeper(
        self, resource_id: str, sleep: Callable[[float], Awaitable[None]]
    ) -> Callable[[float], Awaitable[None]]:
        """A ``sleep`` for ``poll_until`` that a webhook about ``resource_id`` cuts short."""

        def nap(seconds: float) -> Awaitable[None]:
            return self.sleep(resource_id, seconds, sleep)

        return nap
