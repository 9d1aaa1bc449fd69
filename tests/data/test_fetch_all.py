"""fetch_all: bounded concurrency, per-user failures, progress, one shared 429 back-off."""

from __future__ import annotations

from typing import Any

import anyio
import attrs
import httpx
import pytest
import respx

from tests.support.doubles import RecordingSleep
from tests.support.token_endpoint import REDIRECT, TOKEN_URL, form_of, token_response
from truelayer_async import (
    InvalidParameterError,
    ReauthorizationRequired,
    Session,
    TokenRecord,
    TokenType,
)
from truelayer_async.services._fan_out import Progress
from truelayer_async.testing import FakeClock

DATA = "https://api.truelayer-sandbox.com/data/v1"


def envelope(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"results": results, "status": "Succeeded"}


def account(account_id: str) -> dict[str, Any]:
    return {
        "update_timestamp": "2024-05-01T10:05:12Z",
        "account_id": account_id,
        "account_type": "TRANSACTION",
        "display_name": "Current",
        "currency": "GBP",
        "account_number": {"number": "12345678", "sort_code": "12-34-56"},
        "provider": {"provider_id": "mock"},
    }


def txn(i: int) -> dict[str, Any]:
    return {
        "transaction_id": f"t{i}",
        "timestamp": "2024-04-28T00:00:00+00:00",
        "description": "SHOP",
        "amount": -1.5,
        "currency": "GBP",
        "transaction_type": "DEBIT",
        "transaction_category": "PURCHASE",
        "transaction_classification": [],
    }


class Bank:
    """A respx handler that tracks requests in flight."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await anyio.sleep(0.005)
            path = request.url.path.removeprefix("/data/v1")
            if path == "/accounts":
                return httpx.Response(200, json=envelope([account("a1"), account("a2")]))
            if path.endswith("/balance"):
                return httpx.Response(
                    200, json=envelope([{"currency": "GBP", "current": 10.5, "available": 11}])
                )
            if path.endswith("/transactions"):
                return httpx.Response(200, json=envelope([txn(1), txn(2), txn(3)]))
            if path == "/cards":
                return httpx.Response(501, json={"error": "endpoint_not_supported"})
            return httpx.Response(404, json={"error": "account_not_found"})
        finally:
            self.in_flight -= 1


@pytest.mark.asyncio
async def test_fetch_all_bounded_and_isolated(
    clock: FakeClock, sleeps: RecordingSleep, respx_mock: respx.MockRouter
) -> None:
    def token_server(request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        if form["grant_type"] == "refresh_token":
            return httpx.Response(400, json={"error": "invalid_grant"})
        return token_response(access=f"at-{form['code']}", refresh=f"rt-{form['code']}")

    respx_mock.post(TOKEN_URL).mock(side_effect=token_server)
    bank = Bank()
    respx_mock.route(host="api.truelayer-sandbox.com").mock(side_effect=bank)
    progress: list[Progress] = []
    async with Session("c", "s", redirect_uri=REDIRECT, clock=clock, sleep=sleeps) as tl:
        users = [f"u{i}" for i in range(30)]
        for user in users:
            await tl.auth.exchange_code(user, user=user)
        # u7's connection has lapsed: its refresh is refused.
        await tl._core.tokens.persist(
            tl._core.tokens.key(TokenType.DATA, "u7"),
            await _expired(tl, "u7"),
        )
        results = await tl.data.fetch_all(users, concurrency=5, on_progress=progress.append)
    assert bank.peak <= 5
    assert [r.user for r in results] == users
    failed = [r for r in results if not r.ok]
    assert [r.user for r in failed] == ["u7"]
    assert isinstance(failed[0].error, ReauthorizationRequired)
    for r in results:
        if r.ok:
            assert [a.account.account_id for a in r.accounts] == ["a1", "a2"]
            assert all(len(a.transactions) == 3 and a.balance is not None for a in r.accounts)
            assert r.cards == ()
    assert len(progress) == 30 and progress[-1].done == 30 and progress[-1].total == 30
    assert sum(not p.ok for p in progress) == 1


async def _expired(tl: Session, user: str) -> TokenRecord:
    record = await tl.token_store.get(tl._core.tokens.key(TokenType.DATA, user))
    assert record is not None
    past = record.token.expires_at.replace(year=2000)
    return attrs.evolve(
        record, token=attrs.evolve(record.token, expires_at=past), version=record.version + 1
    )


@pytest.mark.asyncio
async def test_one_429_holds_back_siblings(
    clock: FakeClock, sleeps: RecordingSleep, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(TOKEN_URL).mock(return_value=token_response())
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(
                429, json={"error": "provider_too_many_requests"}, headers={"Retry-After": "7"}
            )
        path = request.url.path.removeprefix("/data/v1")
        if path == "/accounts":
            return httpx.Response(200, json=envelope([]))
        return httpx.Response(501, json={"error": "endpoint_not_supported"})

    respx_mock.route(host="api.truelayer-sandbox.com").mock(side_effect=handler)
    async with Session("c", "s", redirect_uri=REDIRECT, clock=clock, sleep=sleeps) as tl:
        await tl.auth.exchange_code("x", user="a")
        await tl.auth.exchange_code("y", user="b")
        results = await tl.data.fetch_all(["a", "b"], concurrency=1)
    assert all(r.ok for r in results)
    # The 429'd request waits 7 s before its retry, and its sibling waits at the shared gate.
    assert sum(1 for d in sleeps.delays if d > 6) >= 2


@pytest.mark.asyncio
async def test_fetch_all_rejects_bad_arguments(respx_mock: respx.MockRouter) -> None:
    async with Session("c", "s") as tl:
        with pytest.raises(InvalidParameterError):
            await tl.data.fetch_all(["a"], concurrency=0)
        with pytest.raises(InvalidParameterError):
            await tl.data.fetch_all(["a"], concurrency=1000)


# -- either side may be unsupported ------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_card_only_bank_is_fetched_without_accounts() -> None:
    from truelayer_async.testing import FakeTrueLayer

    async with FakeTrueLayer() as fake, fake.session() as tl:
        await fake.connect(tl, user="amex", username="john", password="cards")
        await fake.connect(tl, user="no-cards", username="john2")
        amex, no_cards = await tl.data.fetch_all(["amex", "no-cards"])
    assert amex.ok, amex.error
    assert amex.accounts == () and len(amex.cards) == 1
    assert amex.cards[0].balance is not None and amex.cards[0].transactions
    assert no_cards.ok and len(no_cards.accounts) == 2 and no_cards.cards == ()
    assert fake.count("/data/v1/accounts", status=501) == 1
    assert fake.count("/data/v1/cards", status=501) == 1
