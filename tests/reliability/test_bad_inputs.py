"""reliability.md §4: the 36 bad inputs. Each gives a typed error and loses no token.

Every test runs under the autouse ``guard`` (conftest): the sentinel planted in the
client secret, tokens, code, verifier and state must not reach a log record, a request
URL, or any exception handed to ``guard.raises`` / ``guard.exc`` (message, args,
attributes, chained causes, SDK traceback locals).
"""

from __future__ import annotations

import email.utils
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
import respx

from tests.support.doubles import FailingStore, RecordingSleep
from tests.support.reliability import (
    API,
    DATA,
    REDIRECT,
    TOKEN_URL,
    Guard,
    Secrets,
    TokenServer,
    accounts_body,
    connect,
    data_key,
    refresh_of,
    stored,
    token_json,
)
from tests.support.token_endpoint import form_of
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async._error_mapping import Api
from truelayer_async._http import TOKEN_MAX_BYTES
from truelayer_async._retry import RetryMode
from truelayer_async.stores import FernetCodec, SqliteTokenStore
from truelayer_async.testing import FakeClock
from truelayer_async.tokens import TokenKey, TokenRecord

pytestmark = pytest.mark.asyncio

ACCOUNTS = f"{DATA}/accounts"
JSON = {"content-type": "application/json"}


async def expired(tl: Session, secrets: Secrets, clock: FakeClock) -> TokenRecord:
    """Connect, then move past expiry; returns the record as stored before the fault."""
    await connect(tl, secrets)
    clock.advance(4000)
    record = await stored(tl)
    assert record is not None
    return record


def raw(status: int, body: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=body, headers={"content-type": content_type})


def rotate_with(server: TokenServer, **fields: Any) -> Any:
    """A script step: the server really rotates, but answers with ``fields`` overriding."""

    def step(request: httpx.Request) -> httpx.Response:
        server.handle({"grant_type": "refresh_token", **form_of(request)})
        body = token_json(server.latest_access, server.latest_refresh)
        for name, value in fields.items():
            if value is _DROP:
                body.pop(name, None)
            else:
                body[name] = value
        return httpx.Response(200, json=body)

    return step


_DROP = object()


# -- 1..8: the token endpoint answers 200 with something unusable ------------------------


async def test_bad_input_01_truncated_token_json(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard
) -> None:
    before = await expired(tl, secrets, clock)
    server.script = [raw(200, f'{{"access_token":"{secrets.access(9)}'.encode())]
    with guard.raises(e.MalformedTokenResponse):
        await tl.auth.valid_token(user="u")
    assert await stored(tl) == before
    assert server.count("refresh_token") == 1


@pytest.mark.parametrize("where", ["token", "api"])
async def test_bad_input_02_html_login_page(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    respx_mock: respx.MockRouter,
    where: str,
) -> None:
    page = f"<html><form>login</form>{secrets.refresh(1)}</html>".encode()
    if where == "token":
        before = await expired(tl, secrets, clock)
        server.script = [raw(200, page, "text/html")]
        with guard.raises(e.MalformedTokenResponse) as info:
            await tl.auth.valid_token(user="u")
    else:
        await connect(tl, secrets)
        before = await stored(tl)
        respx_mock.get(ACCOUNTS).mock(return_value=raw(200, page, "text/html"))
        with guard.raises(e.MalformedResponseError) as info:
            await tl.data.accounts(user="u")
    assert "text/html" in str(info.value)
    assert await stored(tl) == before


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_bad_input_03_gateway_html(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    guard: Guard,
    respx_mock: respx.MockRouter,
    sleeps: RecordingSleep,
    status: int,
) -> None:
    await connect(tl, secrets)
    before = await stored(tl)
    page = f"<html><h1>{status} Bad Gateway</h1><!-- {secrets.access(1)} --></html>".encode()
    route = respx_mock.get(ACCOUNTS).mock(return_value=raw(status, page, "text/html"))
    with guard.raises(e.DataApiError) as info:
        await tl.data.accounts(user="u")
    assert route.call_count == 3  # retried per RT-04
    assert info.value.status_code == status
    assert info.value.description is not None and "text/html" in info.value.description
    assert len(sleeps.delays) == 2
    assert await stored(tl) == before


@pytest.mark.parametrize("status", [200, 204])
@pytest.mark.parametrize("where", ["token", "api"])
async def test_bad_input_04_empty_body(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    respx_mock: respx.MockRouter,
    status: int,
    where: str,
) -> None:
    if where == "token":
        before = await expired(tl, secrets, clock)
        server.script = [raw(status, b"")]
        with guard.raises(e.MalformedTokenResponse):
            await tl.auth.valid_token(user="u")
    else:
        await connect(tl, secrets)
        before = await stored(tl)
        respx_mock.get(ACCOUNTS).mock(return_value=raw(status, b""))
        with guard.raises(e.MalformedResponseError):
            await tl.data.accounts(user="u")
    assert await stored(tl) == before


@pytest.mark.parametrize("body", [b"[]", b'"a-string-body"', b"null", b"42"])
@pytest.mark.parametrize("where", ["token", "api"])
async def test_bad_input_05_non_object_top_level(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    respx_mock: respx.MockRouter,
    body: bytes,
    where: str,
) -> None:
    if where == "token":
        before = await expired(tl, secrets, clock)
        server.script = [raw(200, body)]
        with guard.raises(e.MalformedTokenResponse) as info:
            await tl.auth.valid_token(user="u")
    else:
        await connect(tl, secrets)
        before = await stored(tl)
        respx_mock.get(ACCOUNTS).mock(return_value=raw(200, body))
        with guard.raises(e.MalformedResponseError) as info:
            await tl.data.accounts(user="u")
    assert "a-string-body" not in str(info.value)  # the type is named, never the body
    assert await stored(tl) == before


async def test_bad_input_06_refresh_without_access_token_persists_new_refresh_token(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard
) -> None:
    await expired(tl, secrets, clock)
    server.script = [rotate_with(server, access_token=_DROP)]
    with guard.raises(e.MalformedTokenResponse) as info:
        await tl.auth.valid_token(user="u")
    assert info.value.path == "$.access_token"
    record = await stored(tl)
    assert refresh_of(record) == server.latest_refresh == secrets.refresh(2)
    assert record is not None and not record.token.access_token  # marked "no access token"
    # The next call refreshes with the saved token and works.
    token = await tl.auth.valid_token(user="u")
    assert token.access_token.get_secret_value() == server.latest_access


@pytest.mark.parametrize("token_type", ["mac", None])
async def test_bad_input_07_token_type_not_bearer(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    token_type: str | None,
) -> None:
    await expired(tl, secrets, clock)
    server.script = [rotate_with(server, token_type=token_type if token_type else _DROP)]
    with guard.raises(e.MalformedTokenResponse) as info:
        await tl.auth.valid_token(user="u")
    assert info.value.path == "$.token_type"
    assert refresh_of(await stored(tl)) == server.latest_refresh


@pytest.mark.parametrize(
    ("expires_in", "ok"),
    [
        ("3600", True),
        (0, False),
        (-5, False),
        (1e12, False),
        ("abc", False),
        (None, False),
        # Regression: "²" passed str.isdigit() and then broke int(); the ValueError escaped
        # before the new refresh token was saved.
        ("²", False),
        ("٣٦٠٠", False),
    ],
)
async def test_bad_input_08_expires_in(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    expires_in: Any,
    ok: bool,
) -> None:
    await expired(tl, secrets, clock)
    server.script = [rotate_with(server, expires_in=expires_in)]
    if ok:
        token = await tl.auth.valid_token(user="u")
        assert token.expires_in == 3600
    else:
        with guard.raises(e.MalformedTokenResponse) as info:
            await tl.auth.valid_token(user="u")
        assert info.value.path == "$.expires_in"
        assert str(expires_in) not in str(info.value) or expires_in in (0, None)
    assert refresh_of(await stored(tl)) == server.latest_refresh


# -- 9..17: Data API bodies ---------------------------------------------------------------


def transaction(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "transaction_id": "t-1",
        "timestamp": "2024-01-01T00:00:00Z",
        "description": "SHOP",
        "amount": -12.3,
        "currency": "GBP",
        "transaction_type": "DEBIT",
        "transaction_category": "PURCHASE",
        "transaction_classification": [],
        "meta": {},
    }
    item.update(overrides)
    return item


TXNS = f"{ACCOUNTS}/acc-1/transactions"


@pytest.mark.parametrize(
    ("field", "value"), [("amount", "12.3x"), ("currency", None), ("timestamp", 5)]
)
async def test_bad_input_09_wrong_field_types(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    guard: Guard,
    respx_mock: respx.MockRouter,
    field: str,
    value: Any,
) -> None:
    await connect(tl, secrets)
    good = transaction(transaction_id="t-0")
    respx_mock.get(TXNS).mock(
        return_value=httpx.Response(200, json={"results": [good, transaction(**{field: value})]})
    )
    with guard.raises(e.MalformedResponseError) as info:
        await tl.data.transactions("acc-1", user="u")  # no partial page comes back
    assert info.value.path == f"$.results[1].{field}"


async def test_bad_input_10_unknown_fields_and_enum_values_are_kept(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    respx_mock: respx.MockRouter,
) -> None:
    await expired(tl, secrets, clock)
    server.script = [rotate_with(server, brand_new_member={"x": 1})]
    assert await tl.auth.valid_token(user="u")
    respx_mock.get(TXNS).mock(
        return_value=httpx.Response(
            200,
            json={"results": [transaction(transaction_type="NEW", surprise=[1, 2])]},
        )
    )
    [txn] = await tl.data.transactions("acc-1", user="u")
    assert txn.transaction_type == "NEW"


@pytest.mark.parametrize("where", ["token", "api"])
async def test_bad_input_11_endless_body_is_capped(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    respx_mock: respx.MockRouter,
    where: str,
) -> None:
    chunk = b"[" * 65536
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield chunk

    cap = TOKEN_MAX_BYTES
    tracemalloc.start()
    try:
        if where == "token":
            before = await expired(tl, secrets, clock)
            server.script = [lambda request: httpx.Response(200, headers=JSON, content=endless())]
            with guard.raises(e.ResponseTooLargeError):
                await tl.auth.valid_token(user="u")
            assert await stored(tl) == before
        else:
            respx_mock.get(ACCOUNTS).mock(
                side_effect=lambda request: httpx.Response(200, headers=JSON, content=endless())
            )
            with guard.raises(e.ResponseTooLargeError):
                await tl._core.requester().request("GET", ACCOUNTS, api=Api.DATA, max_bytes=cap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * cap + 512 * 1024  # bounded: read in chunks, never all at once
    assert pulled <= cap // len(chunk) + 2  # the stream stopped right after the cap


async def test_bad_input_12_deep_nesting(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    respx_mock.get(ACCOUNTS).mock(return_value=raw(200, b"[" * 100_000 + b"]" * 100_000))
    with guard.raises(e.MalformedResponseError) as info:
        await tl.data.accounts(user="u")
    assert "deeply" in str(info.value)  # RecursionError mapped; the process survives


async def test_bad_input_13_5000_digit_integer(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    respx_mock.get(ACCOUNTS).mock(return_value=raw(200, b'{"results":[' + b"7" * 5000 + b"]}"))
    with guard.raises(e.MalformedResponseError) as info:
        await tl.data.accounts(user="u")
    assert "integer too long" in str(info.value)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
async def test_bad_input_14_nan_and_infinity(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    guard: Guard,
    respx_mock: respx.MockRouter,
    constant: bytes,
) -> None:
    await connect(tl, secrets)
    body = b'{"results":[{"amount":' + constant + b"}]}"
    respx_mock.get(TXNS).mock(return_value=raw(200, body))
    with guard.raises(e.MalformedResponseError):
        await tl.data.transactions("acc-1", user="u")


@pytest.mark.parametrize("where", ["token", "api"])
async def test_bad_input_15_duplicate_keys(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    respx_mock: respx.MockRouter,
    where: str,
) -> None:
    if where == "token":
        before = await expired(tl, secrets, clock)
        body = (
            f'{{"access_token":"{secrets.access(5)}","access_token":"{secrets.access(6)}",'
            '"token_type":"Bearer","expires_in":3600}'
        ).encode()
        server.script = [raw(200, body)]
        with guard.raises(e.MalformedTokenResponse):
            await tl.auth.valid_token(user="u")
        assert await stored(tl) == before
    else:
        await connect(tl, secrets)
        body = b'{"results":[{"amount":1,"amount":2}]}'
        respx_mock.get(TXNS).mock(return_value=raw(200, body))
        with guard.raises(e.MalformedResponseError) as info:
            await tl.data.transactions("acc-1", user="u")
        assert "duplicate" in str(info.value)


async def test_bad_input_16_encodings(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    route = respx_mock.get(ACCOUNTS)
    for body in (b'{"results":["\xff"]}', '{"results":[]}'.encode("utf-16")):
        route.mock(return_value=raw(200, body))
        with guard.raises(e.MalformedResponseError):
            await tl.data.accounts(user="u")
    route.mock(return_value=raw(200, b"\xef\xbb\xbf" + b'{"results":[],"status":"Succeeded"}'))
    assert await tl.data.accounts(user="u") == []  # a UTF-8 BOM is accepted


async def test_bad_input_17_error_bodies_are_typed_with_trace_ids(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    respx_mock.get(ACCOUNTS).mock(
        return_value=httpx.Response(
            404,
            json={"error": "account_not_found", "error_description": "nope"},
            headers={"X-TL-Correlation-Id": "corr-1"},
        )
    )
    with guard.raises(e.AccountNotFoundError) as info:
        await tl.data.accounts(user="u")
    assert info.value.correlation_id == "corr-1" and info.value.error == "account_not_found"
    respx_mock.post(f"{API}/verification/v1/verify").mock(
        return_value=httpx.Response(
            400,
            json={"type": "https://docs/x", "title": "Invalid Parameters", "trace_id": "tr-9"},
            headers={"content-type": "application/problem+json"},
        )
    )
    with guard.raises(e.VerificationApiError) as problem:
        await tl.verification.verify("Alice", user="u")
    assert problem.value.error == "Invalid Parameters" and problem.value.correlation_id == "tr-9"
    respx_mock.get(f"{ACCOUNTS}/a").mock(
        return_value=httpx.Response(400, text="Bad request", headers={"Tl-Trace-Id": "tr-2"})
    )
    with guard.raises(e.DataApiError) as plain:
        await tl.data.account("a", user="u")
    assert plain.value.status_code == 400 and plain.value.correlation_id == "tr-2"


# -- 18..25: refresh under failure ------------------------------------------------------------


def bearer_checked(server: TokenServer, body: dict[str, Any]) -> Any:
    """A Data API route that accepts only the newest access token (TrueLayer behaviour)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {server.latest_access}":
            return httpx.Response(401, json={"error": "unauthorized"})
        return httpx.Response(200, json=body)

    return handler


async def test_bad_input_18_401_mid_batch_one_refresh(
    tl: Session, server: TokenServer, secrets: Secrets, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    balance = {"results": [{"currency": "GBP", "available": 1, "current": 1}]}
    route = respx_mock.get(url__regex=rf"{ACCOUNTS}/acc-\d+/balance").mock(
        side_effect=bearer_checked(server, balance)
    )
    server.generation += 1  # the server moved on: our access token is no longer the newest
    server.latest_refresh = secrets.refresh(1)
    results: dict[int, Any] = {}

    async def one(i: int) -> None:
        results[i] = await tl.data.balance(f"acc-{i}", user="u")

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(one, i)
    assert sorted(results) == list(range(20))  # complete: no gaps, no duplicates
    assert server.count("refresh_token") == 1
    assert route.call_count == 40


async def test_bad_input_19_401_after_refresh_is_unauthenticated(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    respx_mock.get(ACCOUNTS).mock(return_value=httpx.Response(401, json={"error": "unauthorized"}))
    with guard.raises(e.UnauthenticatedError):
        await tl.data.accounts(user="u")
    assert server.count("refresh_token") == 1
    assert refresh_of(await stored(tl)) == server.latest_refresh


async def test_bad_input_20_invalid_grant_marks_invalid_and_fails_fast(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard
) -> None:
    before = await expired(tl, secrets, clock)
    server.revoked = True
    with guard.raises(e.ReauthorizationRequired) as info:
        await tl.auth.valid_token(user="u")
    assert info.value.reason == "invalid_grant"
    record = await stored(tl)
    assert record is not None and record.invalid and record.token == before.token  # kept
    calls = len(server.calls)
    with guard.raises(e.ReauthorizationRequired):
        await tl.data.accounts(user="u")
    assert len(server.calls) == calls  # later calls make no request


async def test_bad_input_21_invalid_client_is_not_retried(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard
) -> None:
    before = await expired(tl, secrets, clock)
    server.script = [httpx.Response(401, json={"error": "invalid_client"})]
    with guard.raises(e.InvalidClientError):
        await tl.auth.valid_token(user="u")
    assert server.count("refresh_token") == 1
    assert await stored(tl) == before
    server.script = [httpx.Response(401, json={"error": "invalid_client"})]
    with guard.raises(e.InvalidClientError):
        await tl.auth.client_credentials()  # client credentials: the same, not retried
    assert server.count("client_credentials") == 1


async def test_bad_input_22_drop_during_code_exchange(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard
) -> None:
    link = tl.auth.auth_link(scopes=["accounts"], state=secrets.state)
    code = tl.auth.parse_callback(
        f"code={secrets.code}&state={secrets.state}", expected_state=link.state
    )
    server.script = ["commit-then-drop"]
    with guard.raises(e.CodeExchangeOutcomeUnknown):
        await tl.auth.exchange_code(code, user="u", code_verifier=secrets.verifier)
    assert server.count("authorization_code") == 1
    assert await stored(tl) is None
    with guard.raises(e.StateMismatchError):  # the state stays consumed
        tl.auth.parse_callback(
            f"code={secrets.code}&state={secrets.state}", expected_state=link.state
        )


@pytest.mark.parametrize("reuse", ["revoke", "grace"])
async def test_bad_input_23_drop_during_refresh(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard, reuse: str
) -> None:
    server.reuse = reuse
    before = await expired(tl, secrets, clock)
    server.script = ["commit-then-drop"]
    if reuse == "grace":
        token = await tl.auth.valid_token(user="u")
        assert token.access_token.get_secret_value() == server.latest_access
        assert refresh_of(await stored(tl)) == server.latest_refresh
    else:
        with guard.raises(e.ReauthorizationRequired) as info:
            await tl.auth.valid_token(user="u")
        assert info.value.reason == "refresh_outcome_unknown"
        record = await stored(tl)
        assert record is not None and record.invalid and record.token == before.token
    assert server.count("refresh_token") == 2


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout])
async def test_bad_input_24_connect_failures_are_retried(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock, exc: type[Exception]
) -> None:
    await expired(tl, secrets, clock)
    writes: list[TokenRecord] = []
    real_set = tl.token_store.set

    async def spy(key: TokenKey, record: TokenRecord) -> None:
        writes.append(record)
        await real_set(key, record)

    tl.token_store.set = spy  # type: ignore[method-assign]
    server.script = [exc("refused"), exc("refused")]
    token = await tl.auth.valid_token(user="u")
    assert token.access_token.get_secret_value() == server.latest_access
    assert len(writes) == 1 and server.count("refresh_token") == 3


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, json={"error": "server_error"}),
        httpx.Response(503, text="<html>down</html>"),
        httpx.Response(503, json={"error": "temporarily_unavailable"}),
    ],
)
async def test_bad_input_25_token_endpoint_down(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    answer: httpx.Response,
) -> None:
    await connect(tl, secrets)
    before = await stored(tl)
    clock.advance(3600 - 30)  # inside the leeway, still valid
    server.script = [answer]
    token = await tl.auth.valid_token(user="u")  # the still-valid token is served
    assert token == before.token if before else False
    clock.advance(60)  # now expired
    server.script = [answer]
    with guard.raises(e.TokenEndpointUnavailable):
        await tl.auth.valid_token(user="u")
    assert await stored(tl) == before
    server.script = [answer] * 3
    with guard.raises(e.TokenEndpointUnavailable):
        await tl.auth.client_credentials()  # side-effect free: retried, then typed
    assert server.count("client_credentials") == 3


# -- 26..36: transport and protocol -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "slept"),
    [
        ("5", 5.0),
        ("date+7", 7.0),
        ("abc", None),
        ("-1", None),
        ("99999", "raise"),
    ],
)
async def test_bad_input_26_retry_after(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    sleeps: RecordingSleep,
    guard: Guard,
    respx_mock: respx.MockRouter,
    value: str,
    slept: float | str | None,
) -> None:
    await connect(tl, secrets)
    if value.startswith("date+"):
        value = email.utils.formatdate(clock() + int(value[5:]), usegmt=True)
    limited = httpx.Response(
        429, json={"error": "provider_too_many_requests"}, headers={"Retry-After": value}
    )
    route = respx_mock.get(ACCOUNTS).mock(
        side_effect=[limited, httpx.Response(200, json=accounts_body())]
    )
    if slept == "raise":
        with guard.raises(e.RateLimitedError) as info:
            await tl.data.accounts(user="u")
        assert info.value.retry_after == 99999 and route.call_count == 1
        return
    assert await tl.data.accounts(user="u")
    if slept is None:
        assert sleeps.delays and sleeps.delays[0] <= 0.5  # garbage ignored: normal back-off
    else:
        assert sleeps.delays[0] == pytest.approx(slept, abs=1.0)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("where", ["token", "api"])
async def test_bad_input_27_redirects_are_never_followed(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    guard: Guard,
    respx_mock: respx.MockRouter,
    status: int,
    where: str,
) -> None:
    evil = respx_mock.route(host="evil.example").mock(return_value=httpx.Response(200))
    moved = httpx.Response(status, headers={"location": "https://evil.example/steal"})
    if where == "token":
        before = await expired(tl, secrets, clock)
        server.script = [moved]
        with guard.raises(e.UnexpectedRedirectError):
            await tl.auth.valid_token(user="u")
        assert await stored(tl) == before
    else:
        await connect(tl, secrets)
        respx_mock.get(ACCOUNTS).mock(return_value=moved)
        with guard.raises(e.UnexpectedRedirectError):
            await tl.data.accounts(user="u")
    assert evil.call_count == 0


async def test_bad_input_28_store_write_fails_after_refresh(
    server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard
) -> None:
    store = FailingStore()
    async with Session(
        "c", secrets.client_secret, redirect_uri=REDIRECT, clock=clock, token_store=store
    ) as tl:
        await expired(tl, secrets, clock)
        store.fail = 1
        with guard.raises(e.TokenPersistenceError):
            await tl.auth.valid_token(user="u")
        assert server.count("refresh_token") == 1
        token = await tl.auth.valid_token(user="u")  # the write is retried; no new refresh
        assert token.access_token.get_secret_value() == server.latest_access
        assert server.count("refresh_token") == 1
        assert refresh_of(await store.get(data_key(tl))) == server.latest_refresh
        guard.obj(tl, store, token)


async def test_bad_input_29_undecryptable_record_is_left_alone(
    tmp_path: Any, server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard
) -> None:
    path = tmp_path / "tokens.db"
    good = SqliteTokenStore(path, codec=FernetCodec(FernetCodec.generate_key()))
    async with Session(
        "c", secrets.client_secret, redirect_uri=REDIRECT, clock=clock, token_store=good
    ) as tl:
        await connect(tl, secrets)
        key = data_key(tl)
    wrong = SqliteTokenStore(path, codec=FernetCodec(FernetCodec.generate_key()))
    async with Session(
        "c", secrets.client_secret, redirect_uri=REDIRECT, clock=clock, token_store=wrong
    ) as tl:
        with guard.raises(e.StoreDecryptError):
            await tl.auth.valid_token(user="u")
        with guard.raises(e.StoreDecryptError):
            await tl.data.accounts(user="u")
    assert refresh_of(await good.get(key)) == server.latest_refresh  # never overwritten
    plain = SqliteTokenStore(path)
    with guard.raises((e.StoreDecryptError, e.StoreCorruptedError)):
        await plain.get(key)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("code=C", e.StateMismatchError),
        ("code=C&state=wrong", e.StateMismatchError),
        ("code=C&state=S&state=S", e.StateMismatchError),
        ("code=C&state=%C3%A9", e.StateMismatchError),
        ("state=S", e.AuthorizationCallbackError),
        ("code=C&code=D&state=S", e.AuthorizationCallbackError),
        ("error=access_denied&state=S", e.AuthorizationDenied),
        ("code=C&state=S&iss=https%3A%2F%2Fauth.truelayer.com", e.IssuerMismatchError),
    ],
)
async def test_bad_input_30_bad_callbacks(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    guard: Guard,
    query: str,
    error: type[Exception],
) -> None:
    query = query.replace("C", secrets.code).replace("=S", f"={secrets.state}")
    with guard.raises(error):
        tl.auth.parse_callback(f"{REDIRECT}?{query}", expected_state=secrets.state)
    assert server.calls == []


async def test_bad_input_30_reused_state(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard
) -> None:
    url = f"{REDIRECT}?code={secrets.code}&state={secrets.state}"
    tl.auth.parse_callback(url, expected_state=secrets.state)
    with guard.raises(e.StateMismatchError):
        tl.auth.parse_callback(url, expected_state=secrets.state)
    assert server.calls == []


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_bad_input_31_reset_mid_body(
    tl: Session, guard: Guard, respx_mock: respx.MockRouter, method: str
) -> None:
    route = respx_mock.route(method=method, url=ACCOUNTS).mock(
        side_effect=[httpx.RemoteProtocolError("peer closed"), httpx.Response(200, json={})]
    )
    if method == "GET":
        assert (
            await tl._core.requester().request(method, ACCOUNTS, api=Api.DATA)
        ).status_code == 200
        assert route.call_count == 2
    else:
        with guard.raises(e.TransportError) as info:
            await tl._core.requester().request(
                method, ACCOUNTS, api=Api.DATA, retry_mode=RetryMode.UNSENT_ONLY
            )
        assert info.value.request_sent is True and route.call_count == 1


async def test_bad_input_32_slow_drip_hits_the_total_deadline(
    secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    async def drip() -> AsyncIterator[bytes]:
        while True:
            await anyio.sleep(0.02)
            yield b" "

    respx_mock.get(ACCOUNTS).mock(
        side_effect=lambda r: httpx.Response(200, headers=JSON, content=drip())
    )
    async with Session("c", secrets.client_secret, timeout=0.3) as tl:
        with guard.raises(e.TransportTimeout):
            await tl._core.requester().request("GET", ACCOUNTS, api=Api.DATA)


async def test_bad_input_33_short_expires_in_no_refresh_storm(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock
) -> None:
    await connect(tl, secrets)
    server.script = []
    original = server.issue

    def short() -> httpx.Response:
        original()
        return httpx.Response(
            200, json=token_json(server.latest_access, server.latest_refresh, 30)
        )

    server.issue = short  # type: ignore[method-assign]
    clock.advance(4000)
    await tl.auth.valid_token(user="u")
    refreshes = server.count("refresh_token")
    for _ in range(30):  # 60 s in 2 s steps: 4 half-lifetimes of a 30 s token
        clock.advance(2)
        await tl.auth.valid_token(user="u")
    assert server.count("refresh_token") - refreshes <= 4


async def test_bad_input_34_cancelled_leader_still_persists(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    clock: FakeClock,
    respx_mock: respx.MockRouter,
) -> None:
    await expired(tl, secrets, clock)
    started = anyio.Event()
    release = anyio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        started.set()
        await release.wait()
        return server(request)

    respx_mock.post(TOKEN_URL).mock(side_effect=slow)
    waiter: list[Any] = []
    async with anyio.create_task_group() as tg:
        leader = anyio.CancelScope()

        async def lead() -> None:
            with leader:
                await tl.auth.valid_token(user="u")

        async def wait() -> None:
            waiter.append(await tl.auth.valid_token(user="u"))

        tg.start_soon(lead)
        await started.wait()
        tg.start_soon(wait)
        leader.cancel()
        await anyio.sleep(0.01)
        release.set()
    assert refresh_of(await stored(tl)) == server.latest_refresh == secrets.refresh(2)
    assert waiter[0].access_token.get_secret_value() == server.latest_access


@pytest.mark.parametrize(
    ("status", "error", "cls", "calls"),
    [
        (502, "Feature Not Supported", e.EndpointNotSupportedError, 1),
        (501, "endpoint_not_supported", e.EndpointNotSupportedError, 1),
        (502, "provider_error", e.DataApiError, 3),
    ],
)
async def test_bad_input_35_feature_not_supported_vs_provider_error(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    guard: Guard,
    respx_mock: respx.MockRouter,
    status: int,
    error: str,
    cls: type[Exception],
    calls: int,
) -> None:
    await connect(tl, secrets)
    route = respx_mock.get(ACCOUNTS).mock(
        return_value=httpx.Response(status, json={"error": error})
    )
    with guard.raises(cls):
        await tl.data.accounts(user="u")
    assert route.call_count == calls


@pytest.mark.parametrize("status", [409, 422])
async def test_bad_input_36_idempotency_conflicts_not_applicable(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    guard: Guard,
    respx_mock: respx.MockRouter,
    status: int,
) -> None:
    """No Payments in this SDK, so no idempotency keys (docs/reliability.md, RT-06): a 409
    or 422 from the APIs it does call is a typed error, raised at once."""
    await connect(tl, secrets)
    route = respx_mock.get(ACCOUNTS).mock(
        return_value=httpx.Response(status, json={"error": "conflict"})
    )
    with guard.raises(e.DataApiError) as info:
        await tl.data.accounts(user="u")
    assert info.value.status_code == status and route.call_count == 1
