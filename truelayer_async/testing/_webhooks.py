"""Delivering webhooks: POST each one to its ``webhook_uri`` in the background, retrying.

TrueLayer treats any 2xx as success and otherwise retries with back-off; the emulator does
the same on a short, configurable schedule (``retry_delays``: the waits before the 2nd,
3rd, … attempt), so tests never wait long. Each attempt is recorded on the
``WebhookRecord``. Headers: ``Content-Type: application/json`` and
``X-TL-Webhook-Timestamp`` (UTC, second precision, the time of the attempt), and for
records with a ``signing`` mode a ``Tl-Signature`` made per attempt by the emulator's
keys (``_webhook_keys``). Data API v1 webhooks are not signed (TrueLayer documents no
signature for them).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import anyio
import httpx

from ._clock import EmulatorClock
from ._records import WebhookAttempt, WebhookRecord
from ._timefmt import from_epoch, iso_seconds_z
from ._webhook_keys import EmulatorSigningKeys, SigningMode

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
        keys: EmulatorSigningKeys | None = None,
        jku: Callable[[], str] = lambda: "",
    ) -> None:
        if any(delay < 0 for delay in retry_delays):
            raise ValueError("webhook retry delays must not be negative")
        self.clock = clock
        self.enabled = enabled
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self._transport = transport
        self.keys = keys or EmulatorSigningKeys()
        self.jku = jku
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, record: WebhookRecord, *, force: bool = False) -> None:
        """Start delivering ``record`` (no-op when delivery is off, unless ``force``, or
        when no loop runs)."""
        if not (self.enabled or force) or not record.uri.startswith(("http://", "https://")):
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
        # Signed (v3) webhooks are compact JSON, as TrueLayer sends them.
        separators = None if record.signing is None else (",", ":")
        body = json.dumps(record.payload, separators=separators).encode()
        async with httpx.AsyncClient(
            transport=self._transport, timeout=self.timeout, trust_env=False
        ) as client:
            for number, delay in enumerate((0.0, *self.retry_delays), start=1):
                if delay:
                    await anyio.sleep(delay)
                attempt = await self._attempt(client, record, body, number)
                record.attempts.append(attempt)
                if attempt.succeeded:
                    record.outcome = "delivered"
                    return
        record.outcome = "failed"

    def request(
        self, uri: str, body: bytes, now: float, signing: str | None
    ) -> tuple[dict[str, str], bytes]:
        """The headers and body of one attempt (signed per ``signing`` unless ``None``)."""
        timestamp = iso_seconds_z(from_epoch(now))
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if signing is None:
            return {**headers, "X-TL-Webhook-Timestamp": timestamp}, body
        mode: SigningMode = signing  # type: ignore[assignment]  # checked by headers()
        path = urlsplit(uri).path or "/"
        signed, body = self.keys.headers(path, body, timestamp, self.jku(), mode)
        return {**headers, **signed}, body

    async def _attempt(
        self, client: httpx.AsyncClient, record: WebhookRecord, body: bytes, number: int
    ) -> WebhookAttempt:
        now = self.clock()
        uri = record.uri
        headers, body = self.request(uri, body, now, record.signing)
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
