"""#1 Per-call overhead: sequential ``tl.data.accounts()`` through an ``httpx.MockTransport``.

Subject: a Session given ``http_client=httpx.AsyncClient(transport=MockTransport(...))``
with a valid token seeded in its store, calling ``await tl.data.accounts(user=...)`` N
times in a row (token lookup, request building, retry bookkeeping, JSON decoding into
``list[Account]``). Baseline: the same transport and body through a plain
``httpx.AsyncClient``: ``client.get`` with the same headers, then ``json.loads``.

Both run in this process, alternating subject and baseline run by run. The figure is
CPU time per call (``time.process_time``), which a shared machine disturbs less than
wall time; wall time per call is kept in the JSON for reference.

Observability (issue #23), each side by side with the same SDK without it: the SDK with
``OpenTelemetry`` on an SDK tracer and meter provider (spans to an exporter that drops
them, metrics aggregated in memory), and with ``OpenTelemetry`` on the API's default
no-op providers (instrumented, but the application configured no OpenTelemetry SDK).
"""

from __future__ import annotations

import gc
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import httpx

from ._common import Figure, Settings, log
from ._payloads import accounts_body

API = "https://api.bench.invalid"
AUTH = "https://auth.bench.invalid"
USER = "alice"
ACCESS_TOKEN = "bench-access-token-0123456789abcdef"


def _handler(body: bytes) -> httpx.MockTransport:
    headers = {"content-type": "application/json", "x-tl-correlation-id": "bench"}

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=body)

    return httpx.MockTransport(handle)


class _Sdk:
    """A Session on the mock transport with a valid token seeded for ``USER``."""

    def __init__(self, body: bytes, telemetry: Any = None, token_store: Any = None) -> None:
        from truelayer_async import Environment, Session

        self.client = httpx.AsyncClient(transport=_handler(body), follow_redirects=False)
        self.session = Session(
            "bench-client",
            "bench-secret",
            environment=Environment.custom(AUTH, API, name="bench"),
            http_client=self.client,
            telemetry=telemetry,
            token_store=token_store,
        )

    async def open(self) -> None:
        from truelayer_async import Secret, Token, TokenRecord, TokenType

        await self.session.open()
        token = Token(
            access_token=Secret(ACCESS_TOKEN),
            refresh_token=Secret("bench-refresh-token"),
            token_type=TokenType.DATA,
            expires_at=datetime.now(timezone.utc) + timedelta(hours=1),
        )
        key = self.session._core.tokens.key(TokenType.DATA, USER)
        await self.session.token_store.set(key, TokenRecord(token=token))

    async def close(self) -> None:
        await self.session.aclose()
        await self.client.aclose()

    async def calls(self, n: int) -> tuple[float, float, int]:
        data = self.session.data
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            accounts = await data.accounts(user=USER)
        return time.process_time() - cpu, time.perf_counter() - wall, len(accounts)


class _Raw:
    """The baseline: a plain AsyncClient on the same transport, ``get`` + ``json.loads``."""

    def __init__(self, body: bytes) -> None:
        self.client = httpx.AsyncClient(transport=_handler(body), follow_redirects=False)

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        await self.client.aclose()

    async def calls(self, n: int) -> tuple[float, float, int]:
        client = self.client
        url = f"{API}/data/v1/accounts"
        headers = {"Accept": "application/json", "Authorization": f"Bearer {ACCESS_TOKEN}"}
        data: Any = None
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            response = await client.get(url, headers=headers)
            response.raise_for_status()
            data = json.loads(response.content)
        return time.process_time() - cpu, time.perf_counter() - wall, len(data["results"])


async def _sdk_calls(calls: int, body: bytes) -> tuple[float, float, int]:
    """``calls`` SDK calls on a fresh Session (used by the profiler)."""
    sdk = _Sdk(body)
    await sdk.open()
    try:
        await sdk.calls(10)
        return await sdk.calls(calls)
    finally:
        await sdk.close()


async def _alternate(
    runs: int, calls: int, sdk: Any, raw: Any, name: str = "#1 overhead"
) -> tuple[list[float], list[float], list[float], list[float]]:
    await sdk.open()
    await raw.open()
    sdk_cpu: list[float] = []
    raw_cpu: list[float] = []
    sdk_wall: list[float] = []
    raw_wall: list[float] = []
    try:
        await sdk.calls(max(10, calls // 10))  # warm-up
        await raw.calls(max(10, calls // 10))
        for index in range(runs):
            if index % max(1, runs // 3) == 0:
                log(f"{name} run {index + 1}/{runs} ({calls} calls each side)")
            order = (sdk, raw) if index % 2 == 0 else (raw, sdk)
            for side in order:
                gc.collect()
                cpu, wall, count = await side.calls(calls)
                assert count == 2, count
                (sdk_cpu if side is sdk else raw_cpu).append(cpu / calls * 1e6)
                (sdk_wall if side is sdk else raw_wall).append(wall / calls * 1e6)
    finally:
        await sdk.close()
        await raw.close()
    return sdk_cpu, raw_cpu, sdk_wall, raw_wall


def run(settings: Settings) -> list[Figure]:
    body = accounts_body()
    calls = settings.overhead_calls
    runs = settings.runs * 3
    sdk_cpu, raw_cpu, sdk_wall, raw_wall = anyio.run(
        _alternate, runs, calls, _Sdk(body), _Raw(body)
    )
    return [
        Figure(
            key="overhead",
            number="1",
            workload="N sequential `tl.data.accounts()` via `httpx.MockTransport`",
            metric="CPU time per call",
            unit="µs",
            samples=sdk_cpu,
            baseline="raw `httpx` `client.get` + `json.loads`, same transport",
            baseline_samples=raw_cpu,
            target="≤ 1.25×",
            target_ratio=1.25,
            notes=[
                f"{runs} alternating runs of {calls} calls per side in one process, "
                "one Session and one client reused; CPU time (`time.process_time`) per call. "
                f"Wall time per call, median: SDK {_median(sdk_wall):.0f} µs, "
                f"raw {_median(raw_wall):.0f} µs.",
                "The body is a 2-account `/accounts` response (947 bytes); the SDK also "
                "builds two frozen `Account` models per call (Decimal/datetime parsing).",
            ],
            extra={"wall_us_sdk": sdk_wall, "wall_us_raw": raw_wall},
        ),
        *_observability(settings, body, runs, calls),
    ]


class _DropSpans:
    """A span exporter that keeps nothing: the SDK's own cost is what is measured."""

    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _observability(settings: Settings, body: bytes, runs: int, calls: int) -> list[Figure]:
    try:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        from truelayer_async.otel import OpenTelemetry
    except ImportError as exc:
        return [_not_measured(key, str(exc)) for key in ("overhead_otel", "overhead_otel_noop")]
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(_DropSpans()))  # type: ignore[arg-type]
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    traced = OpenTelemetry(tracer_provider=tracer_provider, meter_provider=meter_provider)
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.trace import NoOpTracerProvider

    noop = OpenTelemetry(tracer_provider=NoOpTracerProvider(), meter_provider=NoOpMeterProvider())
    figures = []
    for key, telemetry, label, what in (
        ("overhead_otel", traced, "tracing on",
         "OpenTelemetry SDK providers: 3 spans and 2 metric points per call"),
        ("overhead_otel_noop", noop, "OTel no-op",
         "OpenTelemetry's default no-op providers (no SDK configured)"),
    ):  # fmt: skip
        on, off, on_wall, off_wall = anyio.run(
            _alternate, runs, calls, _Sdk(body, telemetry), _Sdk(body), f"#1 {label}"
        )
        figures.append(
            Figure(
                key=key,
                number="1",
                workload=f"#1 with `telemetry=OpenTelemetry()`: {what}",
                metric="CPU time per call",
                unit="µs",
                samples=on,
                baseline="the same SDK call without telemetry, same transport",
                baseline_samples=off,
                target="reported",
                target_ratio=None,
                label=label,
                notes=[
                    f"{runs} alternating runs of {calls} calls per side in one process. "
                    f"Wall time per call, median: with {_median(on_wall):.0f} µs, "
                    f"without {_median(off_wall):.0f} µs.",
                    "Spans per call: the logical call, its HTTP attempt, the token store "
                    "read; metric points: request duration, store latency.",
                ],
                extra={"wall_us_on": on_wall, "wall_us_off": off_wall},
            )
        )
    tracer_provider.shutdown()
    meter_provider.shutdown()
    return figures


def _not_measured(key: str, reason: str) -> Figure:
    return Figure(
        key=key, number="1", workload="#1 with telemetry", metric="CPU time per call",
        unit="µs", samples=[], baseline="", baseline_samples=[], target="reported",
        target_ratio=None, status=f"not measured: {reason}",
    )  # fmt: skip


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)
