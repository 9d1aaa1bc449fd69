"""Data API v1 behaviour: scopes, date windows, 404/501, personas, async, batch, data."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.support.emulator import START
from tests.support.served import bearer
from truelayer_async import _json
from truelayer_async.testing import FakeClock, FakeTrueLayer

from .helpers import API

ALL_CATEGORIES = {
    "ATM", "BILL_PAYMENT", "CASH", "CASHBACK", "CHEQUE", "CORRECTION", "CREDIT", "DIRECT_DEBIT",
    "DIVIDEND", "FEE_CHARGE", "INTEREST", "OTHER", "PURCHASE", "STANDING_ORDER", "TRANSFER",
    "DEBIT", "UNKNOWN",
}  # fmt: skip


class Conn:
    """A connection plus helpers to call the Data API with its token."""

    def __init__(self, fake: FakeTrueLayer, client: httpx.AsyncClient, **kwargs: Any) -> None:
        self.tokens = fake.create_connection(**kwargs)
        self.client = client
        data = fake.connection(self.tokens["access_token"]).data()
        self.current, self.savings = (a.account_id for a in data.accounts)
        self.card = data.cards[0].account_id if data.cards else None

    async def get(self, path: str, **params: str) -> httpx.Response:
        return await self.client.get(
            f"{API}/data/v1{path}", params=params, headers=bearer(self.tokens["access_token"])
        )

    async def results(self, path: str, **params: str) -> list[dict[str, Any]]:
        response = await self.get(path, **params)
        assert response.status_code == 200, response.text
        body = _json.loads(response.content)
        assert body["status"] == "Succeeded"
        results: list[dict[str, Any]] = body["results"]
        return results


def stamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# -- scopes ----------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("scopes", "path", "missing"),
    [
        (("accounts",), "/info", "info"),
        (("info",), "/accounts", "accounts"),
        (("accounts",), "/accounts/{current}/balance", "balance"),
        (("accounts", "balance"), "/accounts/{current}/transactions", "transactions"),
        (("accounts",), "/accounts/{current}/standing_orders", "standing_orders"),
        (("accounts",), "/accounts/{current}/direct_debits", "direct_debits"),
        (("accounts",), "/cards", "cards"),
        (("cards",), "/cards/{card}/balance", "balance"),
        (("cards", "balance"), "/cards/{card}/transactions/pending", "transactions"),
    ],
)
async def test_scope_checks(
    fake: FakeTrueLayer,
    client: httpx.AsyncClient,
    scopes: tuple[str, ...],
    path: str,
    missing: str,
) -> None:
    conn = Conn(fake, client, scopes=scopes)
    response = await conn.get(path.format(current=conn.current, card=conn.card))
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "insufficient_scope" and missing in body["error_description"]
    assert missing in body["error_details"]["missing_scopes"]


@pytest.mark.asyncio
async def test_me_needs_no_scope(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    conn = Conn(fake, client, scopes=("verification",))
    [me] = await conn.results("/me")
    assert me["scopes"] == ["verification"] and me["consent_status"] == "Authorised"
    assert me["consent_expires_at"] == "2024-07-30T10:00:00.000Z"


@pytest.mark.asyncio
async def test_running_balance_only_with_balance_scope(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    with_balance = Conn(fake, client)
    without = Conn(fake, client, scopes=("accounts", "transactions"))
    assert all(
        "running_balance" in t
        for t in await with_balance.results(f"/accounts/{with_balance.current}/transactions")
    )
    assert not any(
        "running_balance" in t
        for t in await without.results(f"/accounts/{without.current}/transactions")
    )


# -- from/to ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_default_window_is_90_days(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    conn = Conn(fake, client)
    txns = await conn.results(f"/accounts/{conn.current}/transactions")
    now = datetime.fromtimestamp(START, timezone.utc)
    assert txns and all(now - timedelta(days=90) <= stamp(t["timestamp"]) <= now for t in txns)
    everything = await conn.results(
        f"/accounts/{conn.current}/transactions", **{"from": "2020-01-01"}
    )
    assert len(everything) > len(txns)
    oldest = min(stamp(t["timestamp"]) for t in everything)
    assert now - oldest >= timedelta(days=180)


@pytest.mark.asyncio
async def test_date_bounds_are_inclusive(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    conn = Conn(fake, client)
    txns = await conn.results(
        f"/accounts/{conn.current}/transactions", **{"from": "2024-04-01", "to": "2024-04-01"}
    )
    assert txns and {t["timestamp"][:10] for t in txns} == {"2024-04-01"}
    by_datetime = await conn.results(
        f"/accounts/{conn.current}/transactions",
        **{"from": "2024-04-01T00:00:00Z", "to": "2024-04-01T00:00:00+00:00"},
    )
    assert by_datetime == txns
    naive = await conn.results(
        f"/accounts/{conn.current}/transactions",
        **{"from": "2024-04-01T00:00:00", "to": "2024-04-01T00:00"},
    )
    assert naive == txns
    before = await conn.results(
        f"/accounts/{conn.current}/transactions",
        **{"from": "2024-03-31", "to": "2024-03-31T23:59:59.999999"},
    )
    assert not {t["transaction_id"] for t in before} & {t["transaction_id"] for t in txns}


@pytest.mark.asyncio
async def test_to_alone_takes_90_days_before_it(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    conn = Conn(fake, client)
    txns = await conn.results(f"/accounts/{conn.current}/transactions", to="2024-02-01")
    stamps = [stamp(t["timestamp"]) for t in txns]
    assert max(stamps) <= datetime(2024, 2, 2, tzinfo=timezone.utc)
    assert min(stamps) >= datetime(2023, 11, 3, tzinfo=timezone.utc)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"from": "2024-04-02", "to": "2024-04-01"}, "invalid_date_range"),
        ({"from": "01/04/2024"}, "validation_error"),
        ({"to": "2024-13-01"}, "validation_error"),
        ({"from": "2024-04-01T00:00:00 00:00"}, "validation_error"),  # an unencoded "+"
        ({"async": "yes"}, "validation_error"),
        ({"async": "true", "webhook_uri": "not a url"}, "validation_error"),
    ],
)
async def test_bad_query_parameters(
    fake: FakeTrueLayer, client: httpx.AsyncClient, params: dict[str, str], error: str
) -> None:
    conn = Conn(fake, client)
    response = await conn.get(f"/accounts/{conn.current}/transactions", **params)
    assert response.status_code == 400 and response.json()["error"] == error


# -- 404 / 501 / personas ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_unknown_ids_are_404(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    conn = Conn(fake, client)
    for path in (
        "/accounts/nope",
        "/accounts/nope/transactions/pending",
        f"/accounts/{conn.card}/balance",  # a card id is not an account id
        f"/cards/{conn.current}",
        "/cards/nope/transactions",
    ):
        response = await conn.get(path)
        assert response.status_code == 404, path
        assert response.json() == {
            "error": "account_not_found",
            "error_description": "account not found",
            "error_details": {},
        }


@pytest.mark.asyncio
async def test_persona_without_cards_gets_501(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    conn = Conn(fake, client, username="john2")
    assert conn.card is None
    for path in ("/cards", "/cards/anything", "/cards/anything/balance"):
        response = await conn.get(path)
        assert response.status_code == 501 and response.json()["error"] == "endpoint_not_supported"
    assert len(await conn.results("/accounts")) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("account_permanently_locked", 403),
        ("account_temporarily_locked", 403),
        ("internal_error", 500),
        ("provider_error", 503),
        ("user_input_required", 403),
        ("wrong_credentials", 401),
    ],
)
async def test_error_personas(
    fake: FakeTrueLayer, client: httpx.AsyncClient, code: str, status: int
) -> None:
    conn = Conn(fake, client, username=f"error.{code}", password="error")
    for path in ("/info", "/accounts", f"/accounts/{conn.current}/transactions", "/cards"):
        response = await conn.get(path)
        assert response.status_code == status
        assert response.json()["error"] == code
        assert response.headers["x-credentials-id"]
    assert len(await conn.results("/me")) == 1


# -- async and batch ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_polling(client: httpx.AsyncClient) -> None:
    fake = FakeTrueLayer(async_running_polls=2)
    async with fake.http_client() as http:
        conn = Conn(fake, http)
        queued = await conn.get("/accounts", **{"async": "true"})
        assert queued.status_code == 202
        body = queued.json()
        assert body["status"] == "Queued"
        assert body["results_uri"] == f"{API}/data/v1/results/{body['task_id']}"
        headers = bearer(conn.tokens["access_token"])
        polls = [(await http.get(body["results_uri"], headers=headers)).json() for _ in range(3)]
        assert [p["status"] for p in polls] == ["Running", "Running", "Succeeded"]
        assert polls[0]["results"] == [] and len(polls[2]["results"]) == 2
        other = Conn(fake, http, username="john3")
        stranger = await http.get(
            body["results_uri"], headers=bearer(other.tokens["access_token"])
        )
        assert stranger.status_code == 404
        assert fake.webhooks == []


@pytest.mark.asyncio
async def test_async_failure_and_webhook(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    conn = Conn(fake, client, username="error.provider_error", password="error")
    queued = await conn.get(
        "/accounts", **{"async": "true", "webhook_uri": "https://hooks.example/tl"}
    )
    assert queued.status_code == 202
    result = await client.get(
        queued.json()["results_uri"], headers=bearer(conn.tokens["access_token"])
    )
    assert result.json() == {
        "status": "Failed",
        "error": "provider_error",
        "error_description": "The provider service is unavailable.",
    }
    [hook] = fake.webhooks
    assert hook.uri == "https://hooks.example/tl"
    assert (
        hook.payload["status"] == "Failed" and hook.payload["task_id"] == queued.json()["task_id"]
    )
    assert hook.payload["results_uri"] == queued.json()["results_uri"]
    assert hook.payload["credentials_id"] == queued.headers["x-credentials-id"]
    assert hook.payload["request_uri"].startswith(f"{API}/data/v1/accounts?async=true")


@pytest.mark.asyncio
async def test_me_is_not_async(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    conn = Conn(fake, client)
    response = await conn.get("/me", **{"async": "true"})
    assert response.status_code == 400


@pytest.mark.asyncio
async def test_batch(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    conn = Conn(fake, client)
    headers = bearer(conn.tokens["access_token"])
    assert (await client.get(f"{API}/data/v1/batch/results", headers=headers)).status_code == 404
    queued = await client.post(
        f"{API}/data/v1/batch/transactions",
        headers=headers,
        json={
            "from": "2024-04-01T00:00:00",
            "to": "2024-04-30T00:00:00",
            "account_ids_whitelist": [conn.current],
        },
    )
    assert queued.status_code == 202
    body = (await client.get(queued.json()["results_uri"], headers=headers)).json()
    assert body["status"] == "Succeeded" and body["task_id"] == queued.json()["task_id"]
    assert body["request"] == {"from": "2024-04-01T00:00:00", "to": "2024-04-30T00:00:00"}
    [account] = body["results"]["accounts"]
    assert account["account_id"] == conn.current and "balance" not in account
    assert len(body["results"]["cards"]) == 0
    bad = await client.post(
        f"{API}/data/v1/batch/transactions", headers=headers, json={"pending": "yes"}
    )
    assert bad.status_code == 400


# -- the synthetic data ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_amounts_are_exact_decimals(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    conn = Conn(fake, client)
    responses = [
        await conn.get(f"/accounts/{conn.current}/transactions", **{"from": "2020-01-01"}),
        await conn.get(f"/accounts/{conn.current}/balance"),
        await conn.get(f"/cards/{conn.card}/transactions", **{"from": "2020-01-01"}),
        await conn.get(f"/cards/{conn.card}/balance"),
        await conn.get(f"/accounts/{conn.current}/standing_orders"),
    ]
    for response in responses:
        for number in re.findall(r'":(-?\d+\.\d+)[,}]', response.text):
            assert len(number.split(".")[1]) == 2, number
        assert "e-" not in response.text.lower().replace("e-mail", "")


@pytest.mark.asyncio
async def test_balances_add_up(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    conn = Conn(fake, client)
    [balance] = await conn.results(f"/accounts/{conn.current}/balance")
    txns = await conn.results(f"/accounts/{conn.current}/transactions", **{"from": "2020-01-01"})
    pending = await conn.results(f"/accounts/{conn.current}/transactions/pending")
    assert txns[0]["running_balance"]["amount"] == balance["current"]
    for newer, older in itertools.pairwise(txns):
        assert (
            older["running_balance"]["amount"] + newer["amount"]
            == newer["running_balance"]["amount"]
        )
    assert (
        balance["available"]
        == balance["current"] + sum(p["amount"] for p in pending) + balance["overdraft"]
    )
    assert all("running_balance" not in p for p in pending)
    [card_balance] = await conn.results(f"/cards/{conn.card}/balance")
    card_pending = await conn.results(f"/cards/{conn.card}/transactions/pending")
    assert card_balance["available"] == (
        card_balance["credit_limit"]
        - card_balance["current"]
        - sum(p["amount"] for p in card_pending)
    )


@pytest.mark.asyncio
async def test_every_category_shows_up_in_the_default_window(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    conn = Conn(fake, client)
    txns = await conn.results(f"/accounts/{conn.current}/transactions")
    txns += await conn.results(f"/accounts/{conn.savings}/transactions")
    assert {t["transaction_category"] for t in txns} == ALL_CATEGORIES
    assert any(t["transaction_classification"] == [] for t in txns)
    assert all(t["transaction_type"] == ("DEBIT" if t["amount"] < 0 else "CREDIT") for t in txns)


@pytest.mark.asyncio
async def test_card_purchases_are_positive_debits(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    conn = Conn(fake, client)
    txns = await conn.results(f"/cards/{conn.card}/transactions")
    purchases = [t for t in txns if t["transaction_category"] == "PURCHASE"]
    assert purchases and all(
        t["amount"] > 0 and t["transaction_type"] == "DEBIT" for t in purchases
    )
    assert all(
        t["meta"]["cardNumber"].endswith(txns[0]["meta"]["cardNumber"][-4:]) for t in purchases
    )


@pytest.mark.asyncio
async def test_timestamps_use_several_formats(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    conn = Conn(fake, client)
    samples = [
        (await conn.results("/accounts"))[0]["update_timestamp"],
        (await conn.results(f"/accounts/{conn.current}/transactions"))[0]["timestamp"],
        (await conn.results(f"/accounts/{conn.savings}/transactions"))[0]["timestamp"],
        (await conn.results(f"/accounts/{conn.current}/transactions/pending"))[0]["timestamp"],
        (await conn.results(f"/accounts/{conn.current}/standing_orders"))[0]["timestamp"],
        (await conn.results(f"/accounts/{conn.current}/direct_debits"))[0]["timestamp"],
        (await conn.results(f"/cards/{conn.card}/balance"))[0]["last_statement_date"],
    ]
    patterns = [
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z",
        r"\d{4}-\d\d-\d\dT00:00:00\+00:00",
        r"\d{4}-\d\d-\d\dT00:00:00",
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00",
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+01:00",
        r"\d{4}-\d\d-\d\d",
    ]
    for sample, pattern in zip(samples, patterns, strict=True):
        assert re.fullmatch(pattern, sample), (sample, pattern)


@pytest.mark.asyncio
async def test_data_is_deterministic(client: httpx.AsyncClient) -> None:
    bodies = []
    for _ in range(2):
        fake = FakeTrueLayer(clock=FakeClock(START))
        async with fake.http_client() as http:
            conn = Conn(fake, http)
            response = await conn.get(
                f"/accounts/{conn.current}/transactions", **{"from": "2020-01-01"}
            )
            bodies.append(response.content)
    assert bodies[0] == bodies[1]


@pytest.mark.asyncio
async def test_ibans(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    def valid(iban: str) -> bool:
        digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
        return int(digits) % 97 == 1

    shared = [a["account_number"]["iban"] for a in await Conn(fake, client).results("/accounts")]
    distinct = [
        a["account_number"]["iban"]
        for a in await Conn(fake, client, username="john5", password="iban3").results("/accounts")
    ]
    assert len(set(shared)) == 1 and len(set(distinct)) == 2
    assert all(valid(iban) for iban in shared + distinct)


@pytest.mark.asyncio
async def test_standing_orders_and_direct_debits(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    conn = Conn(fake, client)
    orders = await conn.results(f"/accounts/{conn.current}/standing_orders")
    assert {o["status"] for o in orders} == {"Active", "Inactive"}
    assert orders[0]["next_payment_date"] == "2024-06-01T00:00:00+00:00"
    assert orders[0]["final_payment_date"] == "9999-12-31T00:00:00+00:00"
    debits = await conn.results(f"/accounts/{conn.current}/direct_debits")
    assert {d["name"] for d in debits} >= {"EDF ENERGY", "BT INTERNET"}
    assert all(isinstance(d["previous_payment_amount"], Decimal) for d in debits)
    assert await conn.results(f"/accounts/{conn.savings}/standing_orders") == []
    assert Decimal(str(orders[0]["next_payment_amount"])) > 0


@pytest.mark.asyncio
async def test_the_card_only_persona_has_cards_and_no_accounts(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    tokens = fake.create_connection(username="john", password="cards")
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    for path in ("/accounts", "/accounts/anything", "/accounts/anything/balance"):
        response = await client.get(f"/data/v1{path}", headers=headers)
        assert response.status_code == 501, path
        assert response.json()["error"] == "endpoint_not_supported"
    cards = await client.get("/data/v1/cards", headers=headers)
    assert len(cards.json()["results"]) == 1
    info = await client.get("/data/v1/info", headers=headers)
    assert info.status_code == 200
