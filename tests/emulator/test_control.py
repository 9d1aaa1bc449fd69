"""The control API in-process and through ``EmulatorControl``; the live clock; webhook
delivery through a transport; the shared server options."""

from __future__ import annotations

import argparse
import time
from typing import Any

import anyio
import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from tests.support.emulator import START
from tests.support.processes import free_port
from tests.support.served import bearer
from truelayer_async.errors import TrueLayerError
from truelayer_async.testing import (
    EmulatorControl,
    EmulatorControlError,
    FakeClock,
    FakeTrueLayer,
    LiveClock,
    RequestRecord,
    WebhookRecord,
    _state,
)
from truelayer_async.testing._options import add_server_options, fake_from_options
from truelayer_async.testing._webhooks import WebhookSender

from .helpers import API, token_request


@pytest.mark.asyncio
async def test_emulator_control_drives_an_in_process_fake(fake: FakeTrueLayer) -> None:
    control = fake.control()
    reading = await control.clock()
    assert (reading.now, reading.mode, reading.offset) == (START, "frozen", None)
    assert (await control.advance_clock(60)).now == START + 60 == fake.clock()

    tokens = await control.create_connection("john", scopes=["info", "accounts"])
    assert tokens["scope"] == "info accounts"
    assert fake.connection(tokens["access_token"]).username == "john"

    assert await control.add_fault("/data/v1/accounts", status=503, times=1) == ["fail"]
    assert await control.add_fault("/data/v1/*", latency=0.0) == ["latency"]
    http = fake.http_client()
    assert (
        await http.get("/data/v1/accounts", headers=bearer(tokens["access_token"]))
    ).status_code == 503
    await control.clear_faults()
    assert (
        await http.get("/data/v1/accounts", headers=bearer(tokens["access_token"]))
    ).status_code == 200

    records = await control.requests()
    assert all(isinstance(r, RequestRecord) for r in records)
    assert [(r.path, r.status, r.fault) for r in records] == [
        ("/data/v1/accounts", 503, "fail_next"),
        ("/data/v1/accounts", 200, None),
    ]
    assert (await control.stats())["data"] == 2
    assert await control.revoke("john") == 1
    assert fake.connections[0].consent_revoked

    await control.reset()
    assert fake.connections == [] and fake.requests == [] and fake.clock() == START + 60
    await fake.aclose()


@pytest.mark.asyncio
async def test_control_errors_are_typed(fake: FakeTrueLayer) -> None:
    control = fake.control()
    with pytest.raises(EmulatorControlError) as caught:
        await control.create_connection("nobody")
    assert isinstance(caught.value, TrueLayerError)
    assert caught.value.status == 400 and caught.value.error == "invalid_request"
    with pytest.raises(EmulatorControlError, match=r"404: no connection for 'nobody'$"):
        await control.revoke("nobody")
    with pytest.raises(EmulatorControlError, match=r"404: no connection for 'nobody'$"):
        await control.refresh_count("nobody")
    with pytest.raises(EmulatorControlError, match="400: no client 'nobody'"):
        await control.allow_return_uris("https://shop.example/return", client_id="nobody")
    with pytest.raises(LookupError, match="no connection for 'nobody'"):
        fake.revoke("nobody")
    with pytest.raises(EmulatorControlError, match="not negative"):
        await control.advance_clock(-1)
    async with EmulatorControl(f"http://127.0.0.1:{free_port()}") as unreachable:
        with pytest.raises(EmulatorControlError) as down:
            await unreachable.stats()
    assert down.value.status is None and "cannot reach" in str(down.value)
    await fake.aclose()


@pytest.mark.asyncio
async def test_refresh_count_counts_each_connections_answered_refresh_grants(
    fake: FakeTrueLayer, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A credentials id is base64: "/" and "+" must survive the control route's path.
    monkeypatch.setattr(_state, "_new_credentials_id", lambda: "a/b+c/d==")
    john = fake.create_connection(username="john")
    monkeypatch.undo()
    john2 = fake.create_connection(username="john2")
    credentials_id = fake.credentials_id(john["access_token"])
    refresh_token = john["refresh_token"]
    for _ in range(2):
        response = await token_request(
            client, grant_type="refresh_token", refresh_token=refresh_token
        )
        assert response.status_code == 200, response.text
        refresh_token = response.json()["refresh_token"]
    refused = await token_request(client, grant_type="refresh_token", refresh_token="unknown")
    assert refused.status_code == 400

    control = fake.control()
    assert await control.refresh_count(credentials_id) == 2
    assert await control.refresh_count("john") == 2
    assert fake.refresh_count(credentials_id) == 2
    assert await control.refresh_count(fake.credentials_id(john2["access_token"])) == 0
    with pytest.raises(EmulatorControlError) as unknown:
        await control.refresh_count("nobody")
    assert unknown.value.status == 404 and unknown.value.error == "not_found"
    await control.reset()
    with pytest.raises(LookupError):
        fake.refresh_count(credentials_id)
    await fake.aclose()


@pytest.mark.asyncio
async def test_the_fake_server_fixture_gives_a_control_handle(
    truelayer_fake_server: FakeTrueLayer,
) -> None:
    control = truelayer_fake_server.control()
    assert control.base_url == truelayer_fake_server.base_url
    tokens = await control.create_connection()
    assert truelayer_fake_server.connection(tokens["access_token"]).username == "john"
    assert (await control.stats())["token"] == 0
    await truelayer_fake_server.aclose()


@pytest.mark.asyncio
async def test_the_control_api_is_loopback_only(fake: FakeTrueLayer) -> None:
    transport = httpx.ASGITransport(app=fake, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=API) as remote:
        response = await remote.post("/_emulator/connections", json={"username": "john"})
        assert response.status_code == 403 and response.json()["error"] == "forbidden"
        # The rest of the emulator still answers remote clients (--allow-remote).
        assert (await remote.get("/api/providers")).status_code == 200
    assert fake.connections == []


def test_live_clock_is_real_time_plus_an_offset() -> None:
    clock = LiveClock()
    before = time.time()
    reading = clock()
    assert before <= reading <= time.time()
    assert clock.advance(100) >= before + 100 and clock.offset == 100
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    clock.reset()
    assert clock.offset == 0 and clock() <= time.time()
    assert "offset=0" in repr(clock)


@pytest.mark.asyncio
async def test_a_live_clock_session_waits_for_real() -> None:
    fake = FakeTrueLayer(clock=LiveClock())
    async with fake.session() as tl:
        assert tl.sleep == fake.clock.sleep  # the Session's own waits use the live clock
    before = fake.clock()
    await fake.clock.sleep(0.01)
    assert fake.clock() >= before + 0.01
    await fake.aclose()


@pytest.mark.asyncio
async def test_webhooks_are_delivered_through_a_transport_in_process() -> None:
    received: list[dict[str, Any]] = []
    answers = [500]

    async def receiver_app(scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        received.append({"headers": dict(request.headers), "body": await request.json()})
        await Response(status_code=answers.pop(0) if answers else 204)(scope, receive, send)

    fake = FakeTrueLayer(
        clock=FakeClock(START),
        deliver_webhooks=True,
        webhook_retry_delays=(0.0, 0.0),
        webhook_transport=httpx.ASGITransport(app=receiver_app),
    )
    tokens = fake.create_connection()
    http = fake.http_client()
    accepted = await http.get(
        "/data/v1/accounts?async=true&webhook_uri=https://receiver.example/hook",
        headers=bearer(tokens["access_token"]),
    )
    assert accepted.status_code == 202
    with anyio.fail_after(10):
        while fake.webhooks[0].outcome == "pending":
            await anyio.sleep(0.001)
    hook: WebhookRecord = fake.webhooks[0]
    assert hook.outcome == "delivered"
    assert [(a.number, a.status, a.succeeded) for a in hook.attempts] == [
        (1, 500, False),
        (2, 204, True),
    ]
    assert received[0]["headers"]["x-tl-webhook-timestamp"] == "2024-05-01T10:00:00Z"
    assert received[1]["body"] == dict(hook.payload)
    await fake.aclose()


@pytest.mark.asyncio
async def test_webhooks_are_only_recorded_by_default(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    tokens = fake.create_connection()
    await client.get(
        "/data/v1/accounts?async=true&webhook_uri=https://example.com/hook",
        headers=bearer(tokens["access_token"]),
    )
    await anyio.sleep(0.01)
    assert [(w.outcome, w.attempts) for w in fake.webhooks] == [("recorded", [])]


def test_negative_retry_delays_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        WebhookSender(FakeClock(), enabled=True, retry_delays=(1.0, -1.0))


def test_server_options_configure_the_fake() -> None:
    parser = argparse.ArgumentParser()
    add_server_options(parser)
    defaults = fake_from_options(parser.parse_args([]), access_token_ttl=5)
    assert isinstance(defaults.clock, LiveClock)
    assert defaults._webhook_sender.enabled
    assert defaults._webhook_sender.retry_delays == (1.0, 5.0, 30.0, 120.0, 600.0)
    before = int(time.time())
    token = defaults.create_connection()
    assert before + 5 <= defaults.connection(token["access_token"]).access_expires_at
    custom = fake_from_options(
        parser.parse_args(
            [
                "--clock",
                "frozen",
                "--refresh-token-reuse",
                "grace",
                "--webhook-retry-delays",
                "0.1,0.2",
                "--no-webhook-delivery",
            ]
        ),
        access_token_ttl=60,
    )
    assert isinstance(custom.clock, FakeClock)
    assert custom._state.refresh_token_reuse == "grace"
    assert custom._webhook_sender.retry_delays == (0.1, 0.2)
    assert not custom._webhook_sender.enabled
    with pytest.raises(SystemExit):
        parser.parse_args(["--webhook-retry-delays", "1,-2"])
