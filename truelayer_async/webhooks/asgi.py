"""Receiving webhooks: an ASGI endpoint for FastAPI/Starlette, and the status to answer.

TrueLayer treats any 2xx as delivered and retries anything else for up to 72 hours. So
the endpoint answers 200 only after your handler returned; 401 for a webhook that fails
verification (a forged call must not be retried); 503 when the key set could not be
fetched (not the sender's fault: TrueLayer retries later); 500 when your handler raised.

aiohttp (or any other framework) follows the same shape::

    async def truelayer_webhook(request: web.Request) -> web.Response:
        try:
            event = await tl.webhooks.verify(
                request.headers, await request.read(), path=request.rel_url.raw_path
            )
        except WebhookVerificationError as exc:
            return web.Response(status=response_status(exc))
        await on_event(event)  # raising here answers 500, and TrueLayer retries
        return web.Response(status=200)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..errors import (
    StoreError,
    WebhookKeySetUnavailableError,
    WebhookPayloadError,
    WebhookVerificationError,
)
from .events import MAX_BODY_BYTES, Event

if TYPE_CHECKING:
    from ._service import WebhookService
    from .dedup import Deduplicator, Outcome

__all__ = ["WebhookEndpoint", "response_status"]

logger = logging.getLogger("truelayer_async.webhooks")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def response_status(error: WebhookVerificationError) -> int:
    """The HTTP status to answer a webhook that failed verification with."""
    if isinstance(error, WebhookKeySetUnavailableError):
        return 503
    if isinstance(error, WebhookPayloadError) and error.reason == "too_large":
        return 413
    if isinstance(error, WebhookPayloadError):
        return 400
    return 401


class WebhookEndpoint:
    """An ASGI app for one route::

        app.add_route("/webhooks/truelayer", tl.webhooks.asgi_app(on_event), methods=["POST"])

    (FastAPI or Starlette; ``Route(path, endpoint)`` or ``app.mount`` work too). POST only
    (405 otherwise). The signed path is the request's ``raw_path`` as received
    (or ``root_path + path``); pass ``path=`` if a proxy rewrites it. The Session must be
    open while webhooks arrive (the key set is fetched through it).

    With ``dedup=`` (a :class:`~truelayer_async.webhooks.Deduplicator`) the handler runs
    at most once per ``event_id``: a duplicate is answered 200 without calling it; one
    arriving while the same event is still being handled waits for it (``dedup.wait``)
    and is answered 409 if it is still running (TrueLayer retries later); a handler that
    raised leaves the event unmarked, so the retry runs it again. 503 if the dedup
    backend fails.
    """

    def __init__(
        self,
        webhooks: WebhookService,
        handler: Callable[[Event], Awaitable[object]],
        *,
        path: str | None = None,
        dedup: Deduplicator | None = None,
    ) -> None:
        self._webhooks = webhooks
        self._handler = handler
        self._path = path
        self._dedup = dedup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan and websockets: nothing to do
        if scope["method"] != "POST":
            await answer(send, 405, b"method not allowed")
            return
        body = await read_body(receive)
        if body is None:
            await answer(send, 413, b"body too large")
            return
        try:
            event = await self._webhooks.verify(
                scope["headers"], body, path=self._path or request_path(scope)
            )
        except WebhookVerificationError as exc:
            logger.warning("webhook refused: %s (%s)", type(exc).__name__, exc.reason)
            await answer(send, response_status(exc), b"webhook refused")
            return
        try:
            outcome = await self._run(event)
        except StoreError as exc:
            logger.error("webhook dedup backend failed for event %s: %s", event.event_id, exc)
            await answer(send, 503, b"dedup store unavailable")
            return
        except Exception as exc:
            # No exc_info (SDK log records never carry one): the handler logs its own errors.
            logger.error(
                "webhook handler failed for event %s: %s", event.event_id, type(exc).__name__
            )
            await answer(send, 500, b"handler failed")
            return
        if outcome == "in_progress":
            await answer(send, 409, b"already being handled")
            return
        if outcome == "duplicate":
            logger.info("webhook event %s is a duplicate: skipped", event.event_id)
        await answer(send, 200, b"ok")

    async def _run(self, event: Event) -> Outcome:
        if self._dedup is None:
            await self._handler(event)
            return "handled"
        return await self._dedup.process(event.event_id, lambda: self._handler(event))


def request_path(scope: Scope) -> str:
    """The path as the sender called it (``raw_path``, else ``root_path + path``)."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw.decode("latin-1").split("?", 1)[0]
    path: str = scope.get("path", "/")
    root: str = scope.get("root_path", "")
    return path if path.startswith(root) else root + path


async def read_body(receive: Receive) -> bytes | None:
    """The request body, or ``None`` past ``MAX_BODY_BYTES``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def answer(send: Send, status: int, text: bytes) -> None:
    """Send a short ``text/plain`` response."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(text))],
        }
    )
    await send({"type": "http.response.body", "body": text})
