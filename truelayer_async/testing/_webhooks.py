"""Delivering webhooks: POST each one to its ``webhook_uri`` in the background, retrying.

TrueLayer treats any 2xx as success and otherwise retries with back-off; the emulator does
the same on a short, configurable schedule (``retry_delays``: the waits before the 2nd,
3rd, … attempt), so tests never wait long. Each attempt is recorded on the
``WebhookRecord``. Headers: ``Content-Type: application/json`` and
``X-TL-Webhook-Timestamp`` (UTC, second precision, the time of the attempt). Data API v1
webhooks are not signed (TrueLayer documents no signature for them).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import anyio
import httpx

from ._clock import EmulatorClock
from ._records import WebhookAttempt, WebhookRecord
from ._timefmt import from_epoch, iso_seconds_z

__all__ = ["DEFAULT_RETRY_DELAYS", "WebhookSender"]

#: Fast retries, then longer waits (TrueLayer keeps going for up to 72 hours).
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0, 600.0)
USER_AGENT = "truelayer-async-emulator-webhooks"


class WebhookSender:
    """Schedules deliveries on the running asyncio loop; never blocks the caller."""

    def __init__(
        self,
        clock: EmulatorClock,
        *,
        enabled: bool,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if any(delay < 0 for delay in retry_delays):
            raise ValueError("webhook retry delays must not be negative")
        self.clock = clock
        self.enabled = enabled
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self._transport = transport
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, record: WebhookRecord) -> None:
        """Start delivering ``record`` (no-op when delivery is off or no loop runs)."""
        if not self.enabled or not record.uri.startswith(("http://", "https://")):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        record.outcome = "pending"
        task = loop.create_task(self._deliver(record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, record: WebhookRecord) -> None:
        body = json.dumps(record.payload).encode()
        async with httpx.AsyncClient(
            transport=self._transport, timeout=self.timeout, trust_env=False
        ) as client:
            for number, delay in enumerate((0.0, *self.retry_delays), start=1):
                if delay:
                    await anyio.sleep(delay)
                attempt = await self._attempt(client, record.uri, body, number)
                record.attempts.append(attempt)
                if attempt.succeeded:
                    record.outcome = "delivered"
                    return
        record.outcome = "failed"

    async def _attempt(
        self, client: httpx.AsyncClient, uri: str, body: bytes, number: int
    ) -> WebhookAttempt:
        now = self.clock()
        headers = {
            "Content-Type": "application/json",
            "X-TL-Webhook-Timestamp": iso_seconds_z(from_epoch(now)),
            "User-Agent": USER_AGENT,
        }
        try:
            response = await client.post(uri, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return WebhookAttempt(number, now, None, type(exc).__name__)
        return WebhookAttempt(number, now, response.status_code)

    def cancel_all(self) -> None:
        """Stop deliveries still in progress (safe from any thread)."""
        tasks, self._tasks = set(self._tasks), set()
        for task in tasks:
            task.get_loop().call_soon_threadsafe(task.cancel)
