"""Issue #14 §2: the Data API endpoint table and the generic mirrors of every service."""

from __future__ import annotations

import inspect
from pathlib import Path

import httpx
import pytest
import respx

import truelayer_async
from tests.support.data_api import DATA, fixture, ok
from tests.support.token_endpoint import AUTH, TOKEN_URL, token_response
from truelayer_async import PendingResult, RawResponse, Session
from truelayer_async.services.data import AsyncDataService, DataService, RawDataService

API = "https://api.truelayer-sandbox.com"
ENDPOINT_METHODS = [
    name
    for name, member in inspect.getmembers(DataService, inspect.iscoroutinefunction)
    if not name.startswith("_") and name not in ("validate_token", "fetch_all")
]


def test_the_data_service_is_short() -> None:
    path = Path(truelayer_async.__file__).parent / "services" / "data.py"
    assert len(path.read_text(encoding="utf-8").splitlines()) < 400


@pytest.mark.asyncio
async def test_the_mirrors_cover_every_endpoint_with_its_signature_and_docstring(
    tl: Session,
) -> None:
    raw = vars(tl.data.with_raw_response)
    pending = vars(tl.data.with_async_mode())
    assert set(raw) == set(ENDPOINT_METHODS)
    assert set(pending) == set(ENDPOINT_METHODS) - {"me", "info"}  # no async mode there
    for name in ENDPOINT_METHODS:
        method = getattr(tl.data, name)
        assert inspect.signature(raw[name]) == inspect.signature(method)
        assert raw[name].__doc__ == method.__doc__
    assert isinstance(tl.data.with_raw_response, RawDataService)
    assert isinstance(tl.data.with_async_mode(), AsyncDataService)


@pytest.mark.asyncio
async def test_async_mode_sends_async_and_the_webhook(
    tl: Session,
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.get(f"{DATA}/cards/c1/transactions").mock(
        return_value=httpx.Response(
            202,
            json={"task_id": "t1", "results_uri": f"{DATA}/results/t1", "status": "Queued"},
        )
    )
    mirror = tl.data.with_async_mode(webhook_uri="https://hook.example/x")
    pending = await mirror.card_transactions("c1", user="alice", from_=None)
    assert isinstance(pending, PendingResult) and pending.task.task_id == "t1"
    params = route.calls.last.request.url.params
    assert params["async"] == "true" and params["webhook_uri"] == "https://hook.example/x"
    # The plain service is untouched by the mirror.
    respx_mock.get(f"{DATA}/cards").mock(return_value=ok(fixture("cards")))
    assert isinstance(await tl.data.cards(user="alice"), list)


@pytest.mark.asyncio
async def test_raw_responses_on_auth_and_verification(
    tl: Session,
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.get(f"{AUTH}/api/providers").mock(
        return_value=httpx.Response(200, json=[], headers={"X-TL-Correlation-Id": "c-prov"})
    )
    raw = await tl.auth.with_raw_response.providers()
    assert isinstance(raw, RawResponse)
    assert raw.parsed == [] and raw.correlation_id == "c-prov" and raw.status_code == 200
    respx_mock.post(f"{API}/verification/v1/verify").mock(
        return_value=ok(fixture("verification_result"))
    )
    verified = await tl.verification.with_raw_response.verify("Jane Doe", user="alice")
    assert verified.parsed == await tl.verification.verify("Jane Doe", user="alice")
    assert verified.correlation_id == "corr-ok"


@pytest.mark.asyncio
async def test_a_raw_response_is_the_api_answer_not_the_refresh(
    tl: Session,
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.get(f"{DATA}/accounts").mock(
        side_effect=[httpx.Response(401, json={"error": "x"}), ok(fixture("accounts"))]
    )
    respx_mock.post(TOKEN_URL).mock(
        return_value=token_response(access="at-2", refresh="rt-2", scope="accounts")
    )
    raw = await tl.data.with_raw_response.accounts(user="alice")
    assert route.call_count == 2
    assert raw.http_response.request.url.path.endswith("/accounts")
    assert raw.correlation_id == "corr-ok" and raw.parsed
