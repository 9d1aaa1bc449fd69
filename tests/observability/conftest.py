"""Fixtures for the observability tests: OpenTelemetry's in-memory exporter and reader."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from truelayer_async.otel import OpenTelemetry
from truelayer_async.testing import FakeTrueLayer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@attrs.define
class Captured:
    """A telemetry for a Session, and what it recorded."""

    telemetry: OpenTelemetry
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    _metrics: list[Any] = attrs.field(factory=list)

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """Finished spans (named ``name``), in the order they ended."""
        found = list(self.exporter.get_finished_spans())
        return [s for s in found if name is None or s.name == name]

    def span(self, name: str) -> ReadableSpan:
        """The one finished span named ``name``."""
        (found,) = self.spans(name)
        return found

    def children(self, parent: ReadableSpan, name: str | None = None) -> list[ReadableSpan]:
        """The finished spans whose parent is ``parent``."""
        span_id = parent.context.span_id
        return [
            s for s in self.spans(name) if s.parent is not None and s.parent.span_id == span_id
        ]

    def points(self, metric: str) -> list[Any]:
        """The data points of ``metric`` (collected now)."""
        data = self.reader.get_metrics_data()
        found: list[Any] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for item in scope.metrics:
                    if item.name == metric:
                        found.extend(item.data.data_points)
        return found

    def total(self, metric: str, **labels: Any) -> float:
        """The sum of a counter's (or count of a histogram's) points matching ``labels``."""
        total = 0.0
        for point in self.points(metric):
            if all(point.attributes.get(k) == v for k, v in labels.items()):
                total += getattr(point, "value", None) or getattr(point, "count", 0)
        return total


@pytest.fixture
def captured() -> Iterator[Captured]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    telemetry = OpenTelemetry(tracer_provider=tracer_provider, meter_provider=meter_provider)
    yield Captured(telemetry, exporter, reader)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTrueLayer]:
    async with FakeTrueLayer() as fake:
        yield fake
