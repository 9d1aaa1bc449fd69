"""Issue #23: OpenTelemetry spans and metrics, checked with the in-memory exporter and reader.

The span tree and the metrics of a data call, a refresh under 100 concurrent callers, a
retried 503, a 429 wait, a Payments write retried with its idempotency key, and webhook
verifications.
"""

from __future__ import annotations

import hashlib
from typing import Any

import anyio
import httpx
import pytest
import respx
from opentelemetry.trace import SpanKind, StatusCode

from tests.observability.conftest import Captured
from tests.support.backends import BACKENDS
from tests.support.doubles import RecordingSleep
from tests.support.token_endpoint import TOKEN_URL
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.testing import FakeClock, FakeTrueLayer

pytestmark = pytest.mark.anyio

ACCOUNTS = "/data/v1/accounts"
PAYMENTS = "https://api.truelayer-sandbox.com/v3/payments"
WEBHOOK_URI = "https://merchant.example/hooks/truelayer"
WEBHOOK: dict[str, Any] = {
    "type": "payment_executed",
    "event_version": 1,
    "event_id": "b8d4dda0-ff2c-4d77-a6da-4615e4bad941",
    "payment_id": "60c0a60ed8d7-4a4c-a7a7-5b6c8e0e8a2a",
    "payment_method": {"type": "bank_transfer", "provider_id": "mock-payments-gb-redirect"},
    "executed_at": "2024-05-01T10:00:00.123Z",
}


def user_hash(user: str) -> str:
    return hashlib.sha256(user.encode()).hexdigest()[:16]


async def test_a_data_call_is_one_span_with_its_attempt_and_store_read(
    fake: FakeTrueLayer, captured: Captured
) -> None:
    async with fake.session(telemetry=captured.telemetry) as tl:
        await fake.connect(tl, user="alice")
        captured.exporter.clear()
        await tl.data.accounts(user="alice")

    call = captured.span("truelayer.data.accounts")
    assert call.parent is None and call.kind is SpanKind.INTERNAL
    attrs = dict(call.attributes or {})
    assert attrs["truelayer.operation"] == "truelayer.data.accounts"
    assert attrs["truelayer.api"] == "data"
    assert attrs["http.request.method"] == "GET"
    assert attrs["http.response.status_code"] == 200
    assert attrs["truelayer.retry_count"] == 0
    assert attrs["truelayer.outcome"] == "success"
    assert attrs["truelayer.user.hash"] == user_hash("alice")
    assert "truelayer.user.id" not in attrs
    assert attrs["truelayer.correlation_id"]

    (attempt,) = captured.children(call, "GET")
    a = dict(attempt.attributes or {})
    assert attempt.kind is SpanKind.CLIENT
    assert a["url.full"] == f"{tl.environment.api_url}{ACCOUNTS}"
    assert a["server.address"] == httpx.URL(tl.environment.api_url).host
    assert a["http.response.status_code"] == 200
    assert a["truelayer.correlation_id"] == attrs["truelayer.correlation_id"]
    assert "http.request.resend_count" not in a and "error.type" not in a
    (read,) = captured.children(call, "truelayer.store.get")
    assert read.attributes == {"truelayer.store.operation": "get"}
    assert call.start_time <= attempt.start_time <= attempt.end_time <= call.end_time

    assert (
        captured.total(
            "truelayer.request.duration",
            **{"truelayer.operation": "truelayer.data.accounts", "http.response.status_code": 200},
        )
        == 1
    )
    assert captured.total("truelayer.store.duration", **{"truelayer.store.operation": "get"})
    assert captured.total("truelayer.http.retries") == 0


async def test_a_refresh_under_100_callers_is_one_flight_span_and_100_waiters(
    fake: FakeTrueLayer, captured: Captured
) -> None:
    async with fake.session(telemetry=captured.telemetry) as tl:
        token = await fake.connect(tl, user="alice")
        fake.clock.advance(token.expires_in + 1)
        captured.exporter.clear()
        results: list[Any] = []

        async def call() -> None:
            results.append(await tl.data.accounts(user="alice"))

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(call)
    assert len(results) == 100
    assert fake.count("/connect/token") == 2  # the exchange, then one refresh

    (flight,) = captured.spans("truelayer.token.refresh")
    f = dict(flight.attributes or {})
    assert f["truelayer.outcome"] == "success" and f["truelayer.token_type"] == "data"
    assert f["truelayer.user.hash"] == user_hash("alice")
    # The flight nests under the call that started it; its token request under it.
    calls = captured.spans("truelayer.data.accounts")
    assert len(calls) == 100
    assert flight.parent is not None
    assert flight.parent.span_id in {c.context.span_id for c in calls}
    (post,) = captured.children(flight, "POST")
    assert post.attributes is not None
    assert post.attributes["url.full"].endswith("/connect/token")
    assert len(captured.children(flight, "truelayer.lock.wait")) == 1
    assert captured.children(flight, "truelayer.store.set")

    assert captured.total("truelayer.token.waiters", **{"truelayer.flight": "refresh"}) == 100
    assert (
        captured.total(
            "truelayer.token.refreshes", **{"truelayer.flight": "refresh", "outcome": "success"}
        )
        == 1
    )


async def test_a_retried_503_shows_two_attempts_and_a_retry(
    fake: FakeTrueLayer, captured: Captured
) -> None:
    async with fake.session(telemetry=captured.telemetry) as tl:
        await fake.connect(tl, user="alice")
        captured.exporter.clear()
        fake.fail_next(ACCOUNTS, 503)
        await tl.data.accounts(user="alice")

    call = captured.span("truelayer.data.accounts")
    assert call.attributes is not None
    assert call.attributes["truelayer.retry_count"] == 1
    assert call.attributes["http.response.status_code"] == 200
    assert call.status.status_code is not StatusCode.ERROR
    first, second = captured.children(call, "GET")
    assert first.attributes is not None and second.attributes is not None
    assert first.attributes["http.response.status_code"] == 503
    assert first.attributes["error.type"] == "503"
    assert first.status.status_code is StatusCode.ERROR
    assert second.attributes["http.request.resend_count"] == 1
    assert second.attributes["http.response.status_code"] == 200
    labels = {"truelayer.operation": "truelayer.data.accounts", "reason": "503"}
    assert captured.total("truelayer.http.retries", **labels) == 1
    assert captured.total("truelayer.rate_limit.waits") == 0


async def test_a_429_wait_is_counted_with_its_duration(
    fake: FakeTrueLayer, captured: Captured
) -> None:
    async with fake.session(telemetry=captured.telemetry) as tl:
        await fake.connect(tl, user="alice")
        fake.fail_next(ACCOUNTS, 429, headers={"Retry-After": "2"})
        await tl.data.accounts(user="alice")

    assert captured.total("truelayer.http.retries", reason="429") == 1
    assert captured.total("truelayer.rate_limit.waits") == 1
    (wait,) = captured.points("truelayer.rate_limit.wait_duration")
    assert wait.count == 1 and wait.sum == pytest.approx(2.0)
    first, _ = captured.children(captured.span("truelayer.data.accounts"), "GET")
    assert first.attributes is not None and first.attributes["error.type"] == "429"


async def test_an_error_ends_the_call_span_with_its_class_and_status(
    fake: FakeTrueLayer, captured: Captured
) -> None:
    async with fake.session(telemetry=captured.telemetry, max_retries=0) as tl:
        await fake.connect(tl, user="alice")
        fake.fail_next(ACCOUNTS, 503)
        with pytest.raises(e.DataApiError) as info:
            await tl.data.accounts(user="alice")

    call = captured.span("truelayer.data.accounts")
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes is not None
    assert call.attributes["error.type"] == type(info.value).__name__
    assert call.attributes["truelayer.outcome"] == "error"
    assert call.attributes["http.response.status_code"] == 503
    labels = {"error.type": type(info.value).__name__, "http.response.status_code": 503}
    assert captured.total("truelayer.request.duration", **labels) == 1


async def test_a_payments_write_retried_with_its_key_is_one_call_span(
    captured: Captured,
) -> None:
    async with Session(
        "client", "secret", clock=FakeClock(), sleep=RecordingSleep(), telemetry=captured.telemetry
    ) as tl:
        with respx.mock(assert_all_called=False) as wire:
            wire.post(TOKEN_URL).mock(
                return_value=httpx.Response(
                    200, json={"access_token": "cc-1", "expires_in": 3600, "token_type": "Bearer"}
                )
            )
            api = wire.post(PAYMENTS).mock(
                side_effect=[httpx.Response(503), httpx.Response(201, json={"id": "p1"})]
            )
            await tl._core.payments_request(
                "POST", "/payments", json_body={"amount_in_minor": 1}, idempotent=True
            )
    keys = {call.request.headers["Idempotency-Key"] for call in api.calls}
    assert len(keys) == 1

    call = captured.span("truelayer.payments.request")
    assert call.attributes is not None
    assert call.attributes["truelayer.retry_count"] == 1
    assert call.attributes["http.response.status_code"] == 201
    assert call.attributes["truelayer.api"] == "payments"
    first, second = captured.children(call, "POST")
    assert first.attributes is not None and second.attributes is not None
    assert first.attributes["http.response.status_code"] == 503
    assert second.attributes["http.request.resend_count"] == 1
    (grant,) = captured.children(call, "truelayer.token.client_credentials")
    (token_post,) = captured.children(grant, "POST")
    assert token_post.attributes is not None
    assert token_post.attributes["url.full"] == TOKEN_URL
    labels = {"truelayer.operation": "truelayer.payments.request", "reason": "503"}
    assert captured.total("truelayer.http.retries", **labels) == 1
    assert captured.total(
        "truelayer.token.refreshes", **{"truelayer.flight": "client_credentials"}
    )


async def test_webhook_verifications_are_spans_counted_by_outcome(
    fake: FakeTrueLayer, captured: Captured
) -> None:
    async with fake.session(telemetry=captured.telemetry) as tl:
        headers, body = fake.signed_webhook(WEBHOOK_URI, WEBHOOK)
        await tl.webhooks.verify(headers, body, path="/hooks/truelayer")
        headers, body = fake.signed_webhook(WEBHOOK_URI, WEBHOOK, signing="forged")
        with pytest.raises(e.WebhookSignatureError):
            await tl.webhooks.verify(headers, body, path="/hooks/truelayer")

    ok, refused = captured.spans("truelayer.webhooks.verify")
    assert ok.attributes is not None and ok.attributes["truelayer.outcome"] == "verified"
    assert refused.status.status_code is StatusCode.ERROR
    assert refused.attributes is not None
    assert refused.attributes["truelayer.outcome"] == "WebhookSignatureError"
    (fetch,) = captured.children(ok, "truelayer.webhooks.key_set")
    assert len(captured.children(fetch, "GET")) == 1
    assert captured.total("truelayer.webhook.verifications", outcome="verified") == 1
    assert captured.total("truelayer.webhook.verifications", outcome="WebhookSignatureError") == 1


async def test_user_ids_are_recorded_only_when_asked(fake: FakeTrueLayer) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from truelayer_async.otel import OpenTelemetry

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    salted = OpenTelemetry(tracer_provider=provider, user_hash_salt="pepper")
    plain = OpenTelemetry(tracer_provider=provider, record_user_ids=True)
    for telemetry in (salted, plain):
        async with fake.session(telemetry=telemetry) as tl:
            await fake.connect(tl, user="alice")
            await tl.data.me(user="alice")
    first, second = (s for s in exporter.get_finished_spans() if s.name == "truelayer.data.me")
    assert first.attributes is not None and second.attributes is not None
    expected = hashlib.sha256(b"pepperalice").hexdigest()[:16]
    assert first.attributes["truelayer.user.hash"] == expected
    assert "truelayer.user.id" not in first.attributes
    assert second.attributes["truelayer.user.id"] == "alice"
    provider.shutdown()


async def test_a_locking_store_shows_both_lock_waits_and_its_operations(
    fake: FakeTrueLayer, captured: Captured, tmp_path: Any
) -> None:
    from truelayer_async.stores import SqliteTokenStore

    store = SqliteTokenStore(tmp_path / "tokens.db")
    async with fake.session(telemetry=captured.telemetry, token_store=store) as tl:
        token = await fake.connect(tl, user="alice")
        fake.clock.advance(token.expires_in + 1)
        captured.exporter.clear()
        await tl.data.accounts(user="alice")

    flight = captured.span("truelayer.token.refresh")
    waits = captured.children(flight, "truelayer.lock.wait")
    assert sorted(str((w.attributes or {})["truelayer.lock"]) for w in waits) == ["key", "store"]
    ops = {s.name for s in captured.children(flight)}
    assert {"truelayer.store.get", "truelayer.store.set", "POST"} <= ops
    assert captured.total("truelayer.store.duration", **{"truelayer.store.operation": "set"}) >= 1


def _connections(captured: Captured) -> float:
    (point,) = captured.points("truelayer.http.connections")
    return float(point.value)


async def test_open_connections_are_a_gauge_over_the_open_sessions(
    fake: FakeTrueLayer, captured: Captured
) -> None:
    with fake.serve_in_thread():  # real sockets: a pool that holds connections
        tl = Session(
            "unused", "secret", environment=fake.environment, telemetry=captured.telemetry
        )
        async with tl:
            assert _connections(captured) == 0
            await tl.auth.providers()
            assert _connections(captured) == 1  # kept alive in the Session's pool
        assert _connections(captured) == 0  # closed: no longer counted


@pytest.mark.parametrize("anyio_backend", BACKENDS)
async def test_a_flight_nests_under_its_call_on_every_backend(
    fake: FakeTrueLayer, captured: Captured
) -> None:
    from truelayer_async.correlation import client_correlation_id

    async with fake.session(telemetry=captured.telemetry) as tl:
        token = await fake.connect(tl, user="alice")
        fake.clock.advance(token.expires_in + 1)
        with client_correlation_id("on-both"):
            await tl.data.accounts(user="alice")

    call = captured.span("truelayer.data.accounts")
    (flight,) = captured.children(call, "truelayer.token.refresh")
    (post,) = captured.children(flight, "POST")
    # The flight's task starts from its caller's context: the caller's id goes with it.
    assert (post.attributes or {})["truelayer.client_correlation_id"] == "on-both"
