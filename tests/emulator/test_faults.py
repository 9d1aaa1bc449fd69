"""fail_next, add_latency, drop_response_after_commit and the request record."""

from __future__ import annotations

import time

import anyio
import httpx
import pytest

from tests.support.auth_links import AUTH, auth_link
from tests.support.served import bearer
from truelayer_async.testing import DEFAULT_REDIRECT_URI, FakeTrueLayer

from .helpers import API, token_request


@pytest.mark.asyncio
async def test_fail_next_counts_down(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    tokens = fake.create_connection()
    fake.fail_next("/data/v1/accounts", 503, times=2)
    statuses = [
        (
            await client.get(f"{API}/data/v1/accounts", headers=bearer(tokens["access_token"]))
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [503, 503, 200]
    assert [r.fault for r in fake.requests] == ["fail_next", "fail_next", None]


@pytest.mark.asyncio
async def test_fail_next_shapes(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    fake.fail_next("/data/v1/*", 429, headers={"Retry-After": "2"})
    data = await client.get(f"{API}/data/v1/cards/abc/transactions")
    assert data.status_code == 429 and data.headers["retry-after"] == "2"
    assert (
        data.json()["error"] == "provider_too_many_requests" and data.json()["error_details"] == {}
    )

    fake.fail_next("/connect/token", 503, "temporarily_unavailable", description="down")
    token = await token_request(client, grant_type="client_credentials")
    assert token.json() == {"error": "temporarily_unavailable", "error_description": "down"}

    fake.fail_next("/connections/extend", 500)
    extend = await client.post(f"{API}/connections/extend", json={})
    assert extend.headers["content-type"].startswith("application/problem+json")
    assert extend.json()["status"] == 500 and "trace_id" in extend.json()

    fake.fail_next("/", 500)
    page = await client.get(auth_link())
    assert page.status_code == 500 and 'id="error-code"' in page.text

    fake.fail_next(
        "/connect/token", 200, body="<html>maintenance</html>", content_type="text/html"
    )
    html = await token_request(client, grant_type="client_credentials")
    assert html.status_code == 200 and html.text == "<html>maintenance</html>"

    fake.fail_next("/connect/token", 200, body={"access_token": 5})
    odd = await token_request(client, grant_type="client_credentials")
    assert odd.json() == {"access_token": 5}


@pytest.mark.asyncio
async def test_fail_next_matching(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    tokens = fake.create_connection()
    headers = bearer(tokens["access_token"])
    fake.fail_next("/data/v1/accounts*", 500, method="GET", times=None)
    assert (await client.get(f"{API}/data/v1/accounts", headers=headers)).status_code == 500
    assert (
        await client.get(f"{API}/data/v1/accounts/x/balance", headers=headers)
    ).status_code == 500
    assert (await client.get(f"{API}/data/v1/cards", headers=headers)).status_code == 200
    assert (await client.get(f"{API}/data/v1/accounts", headers=headers)).status_code == 500
    fake.clear_faults()
    assert (await client.get(f"{API}/data/v1/accounts", headers=headers)).status_code == 200
    fake.fail_next("/connect/token", 500, method="DELETE")
    assert (await token_request(client, grant_type="client_credentials")).status_code == 200
    with pytest.raises(ValueError, match="times"):
        fake.fail_next("/x", 500, times=0)


@pytest.mark.asyncio
async def test_add_latency(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    fake.add_latency("/api/providers", 0.05, times=1)
    started = time.perf_counter()
    await client.get(f"{AUTH}/api/providers")
    slow = time.perf_counter() - started
    started = time.perf_counter()
    await client.get(f"{AUTH}/api/providers")
    fast = time.perf_counter() - started
    assert slow >= 0.05 > fast


@pytest.mark.asyncio
async def test_latency_can_trip_client_timeouts(fake: FakeTrueLayer) -> None:
    fake.add_latency("/connect/token", 1.0)
    async with fake.http_client(timeout=0.05) as http:
        # ASGITransport does not enforce httpx timeouts; an outer deadline does the job.
        with anyio.move_on_after(0.05) as scope:
            await token_request(http, grant_type="client_credentials")
        assert scope.cancelled_caught


@pytest.mark.asyncio
async def test_drop_response_after_commit_in_process(client: httpx.AsyncClient) -> None:
    fake = FakeTrueLayer(refresh_token_reuse="grace")
    async with fake.http_client() as http:
        tokens = fake.create_connection()
        fake.drop_response_after_commit("/connect/token")
        with pytest.raises(httpx.RemoteProtocolError) as info:
            await token_request(
                http, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
            )
        assert info.value.request.url.path == "/connect/token"
        record = fake.requests[-1]
        assert (record.fault, record.status, record.grant_type) == ("drop", 200, "refresh_token")
        # The server did rotate: the token the client holds is now the previous one.
        assert fake.latest_refresh_token("john") != tokens["refresh_token"]
        retry = await token_request(
            http, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        assert retry.status_code == 200  # the FAPI grace retry
        assert fake.stats["refresh"] == 2


@pytest.mark.asyncio
async def test_dropped_code_exchange_uses_the_code(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    from truelayer_async.testing import complete_consent

    code = (await complete_consent(client, auth_link())).code
    assert code
    fake.drop_response_after_commit("/connect/token")
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": DEFAULT_REDIRECT_URI,
    }
    with pytest.raises(httpx.RemoteProtocolError):
        await token_request(client, **fields)
    retry = await token_request(client, **fields)
    assert retry.json()["error"] == "invalid_grant"
    [connection] = fake.connections
    assert connection.terminated == "code_reuse"


@pytest.mark.asyncio
async def test_request_record_and_counters(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    tokens = fake.create_connection()
    await token_request(client, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    await token_request(client, grant_type="client_credentials")
    await client.post(f"{AUTH}/connect/token", json={"grant_type": "client_credentials"})
    await client.get(f"{API}/data/v1/accounts?async=true", headers={"X-PSU-IP": "10.0.0.1"})
    await client.get(f"{API}/nowhere")
    assert fake.token_requests == 3
    assert fake.stats == {
        "token": 3,
        "authorization_code": 0,
        "refresh": 1,
        "client_credentials": 2,
        "data": 1,
    }
    assert fake.count(status=400) == 1  # the JSON client_credentials call had no credentials
    assert fake.count("/nowhere", status=404) == 1
    data = fake.requests[3]
    assert (data.method, data.path, data.query, data.status) == (
        "GET",
        "/data/v1/accounts",
        "async=true",
        401,
    )
    assert data.headers["x-psu-ip"] == "10.0.0.1"
    assert data.timestamp == fake.clock()
    fake.requests.clear()
    assert fake.token_requests == 0
