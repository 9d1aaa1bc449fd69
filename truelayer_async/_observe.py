"""Watching the SDK work: event hooks, telemetry (spans and metrics) and log fields.

The core never imports OpenTelemetry: it reports to an :class:`Observer`, which runs the
user's event hooks and feeds a :class:`Telemetry` (a no-op base here;
``truelayer_async.otel.OpenTelemetry`` maps it onto OpenTelemetry). A Session with
neither hooks nor telemetry has no observer (``core.observer is None``): a request then
pays an attribute check or two and nothing else.

What is recorded never holds a secret: no header but TrueLayer's ids and the client
correlation id, no body, no query string, and a user only as a hash unless the
telemetry opts in (``record_user_ids``).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from . import errors as e
from ._pool_repair import open_connections
from ._request import LeanRequest, wire_path
from .correlation import current as _client_correlation_id
from .hooks import (
    EVENT_NAMES,
    METRICS,
    Attributes,
    EventHooks,
    RefreshEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    Telemetry,
)

if TYPE_CHECKING:
    import httpx

    from ._http import Response
    from ._request import Call
    from .stores import TokenStore
    from .tokens import TokenKey, TokenRecord

__all__ = [
    "METRICS",
    "FlightName",
    "ObservedStore",
    "Observer",
    "Telemetry",
    "observer_for",
    "operation_of",
]

log = logging.getLogger("truelayer_async")

T = TypeVar("T")
#: Span and metric names of the token flights, by the flight's own name.
FlightName = str
FLIGHT_OPERATIONS: dict[FlightName, str] = {
    "token refresh": "truelayer.token.refresh",
    "client-credentials grant": "truelayer.token.client_credentials",
    "token renewal": "truelayer.token.renewal",
    "token save": "truelayer.token.save",
    "code exchange": "truelayer.token.exchange",
    "connection extension": "truelayer.token.extend",
}


@attrs.define
class _Scope:
    """The logical call (or token flight) running in this context."""

    operation: str
    retries: int = 0
    status: int | None = None
    correlation_id: str | None = None


_SCOPE: ContextVar[_Scope | None] = ContextVar("truelayer_async_scope", default=None)


def operation_of(call: Call) -> str:
    """The operation a request belongs to: its own name, else that of the call (or
    token flight) running in this context, else ``truelayer.<api>.request``."""
    if call.operation:
        return call.operation
    scope = _SCOPE.get()
    return f"truelayer.{call.api.value}.request" if scope is None else scope.operation


class Observer:
    """Runs event hooks and feeds telemetry; one per Session that has either."""

    def __init__(self, hooks: Mapping[str, Sequence[Callable[[Any], Any]]], telemetry: Telemetry):
        self.telemetry = telemetry
        self._hooks = {name: tuple(hooks.get(name, ())) for name in EVENT_NAMES}

    # -- users --------------------------------------------------------------------------

    def user_attributes(self, user: str | None) -> Attributes:
        """How a user shows on a span: a hash unless the telemetry opts in."""
        if user is None:
            return {}
        tel = self.telemetry
        if tel.record_user_ids:
            return {"truelayer.user.id": user}
        return {"truelayer.user.hash": _user_hash(tel.user_hash_salt, user)}

    # -- logical calls ------------------------------------------------------------------

    async def call(
        self, operation: str, method: str, api: str, user: str | None, work: Awaitable[Response]
    ) -> Response:
        """Await ``work`` (one logical call) inside its span; record its duration."""
        tel = self.telemetry
        scope = _Scope(operation)
        reset = _SCOPE.set(scope)
        attributes: Attributes = {
            "truelayer.operation": operation,
            "truelayer.api": api,
            "http.request.method": method,
        }
        attributes.update(self.user_attributes(user))
        client_cid = _client_correlation_id()
        if client_cid is not None:
            attributes["truelayer.client_correlation_id"] = client_cid
        span = tel.start_span(operation, attributes)
        started = time.perf_counter()
        error: str | None = None
        try:
            return await work
        except BaseException as exc:
            error = type(exc).__name__
            if isinstance(exc, e.ApiError) and exc.status_code is not None:
                scope.status = exc.status_code
                scope.correlation_id = scope.correlation_id or exc.correlation_id
            raise
        finally:
            _SCOPE.reset(reset)
            end: Attributes = {
                "truelayer.retry_count": scope.retries,
                "truelayer.outcome": "error" if error else "success",
            }
            if scope.status is not None:
                end["http.response.status_code"] = scope.status
            if scope.correlation_id:
                end["truelayer.correlation_id"] = scope.correlation_id
            if error:
                end["error.type"] = error
            tel.end_span(span, end, error)
            labels: Attributes = {"truelayer.operation": operation}
            if scope.status is not None:
                labels["http.response.status_code"] = scope.status
            if error:
                labels["error.type"] = error
            tel.record("truelayer.request.duration", time.perf_counter() - started, labels)

    # -- attempts (from the requester) --------------------------------------------------

    async def request(self, call: Call, request: httpx.Request | LeanRequest, number: int) -> None:
        """Before an attempt is sent: the ``request`` hooks."""
        if self._hooks["request"]:
            event = RequestEvent(
                operation=operation_of(call),
                method=call.method,
                url=_url_of(request),
                attempt=number,
                client_correlation_id=_client_correlation_id(),
            )
            await self._emit("request", event)

    async def response(
        self,
        call: Call,
        request: httpx.Request | LeanRequest,
        number: int,
        started_ns: int,
        status: int | None,
        ids: tuple[str | None, str | None],
        failure: str | None,
    ) -> None:
        """After an attempt: its span, the call's running status, the ``response`` hooks.

        ``ids``: the response's X-Tl-Correlation-Id and Tl-Trace-Id, as the Requester read
        them (None for a header absent or no response)."""
        ended = time.perf_counter_ns()
        correlation_id, trace_id = ids
        scope = _SCOPE.get()
        if scope is not None:
            scope.status = status
            scope.correlation_id = correlation_id or trace_id or scope.correlation_id
        url = request.url
        full_url = _url_of(request)
        operation = operation_of(call)
        attributes: Attributes = {
            "http.request.method": call.method,
            "url.full": full_url,
            "server.address": url.host,
            "truelayer.operation": operation,
        }
        if url.port is not None:
            attributes["server.port"] = url.port
        if number:
            attributes["http.request.resend_count"] = number
        error = failure
        if status is not None:
            attributes["http.response.status_code"] = status
            if status >= 400:
                error = str(status)
        if error is not None:
            attributes["error.type"] = error
        if correlation_id:
            attributes["truelayer.correlation_id"] = correlation_id
        if trace_id:
            attributes["truelayer.trace_id"] = trace_id
        client_cid = _client_correlation_id()
        if client_cid is not None:
            attributes["truelayer.client_correlation_id"] = client_cid
        start, end = _wall_clock(started_ns, ended)
        self.telemetry.record_span(call.method, start, end, attributes, error, client=True)
        if self._hooks["response"]:
            event = ResponseEvent(
                operation=operation,
                method=call.method,
                url=full_url,
                attempt=number,
                status_code=status,
                error=failure,
                correlation_id=correlation_id,
                trace_id=trace_id,
                elapsed=(ended - started_ns) / 1e9,
                client_correlation_id=client_cid,
            )
            await self._emit("response", event)

    async def retry(self, call: Call, number: int, reason: str, delay: float) -> None:
        """Before the SDK sleeps ``delay`` s and retries: metrics and the ``retry`` hooks."""
        scope = _SCOPE.get()
        if scope is not None:
            scope.retries += 1
        tel = self.telemetry
        operation = operation_of(call)
        tel.add("truelayer.http.retries", 1, {"truelayer.operation": operation, "reason": reason})
        if reason == "429":
            self.rate_limit_wait(delay)
        if self._hooks["retry"]:
            event = RetryEvent(
                operation=operation,
                method=call.method,
                path=call.path,
                attempt=number,
                reason=reason,
                delay=delay,
            )
            await self._emit("retry", event)

    def rate_limit_wait(self, seconds: float) -> None:
        """A wait caused by a 429 (a retry's sleep, or a shared rate gate's hold)."""
        self.telemetry.add("truelayer.rate_limit.waits", 1, {})
        self.telemetry.record("truelayer.rate_limit.wait_duration", seconds, {})

    # -- token flights ------------------------------------------------------------------

    async def flight(
        self, name: str, key: TokenKey, lock: Any, body: Callable[[], Awaitable[T]]
    ) -> T:
        """Run a token flight's ``body`` under ``lock`` inside its span (lock wait timed)."""
        tel = self.telemetry
        operation, kind = _flight_names(name)
        _SCOPE.set(_Scope(operation))  # this is the flight's own task: nothing to reset
        attributes: Attributes = {
            "truelayer.operation": operation,
            "truelayer.token_type": key.token_type.value,
        }
        attributes.update(self.user_attributes(key.user))
        span = tel.start_span(operation, attributes)
        started = time.perf_counter()
        error: str | None = None
        stopped = False  # cancelled (the loop is shutting down): no hook is awaited then
        try:
            async with self.lock_wait("key", lock):
                return await body()
        except BaseException as exc:
            error = type(exc).__name__
            stopped = not isinstance(exc, Exception)
            raise
        finally:
            outcome = error or "success"
            tel.end_span(span, {"truelayer.outcome": outcome}, error)
            tel.add("truelayer.token.refreshes", 1, {"truelayer.flight": kind, "outcome": outcome})
            if self._hooks["refresh"] and not stopped:
                event = RefreshEvent(
                    flight=kind,
                    token_type=key.token_type.value,
                    user=key.user,
                    outcome=outcome,
                    elapsed=time.perf_counter() - started,
                )
                await self._emit("refresh", event)

    def flight_waiter(self, name: str) -> None:
        """One more caller is waiting for a token flight."""
        _, kind = _flight_names(name)
        self.telemetry.add("truelayer.token.waiters", 1, {"truelayer.flight": kind})

    @asynccontextmanager
    async def lock_wait(self, kind: str, lock: Any) -> Any:
        """Hold ``lock`` (an async context manager) for the block; time the wait for it."""
        started = time.perf_counter_ns()
        async with lock:
            self._leaf("truelayer.lock.wait", started, {"truelayer.lock": kind}, None)
            yield

    # -- token store --------------------------------------------------------------------

    async def store_op(self, op: str, work: Awaitable[T]) -> T:
        """Await one token store operation, recording its span and latency."""
        started = time.perf_counter_ns()
        error: str | None = None
        try:
            return await work
        except BaseException as exc:
            error = type(exc).__name__
            raise
        finally:
            elapsed = self._leaf(
                f"truelayer.store.{op}", started, {"truelayer.store.operation": op}, error
            )
            labels: Attributes = {"truelayer.store.operation": op, "outcome": error or "success"}
            self.telemetry.record("truelayer.store.duration", elapsed, labels)

    def _leaf(
        self, name: str, started_ns: int, attributes: Attributes, error: str | None
    ) -> float:
        ended = time.perf_counter_ns()
        start, end = _wall_clock(started_ns, ended)
        self.telemetry.record_span(name, start, end, attributes, error)
        return (ended - started_ns) / 1e9

    # -- connections --------------------------------------------------------------------

    def watch_connections(self, client: Any) -> Callable[[], None]:
        """Report ``client``'s open connections; returns what stops reporting them (its
        Session closed)."""
        tel = self.telemetry

        def read() -> int:
            return open_connections(client)

        tel.watch("truelayer.http.connections", read)
        return functools.partial(tel.unwatch, "truelayer.http.connections", read)

    # -- webhooks -----------------------------------------------------------------------

    async def webhook(self, work: Awaitable[T]) -> T:
        """Await one webhook verification inside its span; count it by outcome."""
        tel = self.telemetry
        span = tel.start_span("truelayer.webhooks.verify", {"truelayer.operation": "verify"})
        error: str | None = None
        try:
            return await work
        except BaseException as exc:
            error = type(exc).__name__
            raise
        finally:
            outcome = error or "verified"
            tel.end_span(span, {"truelayer.outcome": outcome}, error)
            tel.add("truelayer.webhook.verifications", 1, {"outcome": outcome})

    # -- hooks --------------------------------------------------------------------------

    async def _emit(self, name: str, event: object) -> None:
        # A failing hook is logged and skipped: watching a call never changes its outcome.
        for hook in self._hooks[name]:
            try:
                result = hook(event)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                log.warning(
                    "a %s event hook raised %s; ignored",
                    name,
                    type(exc).__name__,
                    extra={"truelayer_event": name},
                )


class ObservedStore:
    """A token store whose ``get``, ``set`` and ``delete`` are timed by an observer."""

    def __init__(self, store: TokenStore, observer: Observer) -> None:
        self._store = store
        self._observer = observer

    def get(self, key: TokenKey) -> Awaitable[TokenRecord | None]:
        """The store's ``get``, observed."""
        return self._observer.store_op("get", self._store.get(key))

    def set(self, key: TokenKey, record: TokenRecord) -> Awaitable[None]:
        """The store's ``set``, observed."""
        return self._observer.store_op("set", self._store.set(key, record))

    def delete(self, key: TokenKey) -> Awaitable[None]:
        """The store's ``delete``, observed."""
        return self._observer.store_op("delete", self._store.delete(key))


def observer_for(event_hooks: EventHooks | None, telemetry: Telemetry | None) -> Observer | None:
    """The observer of a Session's settings (``None`` when there is nothing to run)."""
    hooks = _checked_hooks(event_hooks)
    if not hooks and telemetry is None:
        return None
    if telemetry is not None and not isinstance(telemetry, Telemetry):
        raise e.ConfigurationError(
            "telemetry must be a Telemetry, such as truelayer_async.otel.OpenTelemetry()"
        )
    return Observer(hooks, telemetry or Telemetry())


def _checked_hooks(event_hooks: EventHooks | None) -> dict[str, list[Callable[[Any], Any]]]:
    hooks: dict[str, list[Callable[[Any], Any]]] = {}
    for name, given in (event_hooks or {}).items():
        if name not in EVENT_NAMES:
            raise e.ConfigurationError(
                f"unknown event hook {name!r}: use {', '.join(sorted(EVENT_NAMES))}"
            )
        listed = [given] if callable(given) else list(given)
        if not all(callable(hook) for hook in listed):
            raise e.ConfigurationError(f"event_hooks[{name!r}] must be callables")
        if listed:
            hooks[name] = listed
    return hooks


def _wall_clock(started_ns: int, ended_ns: int) -> tuple[int, int]:
    # perf_counter nanoseconds to the wall clock's, as OpenTelemetry wants them.
    offset = time.time_ns() - ended_ns
    return started_ns + offset, ended_ns + offset


def _flight_names(name: str) -> tuple[str, str]:
    # A flight's span name (truelayer.token.refresh) and its kind (refresh).
    operation = FLIGHT_OPERATIONS.get(name, "truelayer.token.flight")
    return operation, operation.rsplit(".", 1)[-1]


@functools.lru_cache(maxsize=4096)
def _user_hash(salt: str, user: str) -> str:
    # Cached: a backend serves the same users over and over.
    return hashlib.sha256((salt + user).encode()).hexdigest()[:16]


def _url_of(request: httpx.Request | LeanRequest) -> str:
    # Never the query string: callers' own parameters may carry what they should not.
    # Built from the parsed parts (copy_with would parse the whole URL again).
    url = request.url
    return f"{url.scheme}://{url.netloc.decode('ascii')}{wire_path(url)}"
