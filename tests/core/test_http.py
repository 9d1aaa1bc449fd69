"""The one HTTP path: retry matrix, Retry-After, redirects, size caps, deadlines, no leaks."""

from __future__ import annotations

import email.utils
from collections.abc import Callable

import anyio
import httpx
import pytest

from tests.support.doubles import RecordingSleep
from truelayer_async import errors as e
from truelayer_async._error_mapping import Api
from truelayer_async._http import Requester
from truelayer_async._retry import RetryMode, parse_retry_after
from truelayer_async._secret import Secret
from truelayer_async.config import RetryPolicy, Timeouts
from truelayer_async.testing import FakeClock

URL = "https://api.truelayer.test/data/v1/accounts"

Handler = Callable[[httpx.Request], httpx.Response]


def make_requester(
    handler: Handler,
    sleeps: RecordingSleep,
    *,
    clock: FakeClock | None = None,
    max_retries: int = 2,
    timeouts: Timeouts | None = None,
) -> tuple[Requester, httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    requester = Requester(
        client,
        timeouts=timeouts or Timeouts(),
        retry_policy=RetryPolicy(max_retries=max_retries),
        clock=clock or FakeClock(),
        sleep=sleeps,
        jitter=lambda: 0.0,
    )
    return requester, client


class Counter:
    def __init__(self, outcome: Callable[[httpx.Request], httpx.Response]) -> None:
        self.calls = 0
        self.outcome = outcome

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return self.outcome(request)


def status(code: int, body: bytes = b'{"error":"x"}', **headers: str) -> Handler:
    return lambda request: httpx.Response(
        code, content=body, headers={"content-type": "application/json", **headers}
    )


def raising(exc_type: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("boom", request=request)

    return handler


RETRIED_STATUSES = [408, 429, 500, 502, 503, 504]
NEVER_RETRIED_STATUSES = [400, 401, 403, 404, 422, 501]


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["GET", "DELETE", "POST"])
@pytest.mark.parametrize("code", RETRIED_STATUSES + NEVER_RETRIED_STATUSES)
async def test_retry_matrix_statuses(method: str, code: int, sleeps: RecordingSleep) -> None:
    counter = Counter(status(code))
    requester, client = make_requester(counter, sleeps)
    async with client:
        with pytest.raises(e.ApiError) as info:
            await requester.request(method, URL, api=Api.DATA)
    expected = 3 if (code in RETRIED_STATUSES and method != "POST") else 1
    assert counter.calls == expected
    assert info.value.status_code == code
    assert len(sleeps.delays) == expected - 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("exc_type", "get_calls", "post_calls", "sent"),
    [
        (httpx.ConnectError, 3, 3, False),
        (httpx.ConnectTimeout, 3, 3, False),
        (httpx.PoolTimeout, 3, 3, False),
        (httpx.ReadTimeout, 3, 1, True),
        (httpx.WriteTimeout, 3, 1, True),
        (httpx.ReadError, 3, 1, True),
        (httpx.RemoteProtocolError, 3, 1, True),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_retry_matrix_exceptions(
    method: str,
    exc_type: type[httpx.TransportError],
    get_calls: int,
    post_calls: int,
    sent: bool,
    sleeps: RecordingSleep,
) -> None:
    counter = Counter(raising(exc_type))
    requester, client = make_requester(counter, sleeps)
    async with client:
        with pytest.raises(e.TransportError) as info:
            await requester.request(method, URL, api=Api.DATA)
    assert counter.calls == (get_calls if method == "GET" else post_calls)
    assert info.value.request_sent is sent
    assert isinstance(info.value, e.TransportTimeout) == issubclass(
        exc_type, httpx.TimeoutException
    )
    # Nothing chains to the httpx exception, whose request holds headers and body.
    assert info.value.__cause__ is None and info.value.__context__ is None


@pytest.mark.anyio
async def test_idempotent_post_retries_statuses(sleeps: RecordingSleep) -> None:
    counter = Counter(status(503))
    requester, client = make_requester(counter, sleeps)
    async with client:
        with pytest.raises(e.ApiError):
            await requester.request("POST", URL, api=Api.AUTH, retry_mode=RetryMode.IDEMPOTENT)
    assert counter.calls == 3


@pytest.mark.anyio
@pytest.mark.parametrize("retries", [0, 1, 4])
async def test_max_retries_is_respected(retries: int, sleeps: RecordingSleep) -> None:
    counter = Counter(status(503))
    requester, client = make_requester(counter, sleeps, max_retries=retries)
    async with client:
        with pytest.raises(e.DataApiError):
            await requester.request("GET", URL, api=Api.DATA)
    assert counter.calls == retries + 1


@pytest.mark.anyio
@pytest.mark.parametrize("failures", [0, 1, 2])
async def test_retries_taken_is_reported(failures: int, sleeps: RecordingSleep) -> None:
    outcomes = [status(503)] * failures + [status(200, b'{"results":[]}')]

    def handler(request: httpx.Request) -> httpx.Response:
        return outcomes.pop(0)(request)

    requester, client = make_requester(handler, sleeps)
    async with client:
        response = await requester.request("GET", URL, api=Api.DATA)
    assert response.retries_taken == failures
    assert response.json() == {"results": []}


@pytest.mark.anyio
async def test_backoff_schedule_is_exponential_and_capped(sleeps: RecordingSleep) -> None:
    requester, client = make_requester(Counter(status(503)), sleeps, max_retries=6)
    async with client:
        with pytest.raises(e.ApiError):
            await requester.request("GET", URL, api=Api.DATA)
    assert sleeps.delays == [0.5, 1, 2, 4, 8, 8]


def test_backoff_jitter_bounds() -> None:
    policy = RetryPolicy()
    for attempt in range(8):
        base = min(0.5 * 2**attempt, 8.0)
        assert policy.backoff(attempt, 0.0) == base
        assert policy.backoff(attempt, 0.999999) >= 0.75 * base


@pytest.mark.anyio
async def test_retryable_error_code_and_unattended_limit(sleeps: RecordingSleep) -> None:
    limited = Counter(status(429, b'{"error":"provider_request_limit_exceeded"}'))
    requester, client = make_requester(limited, sleeps)
    async with client:
        with pytest.raises(e.RateLimitedError):
            await requester.request("GET", URL, api=Api.DATA)
    assert limited.calls == 1  # waiting seconds cannot fix "4 unattended calls a day"


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "5"}, 5.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": " 20 "}, 20.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "abc", "retry-after": "3"}, 3.0),
        ({"retry-after": email.utils.formatdate(NOW + 10, usegmt=True)}, 10.0),
        ({"retry-after": email.utils.formatdate(NOW - 10, usegmt=True)}, None),
        ({"retry-after": "0"}, None),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "-10"}, None),
        ({"retry-after": "abc"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "1" * 35}, None),
        ({"retry-after": "Fri, 99 Foo 100000 00:00:00 GMT"}, None),
        ({"retry-after": ""}, None),
        ({}, None),
        ({"retry-after": "99999"}, 99999.0),
    ],
)
def test_parse_retry_after_table(headers: dict[str, str], expected: float | None) -> None:
    result = parse_retry_after(httpx.Headers(headers), NOW)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected, abs=1.0)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("retry_after", "expected_first_sleep", "calls"),
    [
        ("5", 5.0, 3),
        ("HTTPDATE+10", 10.0, 3),
        ("61", None, 1),
        ("99999", None, 1),
        ("-1", 0.5, 3),
        ("garbage", 0.5, 3),
    ],
)
async def test_retry_after_is_honoured_up_to_60s(
    retry_after: str, expected_first_sleep: float | None, calls: int, sleeps: RecordingSleep
) -> None:
    clock = FakeClock(NOW)
    if retry_after == "HTTPDATE+10":
        retry_after = email.utils.formatdate(NOW + 10, usegmt=True)
    counter = Counter(
        status(429, b'{"error":"provider_too_many_requests"}', **{"Retry-After": retry_after})
    )
    requester, client = make_requester(counter, sleeps, clock=clock)
    async with client:
        with pytest.raises(e.RateLimitedError) as info:
            await requester.request("GET", URL, api=Api.DATA)
    assert counter.calls == calls
    if expected_first_sleep is None:
        assert sleeps.delays == []
        assert info.value.retry_after is not None and info.value.retry_after > 60
    else:
        assert sleeps.delays[0] == pytest.approx(expected_first_sleep, abs=1.0)
    assert info.value.status_code == 429  # a bad header never masks the status error


@pytest.mark.anyio
@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
async def test_redirects_are_errors_and_never_followed(code: int, sleeps: RecordingSleep) -> None:
    elsewhere = Counter(status(200, b"{}"))

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "evil.example":
            return elsewhere(request)
        return httpx.Response(code, headers={"location": "https://evil.example/steal"})

    requester, client = make_requester(handler, sleeps)
    async with client:
        with pytest.raises(e.UnexpectedRedirectError):
            await requester.request(
                "POST", URL, api=Api.AUTH, form={"client_secret": Secret("s3cret")}
            )
    assert elsewhere.calls == 0


# asyncio only: stopping mid-body leaves httpx's nested body generators (aiter_bytes over
# aiter_raw) to the garbage collector, and trio warns about each (ResourceWarning, an
# error under this suite's filterwarnings). The SDK closes the response either way.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_body_over_cap_raises_and_stops_reading(sleeps: RecordingSleep) -> None:
    async def endless() -> object:
        while True:
            yield b"x" * 65536

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless(), headers={"content-type": "application/json"})

    requester, client = make_requester(handler, sleeps)
    async with client:
        with pytest.raises(e.ResponseTooLargeError):
            await requester.request("GET", URL, api=Api.DATA, max_bytes=1_000_000)


@pytest.mark.anyio
async def test_total_deadline_covers_retries() -> None:
    calls = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await anyio.sleep(0.2)
        return httpx.Response(503)

    client = httpx.AsyncClient(transport=httpx.MockTransport(slow))
    requester = Requester(
        client,
        timeouts=Timeouts(total=0.3),
        retry_policy=RetryPolicy(max_retries=5, initial_delay=0.01),
    )
    async with client:
        with pytest.raises(e.TransportTimeout) as info:
            await requester.request("GET", URL, api=Api.DATA)
    assert calls == 2
    assert info.value.request_sent is True


@pytest.mark.anyio
async def test_html_on_200_is_malformed(sleeps: RecordingSleep) -> None:
    requester, client = make_requester(
        lambda r: httpx.Response(
            200, content=b"<html>WAF</html>", headers={"content-type": "text/html"}
        ),
        sleeps,
    )
    async with client:
        response = await requester.request("GET", URL, api=Api.DATA)
        with pytest.raises(e.MalformedResponseError) as info:
            response.json()
    assert "text/html" in str(info.value)


@pytest.mark.anyio
async def test_html_gateway_error_is_retried_then_typed(sleeps: RecordingSleep) -> None:
    counter = Counter(
        lambda r: httpx.Response(
            502,
            content=b"<html><h1>Bad Gateway</h1></html>",
            headers={"content-type": "text/html"},
        )
    )
    requester, client = make_requester(counter, sleeps)
    async with client:
        with pytest.raises(e.DataApiError) as info:
            await requester.request("GET", URL, api=Api.DATA)
    assert counter.calls == 3
    assert info.value.error is None and "text/html" in (info.value.description or "")


@pytest.mark.anyio
async def test_bearer_and_form_secrets_go_only_on_the_wire(
    sleeps: RecordingSleep, sentinel: str
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    requester, client = make_requester(handler, sleeps)
    async with client:
        await requester.request(
            "POST",
            URL,
            api=Api.AUTH,
            form={"client_secret": Secret(sentinel)},
            bearer=Secret(sentinel),
        )
    assert seen[0].headers["authorization"] == f"Bearer {sentinel}"
    assert sentinel in seen[0].content.decode()
    assert sentinel not in str(seen[0].url)
