"""Watching a Session without OpenTelemetry: event hooks, and the :class:`Telemetry`
interface that spans and metrics go through.

Event hooks are callbacks the SDK runs on each request, response, retry and token refresh.

Give them to the Session, in the shape of httpx's ``event_hooks``::

    async def log_response(event: ResponseEvent) -> None:
        logger.info("%s %s -> %s", event.method, event.url, event.status_code)

    Session(..., event_hooks={"response": [log_response]})

A hook may be a coroutine function or a plain function. Events hold no secret: no
header but TrueLayer's ids, no body, no query string. A hook that raises is logged (its
exception's class only) and skipped: watching a call never changes its outcome.

``Session(telemetry=...)`` takes a :class:`Telemetry`: ``truelayer_async.otel.OpenTelemetry``
(the ``otel`` extra), or your own subclass to send spans and metrics elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

__all__ = [
    "EVENT_NAMES",
    "METRICS",
    "AttributeValue",
    "Attributes",
    "EventHooks",
    "RefreshEvent",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "Telemetry",
]

#: The events a hook can be given for.
EVENT_NAMES = frozenset({"request", "response", "retry", "refresh"})

#: ``Session(event_hooks=...)``: event name -> a callable or a list of them.
EventHooks = Mapping[str, "Sequence[Callable[[Any], Any]] | Callable[[Any], Any]"]


@attrs.frozen
class RequestEvent:
    """An HTTP attempt is about to be sent.

    Attributes:
        operation: the logical call, e.g. ``"truelayer.data.accounts"``.
        method: the HTTP method.
        url: the URL without its query string.
        attempt: 0 for the first attempt, 1 for the first retry, ...
        client_correlation_id: the ``X-Client-Correlation-Id`` sent, if any.
    """

    operation: str
    method: str
    url: str
    attempt: int
    client_correlation_id: str | None


@attrs.frozen
class ResponseEvent:
    """An HTTP attempt ended: with a response (``status_code``) or a network ``error``.

    Attributes:
        operation, method, url, attempt, client_correlation_id: as in
            :class:`RequestEvent`.
        status_code: the response's status (``None`` when the network failed).
        error: the network failure's class name (``None`` when a response came).
        correlation_id: TrueLayer's ``X-Tl-Correlation-Id``.
        trace_id: TrueLayer's ``Tl-Trace-Id``.
        elapsed: seconds from sending to the body being read.
    """

    operation: str
    method: str
    url: str
    attempt: int
    status_code: int | None
    error: str | None
    correlation_id: str | None
    trace_id: str | None
    elapsed: float
    client_correlation_id: str | None


@attrs.frozen
class RetryEvent:
    """The SDK will wait ``delay`` seconds, then retry.

    Attributes:
        operation, method: as in :class:`RequestEvent`.
        path: the URL path (no query string).
        attempt: the attempt that failed (0 for the first).
        reason: the status code (``"503"``, ``"429"``) or the network failure's class.
        delay: seconds until the retry.
    """

    operation: str
    method: str
    path: str
    attempt: int
    reason: str
    delay: float


@attrs.frozen
class RefreshEvent:
    """A token flight ended (a refresh, a client-credentials grant, a code exchange, ...).

    Attributes:
        flight: ``"refresh"``, ``"client_credentials"``, ``"renewal"``, ``"exchange"``,
            ``"extend"`` or ``"save"``.
        token_type: ``"data"`` or ``"payments"``.
        user: the user's identifier as you gave it (``None`` for the application).
        outcome: ``"success"``, or the class name of the error it ended with.
        elapsed: seconds the flight took, lock wait included.
    """

    flight: str
    token_type: str
    user: str | None
    outcome: str
    elapsed: float


AttributeValue = str | int | float | bool
#: A span's or metric point's attributes.
Attributes = dict[str, AttributeValue]

#: Every metric the SDK records: name -> (kind, unit, description).
METRICS: dict[str, tuple[str, str, str]] = {
    "truelayer.request.duration": (
        "histogram", "s", "Duration of a logical call (retries, refresh and replay included)"
    ),
    "truelayer.http.retries": ("counter", "{retry}", "HTTP attempts retried, by reason"),
    "truelayer.rate_limit.waits": ("counter", "{wait}", "Waits caused by a 429 (rate limit)"),
    "truelayer.rate_limit.wait_duration": ("histogram", "s", "Time spent waiting after a 429"),
    "truelayer.token.refreshes": (
        "counter", "{flight}", "Token flights (refresh, client credentials, ...) by outcome"
    ),
    "truelayer.token.waiters": (
        "counter", "{caller}", "Callers that waited for a token flight (single flight)"
    ),
    "truelayer.store.duration": ("histogram", "s", "Token store operation latency"),
    "truelayer.webhook.verifications": ("counter", "{webhook}", "Webhooks verified, by outcome"),
    "truelayer.http.connections": (
        "gauge", "{connection}", "Open HTTP connections in the pools of the open Sessions"
    ),
}  # fmt: skip


class Telemetry:
    """Where spans and metrics go. This base records nothing; subclass it (as
    :class:`truelayer_async.otel.OpenTelemetry` does) to send them somewhere.

    Attributes:
        record_user_ids: put users' identifiers on spans as they are
            (``truelayer.user.id``) instead of a hash (``truelayer.user.hash``).
        user_hash_salt: mixed into the hash of a user's identifier.
    """

    record_user_ids: bool = False
    user_hash_salt: str = ""

    def start_span(self, name: str, attributes: Attributes, *, client: bool = False) -> Any:
        """Start a span and make it current (its children nest under it)."""
        return None

    def end_span(self, span: Any, attributes: Attributes, error: str | None) -> None:
        """End a span from :meth:`start_span`; ``error`` is the error class, if any."""

    def record_span(
        self,
        name: str,
        start_ns: int,
        end_ns: int,
        attributes: Attributes,
        error: str | None,
        *,
        client: bool = False,
    ) -> None:
        """Record a finished leaf span (a child of the current span); the times are
        wall-clock nanoseconds since the epoch."""

    def add(self, metric: str, value: float, attributes: Attributes) -> None:
        """Add to a counter of :data:`METRICS`."""

    def record(self, metric: str, value: float, attributes: Attributes) -> None:
        """Record a value in a histogram of :data:`METRICS`."""

    def watch(self, metric: str, read: Callable[[], int]) -> None:
        """Report ``read()`` as (part of) a gauge of :data:`METRICS` until :meth:`unwatch`."""

    def unwatch(self, metric: str, read: Callable[[], int]) -> None:
        """Stop reporting ``read``."""
