"""Issue #14 §4: a request layer ready for signed, idempotent writes (respx on the wire)."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import truelayer_async
from tests.support.doubles import RecordingSleep
from truelayer_async import _request
from truelayer_async import errors as e
from truelayer_async._error_mapping import Api, error_for
from truelayer_async._http import Requester
from truelayer_async._request import Attempt
from truelayer_async._retry import RetryMode
from truelayer_async._secret import Secret
from truelayer_async.config import WEBHOOK_JWKS_URLS, Environment, RetryPolicy, Timeouts
from truelayer_async.testing import FakeClock

API = "https://api.truelayer.test"
URL = f"{API}/v3/payments"
BODY = {"amount_in_minor": 100, "currency": "GBP", "reference": "café ±"}
TYPE = "https://docs.truelayer.com/docs/payments-api-errors#"


def make_requester(client: httpx.AsyncClient, sleeps: RecordingSleep) -> Requester:
    return Requester(
        client,
        timeouts=Timeouts(),
        retry_policy=RetryPolicy(max_retries=3),
        clock=FakeClock(),
        sleep=sleeps,
        jitter=lambda: 0.0,
    )


def problem(status: int, slug: str, title: str, **headers: str) -> httpx.Response:
    body = {
        "type": TYPE + slug,
        "title": title,
        "status": status,
        "trace_id": "trace-123",
        "detail": f"{title}.",
    }
    return httpx.Response(
        status,
        json=body,
        headers={"content-type": "application/problem+json; charset=UTF-8", **headers},
    )


@pytest.fixture
def wire() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def requester(sleeps: RecordingSleep, wire: respx.MockRouter) -> AsyncIterator[Requester]:
    async with httpx.AsyncClient() as client:
        yield make_requester(client, sleeps)


# -- one encoding per logical call --------------------------------------------------


@pytest.mark.anyio
async def test_a_json_body_is_encoded_once_and_resent_byte_for_byte(
    wire: respx.MockRouter, requester: Requester, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    real = _request.encode_json

    def counting(value: Any) -> bytes:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(_request, "encode_json", counting)
    route = wire.post(URL).mock(
        side_effect=[httpx.Response(503), httpx.Response(500), httpx.Response(201, json={})]
    )
    response = await requester.request(
        "POST", URL, api=Api.PAYMENTS, json_body=BODY, retry_mode=RetryMode.KEYED
    )
    assert response.status_code == 201 and response.retries_taken == 2
    assert len(calls) == 1  # three attempts, one encoding
    bodies = {call.request.content for call in route.calls}
    assert bodies == {real(BODY)}
    assert json.loads(bodies.pop()) == BODY


# -- keyed writes --------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_keyed_write_sends_one_generated_key_on_every_attempt(
    wire: respx.MockRouter,
    requester: Requester,
) -> None:
    route = wire.post(URL).mock(
        side_effect=[httpx.Response(429), httpx.Response(502), httpx.Response(200, json={})]
    )
    await requester.request(
        "POST", URL, api=Api.PAYMENTS, json_body=BODY, retry_mode=RetryMode.KEYED
    )
    keys = [call.request.headers["Idempotency-Key"] for call in route.calls]
    assert len(keys) == 3 and len(set(keys)) == 1
    assert uuid.UUID(keys[0]).version == 4
    # A second logical call gets a new key.
    route.side_effect = None
    route.return_value = httpx.Response(200, json={})
    await requester.request(
        "POST", URL, api=Api.PAYMENTS, json_body=BODY, retry_mode=RetryMode.KEYED
    )
    assert route.calls.last.request.headers["Idempotency-Key"] != keys[0]


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["argument", "header"])
async def test_a_given_key_is_used_as_it_is(
    wire: respx.MockRouter, requester: Requester, how: str
) -> None:
    route = wire.post(URL).mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    given = "my-key-42"
    kwargs: dict[str, Any] = (
        {"idempotency_key": given}
        if how == "argument"
        else {"headers": {"idempotency-key": given}}
    )
    await requester.request(
        "POST", URL, api=Api.PAYMENTS, json_body=BODY, retry_mode=RetryMode.KEYED, **kwargs
    )
    for call in route.calls:
        assert call.request.headers.get_list("Idempotency-Key") == [given]


@pytest.mark.anyio
async def test_a_keyed_write_is_resent_after_a_failure_once_sent(
    wire: respx.MockRouter, requester: Requester
) -> None:
    route = wire.post(URL).mock(side_effect=[httpx.ReadTimeout("lost"), httpx.Response(201)])
    response = await requester.request(
        "POST", URL, api=Api.PAYMENTS, json_body=BODY, retry_mode=RetryMode.KEYED
    )
    assert response.status_code == 201 and route.call_count == 2
    first, second = route.calls
    assert first.request.headers["Idempotency-Key"] == second.request.headers["Idempotency-Key"]


@pytest.mark.anyio
async def test_an_unkeyed_post_is_not_resent_after_a_failure_once_sent(
    wire: respx.MockRouter,
    requester: Requester,
) -> None:
    route = wire.post(URL).mock(side_effect=[httpx.ReadTimeout("lost"), httpx.Response(201)])
    with pytest.raises(e.TransportError) as caught:
        await requester.request("POST", URL, api=Api.PAYMENTS, json_body=BODY)
    assert caught.value.request_sent and route.call_count == 1
    assert "Idempotency-Key" not in route.calls.last.request.headers


@pytest.mark.anyio
@pytest.mark.parametrize("should_retry", [None, "true"])
async def test_a_422_is_never_retried(
    wire: respx.MockRouter, requester: Requester, should_retry: str | None
) -> None:
    headers = {} if should_retry is None else {"Tl-Should-Retry": should_retry}
    route = wire.post(URL).mock(
        return_value=problem(422, "idempotency-key-reuse", "Idempotency-Key Reuse", **headers)
    )
    with pytest.raises(e.IdempotencyKeyReuseError) as caught:
        await requester.request(
            "POST", URL, api=Api.PAYMENTS, json_body=BODY, retry_mode=RetryMode.KEYED
        )
    assert route.call_count == 1
    assert caught.value.status_code == 422 and caught.value.api == "payments"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "flag", "calls"),
    [
        (503, "false", 1),  # the server says resending cannot help
        (503, None, 4),  # no signal: a 5xx is retried (3 retries)
        (409, "true", 4),  # the server says resend with the same key
        (409, None, 1),  # no signal: a 409 is not retried
        (400, "TRUE", 4),
    ],
)
async def test_tl_should_retry_decides_for_keyed_writes(
    wire: respx.MockRouter, requester: Requester, status: int, flag: str | None, calls: int
) -> None:
    headers = {} if flag is None else {"Tl-Should-Retry": flag}
    route = wire.post(URL).mock(
        return_value=problem(status, "unknown-error", "Unknown Error", **headers)
    )
    with pytest.raises(e.PaymentsApiError) as caught:
        await requester.request(
            "POST", URL, api=Api.PAYMENTS, json_body=BODY, retry_mode=RetryMode.KEYED
        )
    assert route.call_count == calls
    expected = None if flag is None else flag.lower() == "true"
    assert caught.value.should_retry is expected


# -- the per-attempt hook -----------------------------------------------------------


@pytest.mark.anyio
async def test_a_hook_sees_each_attempt_and_adds_headers(
    wire: respx.MockRouter, requester: Requester, sentinel: str
) -> None:
    url = f"{API}/v3/payments/pay%20ment/actions/cancel"
    route = wire.post(url).mock(side_effect=[httpx.Response(500), httpx.Response(200)])
    seen: list[Attempt] = []

    def sign(attempt: Attempt) -> dict[str, str]:
        seen.append(attempt)
        return {"Tl-Signature": f"sig-{attempt.number}-{len(attempt.body)}"}

    await requester.request(
        "POST",
        url,
        api=Api.PAYMENTS,
        json_body=BODY,
        bearer=Secret(sentinel),
        retry_mode=RetryMode.KEYED,
        idempotency_key="key-1",
        on_attempt=[sign],
    )
    assert [a.number for a in seen] == [0, 1]
    for attempt, call in zip(seen, route.calls, strict=True):
        assert attempt.method == "POST"
        assert attempt.path == "/v3/payments/pay%20ment/actions/cancel"
        assert attempt.body == call.request.content  # the exact bytes sent
        assert attempt.headers["Idempotency-Key"] == "key-1"
        assert attempt.headers["Content-Type"] == "application/json"
        assert not any(name.lower() == "authorization" for name in attempt.headers)
        assert sentinel not in repr(attempt)
        assert call.request.headers["Tl-Signature"] == f"sig-{attempt.number}-{len(attempt.body)}"
        assert call.request.headers["Authorization"] == f"Bearer {sentinel}"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "added", [{"Authorization": "Bearer x"}, {"content-type": "text/plain"}, {"X-A": "b\r\nc"}]
)
async def test_a_hook_cannot_set_what_the_sdk_owns(
    wire: respx.MockRouter, requester: Requester, added: dict[str, str]
) -> None:
    route = wire.post(URL).mock(return_value=httpx.Response(200))
    with pytest.raises(e.InvalidParameterError):
        await requester.request(
            "POST", URL, api=Api.PAYMENTS, json_body=BODY, on_attempt=[lambda _: added]
        )
    assert route.call_count == 0


# -- the error table ----------------------------------------------------------------


def _error(api: Api, response: httpx.Response) -> e.TrueLayerError:
    return error_for(api, response.status_code, response.headers, response.content)


@pytest.mark.parametrize(
    ("status", "slug", "title", "cls"),
    [
        (409, "idempotency-key-concurrency-conflict", "Idempotency-Key Concurrency Conflict",
         e.IdempotencyConflictError),
        (422, "idempotency-key-reuse", "Idempotency-Key Reuse", e.IdempotencyKeyReuseError),
        (409, "concurrency-conflict", "Concurrency Conflict", e.ResourceConflictError),
        (401, "unauthenticated", "Unauthenticated", e.PaymentsUnauthenticatedError),
        (500, "unknown-error", "Unknown Error", e.PaymentsApiError),
    ],
)  # fmt: skip
def test_payments_problems_map_to_typed_errors(
    status: int, slug: str, title: str, cls: type[e.PaymentsApiError]
) -> None:
    exc = _error(Api.PAYMENTS, problem(status, slug, title, **{"Tl-Should-Retry": "false"}))
    assert type(exc) is cls
    assert isinstance(exc, e.PaymentsApiError)
    assert exc.api == "payments" and exc.status_code == status
    assert (exc.title, exc.detail, exc.trace_id) == (title, f"{title}.", "trace-123")
    assert exc.problem_type == TYPE + slug
    assert exc.should_retry is False


@pytest.mark.parametrize(
    "detail",
    [
        "Invalid request signature.",
        "Tl-Signature verification failed: signature validation failed",
    ],
)
def test_a_refused_signature_has_its_own_class(detail: str) -> None:
    # truelayer-api-v3.md §2.9: both wordings seen for a bad Tl-Signature.
    response = problem(401, "unauthenticated", "Unauthenticated")
    body = {**response.json(), "detail": detail}
    exc = _error(Api.PAYMENTS, httpx.Response(401, json=body, headers=response.headers))
    assert type(exc) is e.RequestSignatureRejectedError
    assert isinstance(exc, e.PaymentsUnauthenticatedError)
    assert exc.detail == detail and exc.problem_type == TYPE + "unauthenticated"


@pytest.mark.parametrize(
    ("api", "family"),
    [
        (Api.VERIFICATION, e.VerificationApiError),
        (Api.DATA, e.DataApiError),
        (Api.SIGNUP_PLUS, e.SignupPlusApiError),
    ],
)
def test_other_v3_apis_raise_their_own_family_with_the_problem_fields(
    api: Api, family: type[e.ApiError]
) -> None:
    for status in (400, 401, 404, 500):
        exc = _error(
            api, problem(status, "some-error", "Some Error", **{"Tl-Should-Retry": "true"})
        )
        assert type(exc) is family and not isinstance(exc, e.PaymentsApiError)
        assert exc.api == api.value and exc.status_code == status
        assert (exc.title, exc.detail, exc.trace_id) == ("Some Error", "Some Error.", "trace-123")
        assert exc.problem_type == TYPE + "some-error"
        assert exc.should_retry is True


@pytest.mark.parametrize(
    ("status", "slug", "title", "cls"),
    [
        (409, "idempotency-key-concurrency-conflict", "Idempotency-Key Concurrency Conflict",
         e.VerificationIdempotencyConflictError),
        (422, "idempotency-key-reuse", "Idempotency-Key Reuse",
         e.VerificationIdempotencyKeyReuseError),
    ],
)  # fmt: skip
def test_verification_idempotency_errors_are_both_kinds(
    status: int, slug: str, title: str, cls: type[e.ApiError]
) -> None:
    exc = _error(Api.VERIFICATION, problem(status, slug, title))
    assert type(exc) is cls and isinstance(exc, e.VerificationApiError)
    assert isinstance(exc, (e.IdempotencyConflictError, e.IdempotencyKeyReuseError))
    assert exc.api == "verification" and exc.problem_type == TYPE + slug


def test_the_type_alone_picks_the_class() -> None:
    # A problem whose title changed wording is still known by its type.
    response = problem(409, "idempotency-key-concurrency-conflict", "Key busy")
    assert type(_error(Api.PAYMENTS, response)) is e.IdempotencyConflictError


def test_invalid_parameters_carry_their_field_errors() -> None:
    body = {
        "type": TYPE + "invalid-parameters",
        "title": "Invalid Parameters",
        "status": 400,
        "trace_id": "t",
        "detail": "Some parameters are invalid.",
        "errors": {"amount_in_minor": ["must be positive"]},
    }
    exc = _error(Api.PAYMENTS, httpx.Response(400, json=body))
    assert type(exc) is e.PaymentsApiError
    assert exc.errors == {"amount_in_minor": ["must be positive"]}


def test_a_payments_429_is_a_rate_limit() -> None:
    exc = _error(Api.PAYMENTS, problem(429, "rate-limit-exceeded", "Rate Limit Exceeded"))
    assert type(exc) is e.RateLimitedError and exc.api == "payments"


@pytest.mark.parametrize(
    ("api", "status", "code", "cls"),
    [
        (Api.DATA, 404, "account_not_found", e.AccountNotFoundError),
        (Api.DATA, 501, "whatever", e.EndpointNotSupportedError),
        (Api.DATA, 502, "feature_not_supported", e.EndpointNotSupportedError),
        (Api.DATA, 502, "provider_error", e.DataApiError),
        (Api.DATA, 403, "access_denied", e.ReauthorizationRequired),
        (Api.AUTH, 503, "invalid_client", e.InvalidClientError),
        (Api.AUTH, 503, "server_error", e.TokenEndpointUnavailable),
        (Api.AUTH, 400, "invalid_grant", e.AuthApiError),
        (Api.VERIFICATION, 400, "Bad Request", e.VerificationApiError),
    ],
)
def test_every_error_names_its_api(
    api: Api, status: int, code: str, cls: type[e.ApiError]
) -> None:
    exc = _error(api, httpx.Response(status, json={"error": code}))
    assert type(exc) is cls
    assert exc.api == api.value


# -- environment, and httpx's private parts -----------------------------------------


def test_environments_know_the_payments_api_and_the_webhook_key_sets() -> None:
    assert Environment.SANDBOX.payments_url == "https://api.truelayer-sandbox.com/v3"
    assert Environment.PRODUCTION.payments_url == "https://api.truelayer.com/v3"
    assert (
        Environment.SANDBOX.webhook_jwks_url
        == "https://webhooks.truelayer-sandbox.com/.well-known/jwks"
    )
    assert Environment.PRODUCTION.webhook_jwks_url == (
        "https://webhooks.truelayer.com/.well-known/jwks"
    )
    assert set(WEBHOOK_JWKS_URLS) == {
        Environment.SANDBOX.webhook_jwks_url,
        Environment.PRODUCTION.webhook_jwks_url,
    }
    custom = Environment.custom("http://127.0.0.1:8765")
    assert custom.payments_url == "http://127.0.0.1:8765/v3"
    assert custom.webhook_jwks_url is None


def test_the_sdk_never_touches_httpx_private_content() -> None:
    root = Path(truelayer_async.__file__).parent
    for path in root.rglob("*.py"):
        assert "._content" not in path.read_text(encoding="utf-8"), path


class _Streamed(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


@pytest.mark.anyio
@pytest.mark.parametrize("compressed", [False, True])
async def test_a_streamed_body_is_readable_from_the_public_response(
    sleeps: RecordingSleep, compressed: bool
) -> None:
    body = json.dumps({"results": [{"n": i} for i in range(500)]}).encode()
    raw = gzip.compress(body) if compressed else body
    headers = {"content-type": "application/json"}
    if compressed:
        headers["content-encoding"] = "gzip"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, stream=_Streamed([raw[:100], raw[100:]]))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        response = await make_requester(client, sleeps).request("GET", URL, api=Api.DATA)
    assert response.content == body
    assert response.http_response.content == body
    assert response.http_response.is_closed
    assert response.headers.get("content-encoding") == headers.get("content-encoding")
    assert response.http_response.headers.get("content-encoding") == headers.get(
        "content-encoding"
    )
