"""tl.data and tl.verification at the wire (respx), with OpenAPI-shaped fixtures."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import anyio
import httpx
import pytest
import respx

from tests.support.data_api import DATA, fixture, ok
from tests.support.doubles import RecordingSleep
from tests.support.token_endpoint import AUTH, TOKEN_URL, token_response
from truelayer_async import (
    AccountNotFoundError,
    DataApiError,
    EndpointNotSupportedError,
    InvalidParameterError,
    MalformedResponseError,
    ReauthorizationRequired,
    ScaExceededError,
    Session,
    TokenType,
    UnauthenticatedError,
    VerificationApiError,
    _fast_decode,
)
from truelayer_async.models import (
    Account,
    AccountBalance,
    Card,
    CardBalance,
    CardTransaction,
    DirectDebit,
    Info,
    Me,
    StandingOrder,
    Transaction,
    VerificationResult,
)


def first(body: dict[str, Any]) -> dict[str, Any]:
    return {"results": body["results"][:1], "status": "Succeeded"}


ENDPOINTS = [
    ("me", (), "/me", "me", Me, True),
    ("info", (), "/info", "info", Info, False),
    ("accounts", (), "/accounts", "accounts", Account, False),
    ("account", ("acc-1",), "/accounts/acc-1", "accounts", Account, True),
    ("balance", ("acc-1",), "/accounts/acc-1/balance", "balance", AccountBalance, True),
    (
        "transactions",
        ("acc-1",),
        "/accounts/acc-1/transactions",
        "transactions",
        Transaction,
        False,
    ),
    (
        "pending_transactions",
        ("acc-1",),
        "/accounts/acc-1/transactions/pending",
        "pending_transactions",
        Transaction,
        False,
    ),
    (
        "standing_orders",
        ("acc-1",),
        "/accounts/acc-1/standing_orders",
        "standing_orders",
        StandingOrder,
        False,
    ),
    (
        "direct_debits",
        ("acc-1",),
        "/accounts/acc-1/direct_debits",
        "direct_debits",
        DirectDebit,
        False,
    ),
    ("cards", (), "/cards", "cards", Card, False),
    ("card", ("card-1",), "/cards/card-1", "cards", Card, True),
    ("card_balance", ("card-1",), "/cards/card-1/balance", "card_balance", CardBalance, True),
    (
        "card_transactions",
        ("card-1",),
        "/cards/card-1/transactions",
        "card_transactions",
        CardTransaction,
        False,
    ),
    (
        "card_pending_transactions",
        ("card-1",),
        "/cards/card-1/transactions/pending",
        "card_transactions",
        CardTransaction,
        False,
    ),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("method", "args", "path", "fixture_name", "model", "single"), ENDPOINTS)
async def test_every_endpoint(
    tl: Session,
    respx_mock: respx.MockRouter,
    method: str,
    args: tuple[str, ...],
    path: str,
    fixture_name: str,
    model: type,
    single: bool,
) -> None:
    body = fixture(fixture_name)
    if single:
        body = first(body)
    route = respx_mock.get(f"{DATA}{path}").mock(return_value=ok(body))
    result = await getattr(tl.data, method)(*args, user="alice", psu_ip="203.0.113.7")
    request = route.calls[0].request
    assert request.headers["authorization"] == "Bearer at-1"
    assert request.headers["x-psu-ip"] == "203.0.113.7"
    if single:
        assert isinstance(result, model)
    else:
        assert isinstance(result, list)
        assert len(result) == len(body["results"]) > 0
        assert all(isinstance(item, model) for item in result)
    raw = await getattr(tl.data.with_raw_response, method)(*args, user="alice")
    assert raw.correlation_id == "corr-ok" and raw.status_code == 200
    assert raw.retries_taken == 0 and raw.parsed == result
    assert raw.http_response.status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(("method", "args", "path", "fixture_name", "model", "single"), ENDPOINTS)
async def test_every_endpoint_gives_the_same_models_with_and_without_speedups(
    tl: Session,
    respx_mock: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    args: tuple[str, ...],
    path: str,
    fixture_name: str,
    model: type,
    single: bool,
) -> None:
    body = fixture(fixture_name)
    respx_mock.get(f"{DATA}{path}").mock(return_value=ok(first(body) if single else body))
    assert _fast_decode.available()
    fast = await getattr(tl.data, method)(*args, user="alice")
    monkeypatch.setattr(_fast_decode, "_ENABLED", False)
    strict = await getattr(tl.data, method)(*args, user="alice")
    assert fast == strict


@pytest.mark.asyncio
async def test_decimal_exactness_through_the_service(
    tl: Session, respx_mock: respx.MockRouter
) -> None:
    raw_json = (
        b'{"results":[{"currency":"GBP","available":0.1,"current":-12.40,'
        b'"overdraft":12345678901234567.89,"update_timestamp":"2024-05-01T10:05:12Z"}],'
        b'"status":"Succeeded"}'
    )
    respx_mock.get(f"{DATA}/accounts/a/balance").mock(
        return_value=httpx.Response(
            200, content=raw_json, headers={"content-type": "application/json"}
        )
    )
    balance = await tl.data.balance("a", user="alice")
    assert balance.available == Decimal("0.1")
    assert str(balance.current) == "-12.40"
    assert balance.overdraft == Decimal("12345678901234567.89")
    assert balance.update_timestamp is not None and balance.update_timestamp.tzinfo is not None


@pytest.mark.asyncio
async def test_date_ranges(tl: Session, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"{DATA}/accounts/a/transactions").mock(
        return_value=ok({"results": [], "status": "Succeeded"})
    )
    await tl.data.transactions("a", from_=date(2024, 1, 1), to=date(2024, 1, 31), user="alice")
    assert route.calls[-1].request.url.params["from"] == "2024-01-01"
    assert route.calls[-1].request.url.params["to"] == "2024-01-31"
    start = datetime(2024, 1, 1, 8, 30, tzinfo=timezone(timedelta(hours=1)))
    await tl.data.transactions("a", from_=start, user="alice")
    assert route.calls[-1].request.url.params["from"] == "2024-01-01T08:30:00+01:00"
    assert "to" not in route.calls[-1].request.url.params
    calls = route.call_count
    with pytest.raises(InvalidParameterError):
        await tl.data.transactions("a", from_=date(2024, 2, 1), to=date(2024, 1, 1), user="alice")
    with pytest.raises(ValueError, match="aware"):
        await tl.data.transactions("a", from_=datetime(2024, 1, 1), user="alice")
    with pytest.raises(ValueError, match="account_id"):
        await tl.data.transactions("", user="alice")
    assert route.call_count == calls


@pytest.mark.asyncio
async def test_account_ids_are_quoted(tl: Session, respx_mock: respx.MockRouter) -> None:
    # Characters that stay inside the segment are percent-encoded; ids that would leave
    # it ("a/../b") are refused (tests/reliability/test_i15_sec.py).
    route = respx_mock.get(f"{DATA}/accounts/a%20b%3Ac%40d/balance").mock(
        return_value=ok(first(fixture("balance")))
    )
    await tl.data.balance("a b:c@d", user="alice")
    assert route.call_count == 1
    with pytest.raises(InvalidParameterError):
        await tl.data.balance("a/../b", user="alice")
    assert route.call_count == 1


@pytest.mark.asyncio
async def test_401_refreshes_and_replays_once(tl: Session, respx_mock: respx.MockRouter) -> None:
    token_route = respx_mock.post(TOKEN_URL)
    token_route.mock(return_value=token_response(access="at-2", refresh="rt-2"))
    calls_before = token_route.call_count
    route = respx_mock.get(f"{DATA}/accounts").mock(
        side_effect=[
            httpx.Response(401, json={"error": "unauthorized"}),
            ok(fixture("accounts")),
        ]
    )
    accounts = await tl.data.accounts(user="alice")
    assert accounts
    assert route.call_count == 2
    assert token_route.call_count == calls_before + 1
    assert route.calls[0].request.headers["authorization"] == "Bearer at-1"
    assert route.calls[1].request.headers["authorization"] == "Bearer at-2"


@pytest.mark.asyncio
async def test_second_401_raises_unauthenticated(
    tl: Session, respx_mock: respx.MockRouter
) -> None:
    token_route = respx_mock.post(TOKEN_URL)
    token_route.mock(return_value=token_response(access="at-2", refresh="rt-2"))
    before = token_route.call_count
    respx_mock.get(f"{DATA}/accounts").mock(
        return_value=httpx.Response(
            401, json={"error": "invalid_token"}, headers={"X-TL-Correlation-Id": "c401"}
        )
    )
    with pytest.raises(UnauthenticatedError) as info:
        await tl.data.accounts(user="alice")
    assert info.value.correlation_id == "c401"
    assert token_route.call_count == before + 1


@pytest.mark.asyncio
async def test_concurrent_401s_share_one_refresh(
    tl: Session, respx_mock: respx.MockRouter
) -> None:
    token_route = respx_mock.post(TOKEN_URL)
    token_route.mock(return_value=token_response(access="at-2", refresh="rt-2"))
    before = token_route.call_count

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer at-1":
            return httpx.Response(401, json={"error": "unauthorized"})
        return ok(fixture("accounts"))

    respx_mock.get(f"{DATA}/accounts").mock(side_effect=handler)
    async with anyio.create_task_group() as tg:
        for _ in range(25):
            tg.start_soon(lambda: tl.data.accounts(user="alice"))
    assert token_route.call_count == before + 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "error", "exc_type"),
    [
        (403, "access_denied", ReauthorizationRequired),
        (403, "sca_exceeded", ScaExceededError),
        (404, "account_not_found", AccountNotFoundError),
        (501, "endpoint_not_supported", EndpointNotSupportedError),
        (400, "invalid_date_range", DataApiError),
    ],
)
async def test_errors_are_typed_and_never_refresh(
    tl: Session, respx_mock: respx.MockRouter, status: int, error: str, exc_type: type
) -> None:
    token_route = respx_mock.post(TOKEN_URL)
    before = token_route.call_count
    respx_mock.get(f"{DATA}/accounts").mock(
        return_value=httpx.Response(
            status,
            json={"error": error, "error_description": "described", "error_details": {"k": "v"}},
            headers={"X-TL-Correlation-Id": "corr-err"},
        )
    )
    with pytest.raises(exc_type) as info:
        await tl.data.accounts(user="alice")
    assert info.value.status_code == status and info.value.error == error
    assert info.value.description == "described" and info.value.details == {"k": "v"}
    assert info.value.correlation_id == "corr-err"
    assert token_route.call_count == before


@pytest.mark.asyncio
async def test_html_on_200_is_malformed(tl: Session, respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{DATA}/accounts").mock(
        return_value=httpx.Response(
            200, content=b"<html>hi</html>", headers={"content-type": "text/html"}
        )
    )
    with pytest.raises(MalformedResponseError):
        await tl.data.accounts(user="alice")


@pytest.mark.asyncio
async def test_missing_field_names_its_path(tl: Session, respx_mock: respx.MockRouter) -> None:
    body = fixture("transactions")
    del body["results"][0]["amount"]
    respx_mock.get(f"{DATA}/accounts/a/transactions").mock(return_value=ok(body))
    with pytest.raises(MalformedResponseError) as info:
        await tl.data.transactions("a", user="alice")
    assert info.value.path == "$.results[0].amount"


@pytest.mark.asyncio
async def test_async_mode_polls_until_done(
    tl: Session, respx_mock: respx.MockRouter, sleeps: RecordingSleep
) -> None:
    task_url = "https://api.truelayer-sandbox.com/data/v1/results/task-1"
    start = respx_mock.get(f"{DATA}/accounts", params={"async": "true"}).mock(
        return_value=httpx.Response(
            202, json={"results_uri": task_url, "status": "Queued", "task_id": "task-1"}
        )
    )
    poll = respx_mock.get(task_url).mock(
        side_effect=[
            ok({"results": [], "status": "Running"}),
            ok({"results": [], "status": "Running"}),
            ok(fixture("accounts")),
        ]
    )
    pending = await tl.data.with_async_mode(webhook_uri="https://hook.example/x").accounts(
        user="alice"
    )
    assert pending.task.task_id == "task-1"
    assert start.calls[0].request.url.params["webhook_uri"] == "https://hook.example/x"
    accounts = await pending.result()
    assert all(isinstance(a, Account) for a in accounts) and accounts
    assert poll.call_count == 3
    assert sleeps.delays[-2:] == [0.5, 1.0]


@pytest.mark.asyncio
async def test_async_failure_and_foreign_results_uri(
    tl: Session, respx_mock: respx.MockRouter
) -> None:
    task_url = f"{DATA}/results/t2"
    respx_mock.get(f"{DATA}/accounts").mock(
        side_effect=[
            httpx.Response(
                202, json={"results_uri": task_url, "status": "Queued", "task_id": "t2"}
            ),
            httpx.Response(
                202,
                json={
                    "results_uri": "https://evil.example/r",
                    "status": "Queued",
                    "task_id": "t3",
                },
            ),
        ]
    )
    respx_mock.get(task_url).mock(
        return_value=ok(
            {"status": "Failed", "error": "provider_error", "error_description": "down"}
        )
    )
    pending = await tl.data.with_async_mode().accounts(user="alice")
    with pytest.raises(DataApiError) as info:
        await pending.result()
    assert info.value.error == "provider_error"
    with pytest.raises(MalformedResponseError, match="outside"):
        await tl.data.with_async_mode().accounts(user="alice")


@pytest.mark.asyncio
async def test_validate_token(tl: Session, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"{DATA}/me").mock(
        side_effect=[ok(fixture("me")), httpx.Response(401, json={"error": "unauthorized"})]
    )
    assert await tl.data.validate_token(user="alice") is True
    assert await tl.data.validate_token(user="alice") is False
    assert await tl.data.validate_token(user="nobody") is False
    assert route.call_count == 2


@pytest.mark.asyncio
async def test_verification(tl: Session, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("https://api.truelayer-sandbox.com/verification/v1/verify").mock(
        side_effect=[
            ok(fixture("verification_result")),
            httpx.Response(
                400,
                json={
                    "type": "https://docs.truelayer.com/errors#x",
                    "title": "Bad Request",
                    "status": 400,
                    "detail": "name too long",
                    "trace_id": "tr-1",
                },
                headers={"content-type": "application/problem+json"},
            ),
        ]
    )
    result = await tl.verification.verify("Jane Smith", user="alice")
    assert isinstance(result, VerificationResult)
    assert json.loads(route.calls[0].request.content) == {"name": "Jane Smith"}
    with pytest.raises(VerificationApiError) as info:
        await tl.verification.verify("Jane Smith", user="alice")
    assert info.value.error == "Bad Request" and info.value.correlation_id == "tr-1"
    with pytest.raises(InvalidParameterError):
        await tl.verification.verify("x" * 201, user="alice")


@pytest.mark.asyncio
async def test_auth_server_endpoints(tl: Session, respx_mock: respx.MockRouter) -> None:
    delete = respx_mock.delete(f"{AUTH}/api/delete").mock(return_value=httpx.Response(200))
    providers = respx_mock.get(f"{AUTH}/api/providers").mock(return_value=ok(fixture("providers")))
    result = await tl.auth.providers(scopes=["info", "accounts"], countries=["GB"])
    assert result and result[0].provider_id
    params = providers.calls[0].request.url.params
    assert (
        params["clientId"] == "client"
        and params["scopes"] == "info accounts"
        and params["country"] == "uk"
    )
    await tl.auth.delete_credential(user="alice")
    assert delete.calls[0].request.headers["authorization"] == "Bearer at-1"
    assert await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, "alice")) is None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "args", "path", "fixture_name", "single"),
    [
        ("balance", ("acc-1",), "/accounts/acc-1/balance", "balance", True),
        (
            "card_pending_transactions",
            ("c1",),
            "/cards/c1/transactions/pending",
            "card_transactions",
            False,
        ),
        ("direct_debits", ("acc-1",), "/accounts/acc-1/direct_debits", "direct_debits", False),
    ],
)
async def test_async_mode_on_other_endpoints(
    tl: Session,
    respx_mock: respx.MockRouter,
    method: str,
    args: tuple[str, ...],
    path: str,
    fixture_name: str,
    single: bool,
) -> None:
    task_url = f"{DATA}/results/t-{method}"
    start = respx_mock.get(f"{DATA}{path}").mock(
        return_value=httpx.Response(
            202, json={"results_uri": task_url, "status": "Queued", "task_id": "t"}
        )
    )
    body = fixture(fixture_name)
    respx_mock.get(task_url).mock(return_value=ok(first(body) if single else body))
    pending = await getattr(tl.data.with_async_mode(), method)(*args, user="alice")
    assert start.calls[0].request.url.params["async"] == "true"
    result = await pending.result()
    assert isinstance(result, list) is not single
