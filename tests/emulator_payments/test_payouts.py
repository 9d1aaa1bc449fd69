"""Payouts in the emulator, over raw HTTP: every beneficiary type, every status (pending,
authorized, executed, failed with insufficient funds or a driven reason, returned after
executed, and a verified payout's authorization_required and authorizing), the verified
payout's flow and hosted page, balances and transactions, webhooks, signatures and
idempotency. Every response is validated against payments-api-v3.json."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.support.payout_pages import choose_on_page, walk_payouts_page
from tests.support.raw_payments import Payments
from tests.support.raw_payouts import EXTERNAL, GBP, VERIFIED, create, get, payout
from truelayer_async.webhooks.events import parse_event

pytestmark = pytest.mark.anyio

RETURN = "https://shop.example/payout-done"


async def test_external_payout_pending_authorized_executed(api: Payments) -> None:
    fake = api.fake
    fake.set_webhook_uri("")
    before = fake.merchant_account_balance(GBP)
    created = await create(api, payout(EXTERNAL, metadata={"order": "42"}))
    assert set(created) == {"id"}
    pending = await get(api, created["id"])
    assert pending["status"] == "pending"
    assert pending["beneficiary"]["account_identifiers"] == [EXTERNAL["account_identifier"]]
    assert pending["scheme_id"] == "faster_payments_service"
    account = (await api.request("GET", f"/v3/merchant-accounts/{GBP}")).json()
    assert account["available_balance_in_minor"] == before - 1500  # held
    assert account["current_balance_in_minor"] == before
    fake.advance(1)
    assert (await get(api, created["id"]))["status"] == "authorized"
    fake.advance(1)
    executed = await get(api, created["id"])
    assert executed["status"] == "executed" and "executed_at" in executed
    assert fake.merchant_account_balance(GBP) == before - 1500
    (event,) = [w.payload for w in fake.webhooks]
    parsed = parse_event(event)
    assert parsed.type == "payout_executed" and event["payout_id"] == created["id"]
    assert event["metadata"] == {"order": "42"}


async def test_payment_source_and_business_account_payouts(api: Payments) -> None:
    payment_id = await api.settled()
    payment = await api.get(payment_id)
    source = payment["payment_source"]
    back = {
        "type": "payment_source",
        "reference": "Refund 1",
        "payment_source_id": source["id"],
        "user_id": payment["user"]["id"],
    }
    first = await create(api, payout(back, 400))
    second = await create(api, payout({"type": "business_account", "reference": "Treasury"}))
    api.fake.advance(2)
    paid_back = await get(api, first["id"])
    assert paid_back["status"] == "executed"
    assert paid_back["beneficiary"]["account_holder_name"] == source["account_holder_name"]
    treasury = await get(api, second["id"])
    assert treasury["beneficiary"]["account_identifiers"]
    unknown = await api.request("POST", "/v3/payouts", payout({**back, "payment_source_id": "x"}))
    assert unknown.status_code == 400
    assert "beneficiary.payment_source_id" in unknown.json()["errors"]


async def test_insufficient_funds_fails_the_payout(api: Payments) -> None:
    fake = api.fake
    fake.set_webhook_uri("")
    balance = fake.merchant_account_balance(GBP)
    created = await create(api, payout(EXTERNAL, balance + 1))
    assert (await get(api, created["id"]))["status"] == "pending"
    fake.advance(1)
    failed = await get(api, created["id"])
    assert failed["status"] == "failed" and failed["failure_reason"] == "insufficient_funds"
    assert fake.merchant_account_balance(GBP) == balance
    assert [w.payload["type"] for w in fake.webhooks] == ["payout_failed"]


async def test_driven_failure_and_a_returned_payout(api: Payments) -> None:
    fake = api.fake
    balance = fake.merchant_account_balance(GBP)
    doomed = await create(api, payout(EXTERNAL))
    assert fake.fail_payout(doomed["id"], "blocked") == "failed"
    assert (await get(api, doomed["id"]))["failure_reason"] == "blocked"
    with pytest.raises(ValueError, match="already failed"):
        fake.fail_payout(doomed["id"])
    kept = await create(api, payout(EXTERNAL, 900))
    fake.advance(2)
    assert fake.payout_status(kept["id"]) == "executed"
    assert fake.merchant_account_balance(GBP) == balance - 900
    fake.fail_payout(kept["id"], "returned")
    returned = await get(api, kept["id"])
    assert returned["status"] == "failed" and returned["failure_reason"] == "returned"
    assert "executed_at" in returned
    assert fake.merchant_account_balance(GBP) == balance
    with pytest.raises(LookupError):
        fake.fail_payout("nope")


async def test_create_is_checked_signed_and_idempotent(api: Payments) -> None:
    bad = await api.request("POST", "/v3/payouts", payout({"type": "nope"}, 0, currency="USD"))
    assert bad.status_code == 400
    assert {"amount_in_minor", "currency", "beneficiary.type"} <= set(bad.json()["errors"])
    foreign = await api.request("POST", "/v3/payouts", payout(EXTERNAL, merchant_account_id="x"))
    assert foreign.json()["errors"] == {"merchant_account_id": ["Unknown merchant account."]}
    wrong = await api.request("POST", "/v3/payouts", payout(EXTERNAL, currency="EUR"))
    assert "currency" in wrong.json()["errors"]
    assert (
        await api.request("POST", "/v3/payouts", payout(EXTERNAL), signed=False)
    ).status_code == 401
    assert (
        await api.request("POST", "/v3/payouts", payout(EXTERNAL), key=None)
    ).status_code == 401
    first = await api.request("POST", "/v3/payouts", payout(EXTERNAL), key="k-1")
    again = await api.request("POST", "/v3/payouts", payout(EXTERNAL), key="k-1")
    assert first.json() == again.json()
    reuse = await api.request("POST", "/v3/payouts", payout(EXTERNAL, 2), key="k-1")
    assert reuse.status_code == 422
    scheme = {"type": "preselected", "scheme_id": "faster_payments_service"}
    chosen = await create(api, payout(EXTERNAL, scheme_selection=scheme))
    assert (await get(api, chosen["id"]))["scheme_id"] == "faster_payments_service"
    assert (await api.request("GET", "/v3/payouts/nope")).status_code == 404


async def test_verified_payout_through_the_api_flow(api: Payments) -> None:
    created = await create(api, payout(VERIFIED))
    assert created["status"] == "authorization_required" and created["user"] == {"id": "user-2"}
    token = created["resource_token"]
    path = f"/v3/payouts/{created['id']}/authorization-flow"
    assert (await api.request("GET", path, token=token)).json() == {"status": "created"}
    assert (await get(api, created["id"]))["status"] == "authorization_required"
    started = await api.request(
        "POST", path, {"redirect": {"return_uri": RETURN}}, token=token, signed=False, key=None
    )
    assert started.status_code == 200, started.text
    redirect = started.json()["actions"]["next"]
    assert redirect["type"] == "redirect" and "resource_token" not in redirect["uri"]
    assert (await get(api, created["id"]))["status"] == "authorizing"
    back = await choose_on_page(api.client, redirect["uri"], "authorise")
    assert back.headers["location"] == f"{RETURN}?payout_id={created['id']}"
    assert (await api.request("GET", path, token=token)).json() == {"status": "completed"}
    pending = await get(api, created["id"])
    assert pending["status"] == "pending"
    assert pending["beneficiary"]["account_holder_name"] == "John Doe"
    api.fake.advance(2)
    assert (await get(api, created["id"]))["status"] == "executed"
    items = (
        await api.request(
            "GET",
            f"/v3/merchant-accounts/{GBP}/transactions",
            params={"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"},
        )
    ).json()["items"]
    assert items == []  # outside the window: nothing


async def test_verified_payout_on_the_hosted_page_rejected(api: Payments) -> None:
    created = await create(api, payout(VERIFIED))
    fragment = urlencode(
        {
            "payout_id": created["id"],
            "resource_token": created["resource_token"],
            "return_uri": RETURN,
        }
    )
    uri = f"{api.fake.environment.payouts_page_url}/payouts#{fragment}"
    back = await walk_payouts_page(api.client, uri, "reject")
    assert back.headers["location"].startswith(RETURN)
    failed = await get(api, created["id"])
    assert failed["status"] == "failed" and failed["failure_reason"] == "account_not_valid"
    flow = await api.request(
        "GET", f"/v3/payouts/{created['id']}/authorization-flow", token=created["resource_token"]
    )
    assert flow.json() == {"status": "completed", "failure_reason": "account_not_valid"}


async def test_payout_resource_tokens_are_bound_to_their_payout(api: Payments) -> None:
    one = await create(api, payout(VERIFIED))
    other = await create(api, payout(VERIFIED))
    token = one["resource_token"]
    elsewhere = await api.request(
        "GET", f"/v3/payouts/{other['id']}/authorization-flow", token=token
    )
    assert elsewhere.status_code == 403
    assert (await api.request("GET", f"/v3/payouts/{one['id']}", token=token)).status_code == 403
    regular = await create(api, payout(EXTERNAL))
    no_flow = await api.request("GET", f"/v3/payouts/{regular['id']}/authorization-flow")
    assert no_flow.status_code == 400
    assert api.fake.authorize_payout(one["id"]) == "pending"
    with pytest.raises(ValueError, match="not awaiting"):
        api.fake.authorize_payout(one["id"])
