"""Merchant accounts in the emulator, over raw HTTP: seeded accounts, balances that move
with settled payments and executed refunds, transactions (filters, the 31-day window,
cursor pages, invalid and expired cursors), payment sources and sweeping. Every response
is validated against payments-api-v3.json."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.support.raw_payments import MERCHANT, Payments
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio

GBP = MERCHANT["merchant_account_id"]


def window(fake: FakeTrueLayer, days: float = 1, after: float = 60) -> dict[str, str]:
    now = datetime.fromtimestamp(fake.clock(), timezone.utc)
    start = now - timedelta(days=days)
    return {"from": start.isoformat(), "to": (now + timedelta(seconds=after)).isoformat()}


async def transactions(api: Payments, params: dict[str, str], account: str = GBP) -> Any:
    response = await api.request(
        "GET", f"/v3/merchant-accounts/{account}/transactions", params=params
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_seeded_accounts_one_per_currency(api: Payments) -> None:
    listed = (await api.request("GET", "/v3/merchant-accounts")).json()["items"]
    assert sorted(a["currency"] for a in listed) == ["EUR", "GBP", "PLN"]
    gbp = next(a for a in listed if a["currency"] == "GBP")
    assert gbp["id"] == GBP == api.fake.merchant_account_id("GBP")
    one = (await api.request("GET", f"/v3/merchant-accounts/{GBP}")).json()
    assert one == gbp and one["available_balance_in_minor"] == one["current_balance_in_minor"]
    missing = await api.request("GET", "/v3/merchant-accounts/nope")
    assert missing.status_code == 404


async def test_a_settled_payment_credits_the_account_and_a_refund_debits_it(
    api: Payments,
) -> None:
    before = api.fake.merchant_account_balance(GBP)
    payment_id = await api.settled()
    account = (await api.request("GET", f"/v3/merchant-accounts/{GBP}")).json()
    assert account["current_balance_in_minor"] == before + 1000
    items = (await transactions(api, window(api.fake)))["items"]
    (credit,) = [t for t in items if t["type"] == "merchant_account_payment"]
    assert credit["payment_id"] == payment_id and credit["amount_in_minor"] == 1000
    payment = await api.get(payment_id)
    assert credit["payment_source"] == payment["payment_source"]
    user_id = payment["user"]["id"]
    sources = await api.request(
        "GET", f"/v3/merchant-accounts/{GBP}/payment-sources", params={"user_id": user_id}
    )
    assert sources.json()["items"] == [payment["payment_source"]]
    refund = await api.request(
        "POST", f"/v3/payments/{payment_id}/refunds", {"reference": "Back", "amount_in_minor": 300}
    )
    assert refund.status_code == 202
    api.fake.advance(5)
    assert api.fake.merchant_account_balance(GBP) == before + 700
    payouts_only = (await transactions(api, {**window(api.fake), "type": "payout"}))["items"]
    assert [(t["type"], t["amount_in_minor"], t["refund_id"]) for t in payouts_only] == [
        ("refund", 300, refund.json()["id"])
    ]
    payments_only = (await transactions(api, {**window(api.fake), "type": "payment"}))["items"]
    assert [t["type"] for t in payments_only] == ["merchant_account_payment"]


async def test_payment_sources_need_a_user_id(api: Payments) -> None:
    response = await api.request("GET", f"/v3/merchant-accounts/{GBP}/payment-sources")
    assert response.status_code == 400 and "user_id" in response.json()["errors"]
    none = await api.request(
        "GET", f"/v3/merchant-accounts/{GBP}/payment-sources", params={"user_id": "nobody"}
    )
    assert none.json() == {"items": []}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-01-02T00:00:00Z"}, "from"),
        ({"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00Z"}, "from"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-02-02T00:00:00Z"}, "to"),
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "type": "x"}, "type"),
    ],
)
async def test_transaction_queries_are_checked(
    api: Payments, params: dict[str, str], field: str
) -> None:
    response = await api.request("GET", f"/v3/merchant-accounts/{GBP}/transactions", params=params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


async def test_from_is_inclusive_and_to_exclusive(api: Payments) -> None:
    fake = api.fake
    at = datetime.fromtimestamp(fake.clock(), timezone.utc)
    fake.credit_merchant_account(GBP, 5)
    exactly = {"from": at.isoformat(), "to": (at + timedelta(seconds=1)).isoformat()}
    assert len((await transactions(api, exactly))["items"]) == 1
    before = {"from": (at - timedelta(hours=1)).isoformat(), "to": at.isoformat()}
    assert (await transactions(api, before))["items"] == []


async def test_hundreds_of_transactions_in_cursor_pages(api: Payments) -> None:
    fake = api.fake
    fake.seed_transactions(GBP, 310, spacing=60)
    params = window(fake)
    seen: list[str] = []
    pages = 0
    while True:
        body = await transactions(api, params)
        pages += 1
        assert len(body["items"]) <= 25
        seen += [t["id"] for t in body["items"]]
        cursor = body["pagination"].get("next_cursor")
        if cursor is None:
            break
        params = {**params, "cursor": cursor}
    assert len(seen) == len(set(seen)) == 310 and pages == 13
    times = [t["settled_at"] for t in (await transactions(api, window(fake)))["items"]]
    assert times == sorted(times)


async def test_bad_foreign_and_expired_cursors_answer_invalid_cursor(api: Payments) -> None:
    fake = api.fake
    fake.seed_transactions(GBP, 30)
    params = window(fake)
    cursor = (await transactions(api, params))["pagination"]["next_cursor"]
    other = {**params, "type": "payout", "cursor": cursor}
    for bad in ({**params, "cursor": "garbage"}, other):
        response = await api.request(
            "GET", f"/v3/merchant-accounts/{GBP}/transactions", params=bad
        )
        assert response.status_code == 400
        assert response.json()["detail"] == "Invalid cursor"
    fake.advance(3601)
    await api.login()  # the token expired too
    expired = await api.request(
        "GET", f"/v3/merchant-accounts/{GBP}/transactions", params={**params, "cursor": cursor}
    )
    assert expired.status_code == 400 and expired.json()["detail"] == "Invalid cursor"


async def test_sweeping_set_read_run_and_disable(api: Payments) -> None:
    fake = api.fake
    path = f"/v3/merchant-accounts/{GBP}/sweeping"
    assert (await api.request("GET", path)).status_code == 404
    unsigned = await api.request(
        "POST", path, {"max_amount_in_minor": 1, "frequency": "daily"}, signed=False
    )
    assert unsigned.status_code == 401
    bad = await api.request("POST", path, {"max_amount_in_minor": -1, "frequency": "hourly"})
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"max_amount_in_minor", "frequency"}
    balance = fake.merchant_account_balance(GBP)
    settings = {"max_amount_in_minor": balance - 5000, "currency": "GBP", "frequency": "daily"}
    assert (await api.request("POST", path, settings)).status_code == 204
    got = (await api.request("GET", path)).json()
    assert got["max_amount_in_minor"] == balance - 5000 and got["destination"]["type"] == "iban"
    fake.advance(86_400)
    await api.login()  # the token expired meanwhile
    assert fake.merchant_account_balance(GBP) == balance - 5000
    (sweep,) = (await transactions(api, window(fake, days=2), GBP))["items"]
    assert sweep["type"] == "payout" and sweep["beneficiary"]["reference"] == "Sweep"
    fake.credit_merchant_account(GBP, 700)
    assert fake.run_sweep(GBP) == 700 and fake.run_sweep(GBP) == 0
    assert (await api.request("DELETE", path)).status_code == 204
    assert (await api.request("GET", path)).status_code == 404
    with pytest.raises(ValueError, match="not set up"):
        fake.run_sweep(GBP)
