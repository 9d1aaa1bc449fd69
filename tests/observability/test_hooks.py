"""Issue #23: event hooks, client correlation ids and structured log fields, without
OpenTelemetry."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import httpx
import pytest

from truelayer_async import errors as e
from truelayer_async.correlation import (
    client_correlation_id,
    get_client_correlation_id,
    reset_client_correlation_id,
    set_client_correlation_id,
)
from truelayer_async.hooks import RefreshEvent, RequestEvent, ResponseEvent, RetryEvent
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio

ACCOUNTS = "/data/v1/accounts"


async def test_hooks_see_each_request_response_retry_and_refresh(fake: FakeTrueLayer) -> None:
    seen: list[Any] = []

    async def async_hook(event: Any) -> None:
        seen.append(event)

    hooks = {"request": [async_hook], "response": async_hook, "retry": [seen.append],
             "refresh": [async_hook]}  # fmt: skip
    async with fake.session(event_hooks=hooks) as tl:
        token = await fake.connect(tl, user="alice")
        fake.clock.advance(token.expires_in + 1)
        seen.clear()
        fake.fail_next(ACCOUNTS, 503)
        await tl.data.accounts(user="alice")

    kinds = [type(event).__name__ for event in seen]
    assert kinds == [
        "RequestEvent", "ResponseEvent", "RefreshEvent",  # the refresh flight's POST first
        "RequestEvent", "ResponseEvent", "RetryEvent", "RequestEvent", "ResponseEvent",
    ]  # fmt: skip
    token_request, token_response, refresh = seen[:3]
    assert isinstance(token_request, RequestEvent)
    assert token_request.operation == "truelayer.token.refresh"
    assert isinstance(token_response, ResponseEvent) and token_response.status_code == 200
    assert isinstance(refresh, RefreshEvent)
    assert (refresh.flight, refresh.token_type, refresh.user, refresh.outcome) == (
        "refresh", "data", "alice", "success"
    )  # fmt: skip
    first, failed, retry, again, ok = seen[3:]
    assert isinstance(first, RequestEvent) and first.attempt == 0
    assert first.operation == "truelayer.data.accounts" and first.method == "GET"
    assert first.url.endswith(ACCOUNTS) and "?" not in first.url
    assert isinstance(failed, ResponseEvent) and failed.status_code == 503
    assert failed.correlation_id and failed.elapsed >= 0
    assert isinstance(retry, RetryEvent)
    assert (retry.attempt, retry.reason, retry.path) == (0, "503", ACCOUNTS)
    assert retry.delay >= 0
    assert isinstance(again, RequestEvent) and again.attempt == 1
    assert isinstance(ok, ResponseEvent) and ok.status_code == 200 and ok.error is None


async def test_a_failing_hook_is_logged_and_never_changes_the_outcome(
    fake: FakeTrueLayer, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: Any) -> None:
        raise RuntimeError("hook bug")

    async with fake.session(event_hooks={"response": [broken]}) as tl:
        await fake.connect(tl, user="alice")
        accounts = await tl.data.accounts(user="alice")
    assert accounts
    warnings = [r for r in caplog.records if r.name == "truelayer_async" and r.levelno == 30]
    assert warnings and "RuntimeError" in warnings[0].getMessage()
    assert warnings[0].__dict__["truelayer_event"] == "response"


@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        ({"responses": []}, "unknown event hook 'responses'"),
        ({"request": ["not callable"]}, "must be callables"),
    ],
)
async def test_bad_event_hooks_are_a_configuration_error(
    fake: FakeTrueLayer, hooks: Any, message: str
) -> None:
    with pytest.raises(e.ConfigurationError, match=message):
        fake.session(event_hooks=hooks)


async def test_telemetry_must_be_a_telemetry(fake: FakeTrueLayer) -> None:
    with pytest.raises(e.ConfigurationError, match="telemetry must be a Telemetry"):
        fake.session(telemetry=object())


async def test_no_hooks_and_no_telemetry_means_no_observer(fake: FakeTrueLayer) -> None:
    async with fake.session(event_hooks={"request": []}) as tl:
        assert tl._core.observer is None
        assert tl._core.store is tl._core.token_store
        assert tl._core.requester().observer is None


async def test_the_client_correlation_id_goes_on_the_wire_events_logs_and_errors(
    fake: FakeTrueLayer, caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[str | None] = []

    async def wire(request: httpx.Request) -> None:
        sent.append(request.headers.get("X-Client-Correlation-Id"))

    events: list[Any] = []
    client = fake.http_client(event_hooks={"request": [wire]})
    caplog.set_level(logging.DEBUG, logger="truelayer_async")
    async with fake.session(http_client=client, event_hooks={"response": [events.append]}) as tl:
        await fake.connect(tl, user="alice")
        sent.clear()
        with client_correlation_id("web-req-42"):
            await tl.data.accounts(user="alice")
            fake.fail_next(ACCOUNTS, 400)
            with pytest.raises(e.DataApiError) as info:
                await tl.data.accounts(user="alice")
        await tl.data.accounts(user="alice")  # outside the block: no header
    assert sent == ["web-req-42", "web-req-42", None]
    assert info.value.client_correlation_id == "web-req-42"
    assert [ev.client_correlation_id for ev in events[-3:]] == ["web-req-42", "web-req-42", None]
    records = [r for r in caplog.records if getattr(r, "truelayer_path", None) == ACCOUNTS]
    assert len(records) == 3
    first = records[0]
    assert first.__dict__["truelayer_client_correlation_id"] == "web-req-42"
    assert first.__dict__["truelayer_operation"] == "truelayer.data.accounts"
    assert first.__dict__["truelayer_method"] == "GET"
    assert first.__dict__["truelayer_status"] == 200
    assert first.__dict__["truelayer_attempt"] == 1
    assert first.__dict__["truelayer_correlation_id"]
    assert records[2].__dict__["truelayer_client_correlation_id"] is None


async def test_each_task_keeps_its_own_correlation_id(fake: FakeTrueLayer) -> None:
    sent: list[str] = []

    async def wire(request: httpx.Request) -> None:
        if request.url.path == ACCOUNTS:
            sent.append(request.headers["X-Client-Correlation-Id"])

    client = fake.http_client(event_hooks={"request": [wire]})
    async with fake.session(http_client=client) as tl:
        await fake.connect(tl, user="alice")

        async def one(name: str) -> None:
            token = set_client_correlation_id(name)
            try:
                await anyio.sleep(0)
                await tl.data.accounts(user="alice")
                assert get_client_correlation_id() == name
            finally:
                reset_client_correlation_id(token)

        async with anyio.create_task_group() as tg:
            for n in range(5):
                tg.start_soon(one, f"task-{n}")
    assert sorted(sent) == [f"task-{n}" for n in range(5)]
    assert get_client_correlation_id() is None


@pytest.mark.parametrize("bad", ["", "has space", "new\nline", "x" * 129, "caf\u00e9"])
def test_a_bad_correlation_id_is_refused_before_anything_is_sent(bad: str) -> None:
    with pytest.raises(e.InvalidParameterError, match="client correlation id"):
        set_client_correlation_id(bad)
    assert get_client_correlation_id() is None


async def _observer_functions_run(fake: FakeTrueLayer, **options: Any) -> set[str]:
    import sys

    ran: set[str] = set()

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename.endswith("_observe.py"):
            ran.add(frame.f_code.co_name)

    async with fake.session(**options) as tl:
        token = await fake.connect(tl, user="alice")
        fake.clock.advance(token.expires_in + 1)  # a refresh, a retry and a store write too
        fake.fail_next(ACCOUNTS, 503)
        sys.setprofile(profile)
        try:
            await tl.data.accounts(user="alice")
        finally:
            sys.setprofile(None)
    return ran


async def test_without_hooks_or_telemetry_no_observer_code_runs(fake: FakeTrueLayer) -> None:
    assert await _observer_functions_run(fake) == set()
    # The probe sees the observer when there is one.
    watched = await _observer_functions_run(fake, event_hooks={"retry": [lambda event: None]})
    assert {"call", "request", "response", "retry", "flight", "store_op"} <= watched
