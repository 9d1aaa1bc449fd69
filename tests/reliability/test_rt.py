"""reliability.md §2.3 RT: retries, back-off, timeouts (one test per id; RT-06 is n/a)."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from tests.support.doubles import RecordingSleep
from tests.support.reliability import (
    ACCOUNTS_URL,
    PROPERTY,
    Guard,
    Secrets,
    TokenServer,
    accounts_body,
    connect,
)
from truelayer_async import RetryPolicy, Session, TokenType
from truelayer_async import errors as e
from truelayer_async._error_mapping import Api
from truelayer_async._retry import parse_retry_after, status_is_retryable
from truelayer_async.config import Timeouts
from truelayer_async.testing import FakeTrueLayer

OK = httpx.Response(200, json={"results": [], "status": "Succeeded"})


@pytest.mark.asyncio
async def test_rt01_default_two_retries_and_zero_disables(
    secrets: Secrets, sleeps: RecordingSleep, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.get(ACCOUNTS_URL).mock(return_value=httpx.Response(503, json={}))
    for retries, calls in ((None, 3), (0, 1), (4, 5)):
        route.reset()
        kwargs = {} if retries is None else {"max_retries": retries}
        async with Session("c", secrets.client_secret, sleep=sleeps, **kwargs) as tl:
            with guard.raises(e.DataApiError):
                await tl._core.requester().request("GET", ACCOUNTS_URL, api=Api.DATA)
            assert route.call_count == calls
            route.reset()
            with guard.raises(e.DataApiError):  # and per call
                await tl._core.requester().request(
                    "GET", ACCOUNTS_URL, api=Api.DATA, max_retries=1
                )
            assert route.call_count == 2


@pytest.mark.asyncio
async def test_rt02_exponential_backoff_capped_with_jitter(
    secrets: Secrets, sleeps: RecordingSleep, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(ACCOUNTS_URL).mock(return_value=httpx.Response(503, json={}))
    async with Session("c", secrets.client_secret, sleep=sleeps, max_retries=6) as tl:
        tl._core.requester().jitter = lambda: 0.0
        with pytest.raises(e.DataApiError):
            await tl._core.requester().request("GET", ACCOUNTS_URL, api=Api.DATA)
    assert sleeps.delays == [0.5, 1, 2, 4, 8, 8]


@PROPERTY
@given(retry=st.integers(0, 20), jitter=st.floats(0, 1, exclude_max=True))
def test_rt02_jitter_bounds(retry: int, jitter: float) -> None:
    base = min(0.5 * 2**retry, 8.0)
    delay = RetryPolicy().backoff(retry, jitter)
    assert 0.75 * base <= delay <= base


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "5"}, 5.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "nan", "retry-after": "3"}, 3.0),
        ({"retry-after": "0"}, None),
        ({"retry-after": "-10"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "1" * 35}, None),
        ({"retry-after": "Fri, 99 Foo 2023 25:61:61 GMT"}, None),
        ({"retry-after": "Sat, 01 Jan 100000 00:00:00 GMT"}, None),
        ({"retry-after": "garbage"}, None),
        ({}, None),
    ],
)
def test_rt03_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    """The full 20-row table is tests/core/test_http.py::test_parse_retry_after_table."""
    assert parse_retry_after(httpx.Headers(headers), 1_700_000_000.0) == expected


@pytest.mark.asyncio
async def test_rt03_long_retry_after_stops_retrying(
    secrets: Secrets, sleeps: RecordingSleep, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.get(ACCOUNTS_URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "60"}, json={}),
            httpx.Response(429, headers={"Retry-After": "61"}, json={}),
        ]
    )
    async with Session("c", secrets.client_secret, sleep=sleeps) as tl:
        with guard.raises(e.RateLimitedError) as info:
            await tl._core.requester().request("GET", ACCOUNTS_URL, api=Api.DATA)
    assert sleeps.delays == [60.0] and info.value.retry_after == 61.0
    assert route.call_count == 2


def test_rt04_retryable_status_truth_table() -> None:
    retried = {s for s in range(100, 600) if status_is_retryable(s, None)}
    assert retried == {408, 429, 500, 502, 503, 504}
    assert not status_is_retryable(502, "Feature Not Supported")
    assert status_is_retryable(502, "provider_error")
    assert not status_is_retryable(429, "provider_request_limit_exceeded")


NEVER_SENT = [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout]
MAYBE_SENT = [
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
]


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["GET", "DELETE", "POST"])
@pytest.mark.parametrize("exc", NEVER_SENT + MAYBE_SENT)
async def test_rt05_retry_by_safety_class(
    secrets: Secrets,
    sleeps: RecordingSleep,
    guard: Guard,
    respx_mock: respx.MockRouter,
    method: str,
    exc: type[Exception],
) -> None:
    route = respx_mock.route(method=method, url=ACCOUNTS_URL).mock(side_effect=exc("x"))
    async with Session("c", secrets.client_secret, sleep=sleeps) as tl:
        with guard.raises(e.TransportError) as info:
            await tl._core.requester().request(method, ACCOUNTS_URL, api=Api.DATA)
    sent = exc not in NEVER_SENT
    assert info.value.request_sent is sent
    assert route.call_count == (1 if sent and method == "POST" else 3)


@pytest.mark.asyncio
async def test_rt07_explicit_timeouts_and_a_total_deadline(
    secrets: Secrets, sleeps: RecordingSleep, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    defaults = Timeouts()
    assert (defaults.connect, defaults.read, defaults.token) == (5.0, 30.0, 15.0)
    assert defaults.token < defaults.read

    async def hang(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(10)
        return OK

    respx_mock.get(ACCOUNTS_URL).mock(side_effect=hang)
    async with Session("c", secrets.client_secret, timeout=0.2, sleep=sleeps) as tl:
        with guard.raises(e.TransportTimeout) as info:
            await tl._core.requester().request("GET", ACCOUNTS_URL, api=Api.DATA)
    assert "deadline" in str(info.value)


@pytest.fixture(scope="module")
def served() -> Iterator[FakeTrueLayer]:
    fake = FakeTrueLayer()
    with fake.serve_in_thread():
        yield fake


def busy_connections(tl: Session) -> int:
    pool = tl._core.requester().client._transport._pool  # type: ignore[attr-defined]
    return sum(not conn.is_idle() for conn in pool.connections)


@pytest.mark.asyncio
async def test_rt08_failed_and_retried_responses_are_closed(
    served: FakeTrueLayer, sleeps: RecordingSleep
) -> None:
    fake = served
    async with fake.session(http_client=None, sleep=sleeps, timeout=0.5) as tl:
        body = fake.create_connection()
        await tl._core.tokens.store_new(
            tl._core.tokens.key(TokenType.DATA, "u"), _grant(body), TokenType.DATA
        )
        fake.fail_next("/data/v1/accounts", 503, times=6)
        for _ in range(2):
            with pytest.raises(e.DataApiError):
                await tl.data.accounts(user="u")
        assert busy_connections(tl) == 0
        fake.drop_response_after_commit("/data/v1/accounts", times=3)
        with pytest.raises(e.TransportError):
            await tl.data.accounts(user="u")
        assert busy_connections(tl) == 0
        fake.add_latency("/data/v1/accounts", 1.0, times=1)
        with pytest.raises(e.TransportTimeout):  # cancelled mid-request by the deadline
            await tl.data.accounts(user="u")
        assert await tl.data.accounts(user="u")
        assert busy_connections(tl) == 0
        client = tl._core.requester().client
    assert client.is_closed
    fake.clear_faults()


def _grant(body: dict[str, object]) -> object:
    from truelayer_async._token_response import parse_token_response

    return parse_token_response(body)


@pytest.mark.asyncio
@pytest.mark.parametrize("failures", [0, 2, 4])
@pytest.mark.parametrize("kind", ["status", "exception"])
async def test_rt09_retries_taken_is_observable(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    respx_mock: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
    failures: int,
    kind: str,
) -> None:
    await connect(tl, secrets)
    fail: object = httpx.Response(503, json={}) if kind == "status" else httpx.ConnectError("x")
    respx_mock.get(ACCOUNTS_URL).mock(
        side_effect=[fail] * failures + [httpx.Response(200, json=accounts_body())]
    )
    tl._core.requester().retry_policy = RetryPolicy(max_retries=4)
    raw = await tl.data.with_raw_response.accounts(user="u")
    assert raw.retries_taken == failures
    retried = [
        r for r in caplog.records if r.name == "truelayer_async" and "accounts" in r.msg % r.args
    ]
    assert len(retried) == failures + 1
    assert all(r.exc_info is None for r in retried)


@pytest.mark.asyncio
async def test_rt10_refresh_and_request_budgets_do_not_multiply(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    respx_mock.get(ACCOUNTS_URL).mock(return_value=httpx.Response(401, json={"error": "x"}))
    server.script = [httpx.Response(503, json={"error": "temporarily_unavailable"})] * 100
    with guard.raises(e.TrueLayerError):
        await tl.data.accounts(user="u")
    assert server.count("refresh_token") <= 1 + tl.retry_policy.max_retries
    with guard.raises(e.TokenEndpointUnavailable):
        await tl.auth.client_credentials()
    assert server.count("client_credentials") == 1 + tl.retry_policy.max_retries
