"""OpenTelemetry traces and metrics for a Session (the ``otel`` extra).

::

    from truelayer_async.otel import OpenTelemetry

    async with Session(..., telemetry=OpenTelemetry()) as tl:
        ...

Spans: one per logical call, named by service and operation (``truelayer.data.accounts``,
``truelayer.payments.request``); under it one ``CLIENT`` span per HTTP attempt (named by
the method, with OpenTelemetry's HTTP attributes and TrueLayer's correlation and trace
ids), one per token flight (``truelayer.token.refresh``, ``...client_credentials``,
``...exchange``, ``...extend``), per token store operation (``truelayer.store.get``) and
per lock wait (``truelayer.lock.wait``); webhook verifications get
``truelayer.webhooks.verify``. Metrics: see :data:`truelayer_async.hooks.METRICS`.

Only this module imports OpenTelemetry; the rest of the SDK never does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    from opentelemetry import context, metrics, trace
    from opentelemetry.metrics import CallbackOptions, Observation
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError as exc:  # pragma: no cover - checked in a subprocess
    raise ImportError(
        "truelayer_async.otel needs OpenTelemetry: pip install 'truelayer-async[otel]'"
    ) from exc

from .hooks import METRICS, Attributes, Telemetry

__all__ = ["OpenTelemetry"]

SCOPE = "truelayer_async"


def _version() -> str:
    try:
        return version("truelayer-async")
    except PackageNotFoundError:  # pragma: no cover - a source checkout
        return "0"


class OpenTelemetry(Telemetry):
    """Send a Session's spans and metrics to OpenTelemetry.

    Args:
        tracer_provider: where spans go (default: the global tracer provider).
        meter_provider: where metrics go (default: the global meter provider).
        record_user_ids: put users' identifiers on spans as ``truelayer.user.id``; by
            default only ``truelayer.user.hash`` (the first 16 hex digits of
            SHA-256 of ``user_hash_salt`` + the identifier) is recorded.
        user_hash_salt: a salt for that hash (use one when identifiers are guessable,
            such as e-mail addresses). Metrics never carry a user.
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        record_user_ids: bool = False,
        user_hash_salt: str = "",
    ) -> None:
        self.record_user_ids = record_user_ids
        self.user_hash_salt = user_hash_salt
        release = _version()
        self._tracer = trace.get_tracer(SCOPE, release, tracer_provider=tracer_provider)
        meter = metrics.get_meter(SCOPE, release, meter_provider=meter_provider)
        self._instruments: dict[str, Any] = {}
        self._watched: dict[str, list[Callable[[], int]]] = {}
        for name, (kind, unit, description) in METRICS.items():
            if kind == "gauge":
                self._watched[name] = []
                meter.create_observable_gauge(
                    name, [self._gauge(name)], unit=unit, description=description
                )
                continue
            make = meter.create_counter if kind == "counter" else meter.create_histogram
            self._instruments[name] = make(name, unit=unit, description=description)

    def _gauge(self, name: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(sum(read() for read in self._watched[name]))]

        return observe

    def start_span(self, name: str, attributes: Attributes, *, client: bool = False) -> Any:
        """Start a span and make it current (its children nest under it)."""
        kind = SpanKind.CLIENT if client else SpanKind.INTERNAL
        span = self._tracer.start_span(name, kind=kind, attributes=attributes)
        token = context.attach(trace.set_span_in_context(span))
        return span, token

    def end_span(self, span: Any, attributes: Attributes, error: str | None) -> None:
        """End a span from :meth:`start_span` and restore the context before it."""
        started, token = span
        context.detach(token)
        started.set_attributes(attributes)
        if error is not None:
            started.set_status(Status(StatusCode.ERROR, error))
        started.end()

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
        """Record a finished leaf span under the current span."""
        kind = SpanKind.CLIENT if client else SpanKind.INTERNAL
        span = self._tracer.start_span(name, kind=kind, attributes=attributes, start_time=start_ns)
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error))
        span.end(end_time=end_ns)

    def add(self, metric: str, value: float, attributes: Attributes) -> None:
        """Add to a counter."""
        self._instruments[metric].add(value, attributes)

    def record(self, metric: str, value: float, attributes: Attributes) -> None:
        """Record a value in a histogram."""
        self._instruments[metric].record(value, attributes)

    def watch(self, metric: str, read: Callable[[], int]) -> None:
        """Add ``read()`` to a gauge, read when metrics are collected."""
        self._watched[metric].append(read)

    def unwatch(self, metric: str, read: Callable[[], int]) -> None:
        """Stop adding ``read()`` to a gauge."""
        if read in self._watched[metric]:
            self._watched[metric].remove(read)
