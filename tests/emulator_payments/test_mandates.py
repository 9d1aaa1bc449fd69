"""VRP mandates in the emulator, over raw HTTP: create (scopes, signature, checks), every
status (authorization_required, authorizing, authorized, failed, revoked), the flow
(provider selection, consent, the mock bank), the hosted page, list pages, funds,
constraints with their usage, and payments on a mandate (within limits, over them, on a
revoked or unauthorised mandate). Every response is validated against
payments-api-v3.json."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.support.raw_mandates import create, get, mandate
from tests.support.raw_payments import MERCHANT, Payments
from truelayer_async.webhooks.events import parse_event

pytestmark = pytest.mark.anyio

RETURN = "https://shop.example/mandate-done"
SWEEP = "recurring_payments:sweeping"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def login(api: Payments, scope: str = SWEEP) -> str:
    await api.login(scope)
    return api.token


async def authorized(api: Payments, body: dict[str, Any] | None = None) -> str:
    created = await create(api, body)
    api.fake.authorize_mandate(created["id"])
    return str(created["id"])


async def pay(api: Payments, mandate_id: str, amount: int) -> dict[str, Any]:
    payments_token = api.token
    await api.login("payments")
    body = {
        "amount_in_minor": amount,
        "currency": "GBP",
        "payment_method": {"type": "mandate", "mandate_id": mandate_id, "reference": "Sweep"},
        "user": {"id": "user-1"},
    }
    response = await api.request("POST", "/v3/payments", body)
    assert response.status_code == 201, response.text
    api.token = payments_token
    created: dict[str, Any] = response.json()
    return created


async def test_create_through_the_flow_and_the_mock_bank(api: Payments) -> None:
    fake = api.fake
    fake.set_webhook_uri("")
    await login(api)
    created = await create(api)
    assert created["status"] == "authorization_required" and created["user"]["id"] == "user-1"
    first = await get(api, created["id"])
    assert (
        first["status"] == "authorization_required"
        and first["constraints"]["maximum_individual_amount"] == 5000
    )
    path = f"/v3/mandates/{created['id']}/authorization-flow"
    flow = {"provider_selection": {}, "redirect": {"return_uri": RETURN}, "consent": {}}
    started = await api.request(
        "POST", path, flow, token=created["resource_token"], signed=False, key=None
    )
    assert started.status_code == 200, started.text
    action = started.json()["authorization_flow"]["actions"]["next"]
    assert action["type"] == "provider_selection"
    assert [p["id"] for p in action["providers"]] == ["mock-payments-gb-redirect"]
    authorizing = await get(api, created["id"])
    assert authorizing["status"] == "authorizing"
    wrong = await api.request("POST", f"{path}/actions/consent", {})
    assert wrong.status_code == 400 and wrong.json()["title"] == "Invalid State"
    chosen = await api.request(
        "POST", f"{path}/actions/provider-selection", {"provider_id": "mock-payments-gb-redirect"}
    )
    assert chosen.json()["authorization_flow"]["actions"]["next"]["type"] == "consent"
    consented = await api.request("POST", f"{path}/actions/consent", {})
    redirect = consented.json()["authorization_flow"]["actions"]["next"]
    assert redirect["type"] == "redirect"
    bank = await api.client.get(redirect["uri"])
    assert 'id="bank-form"' in bank.text
    back = await api.client.post(
        redirect["uri"],
        content=urlencode({"username": "test_executed", "action": "authorise"}),
        headers=FORM,
    )
    assert back.headers["location"] == f"{RETURN}?mandate_id={created['id']}"
    done = await get(api, created["id"])
    assert done["status"] == "authorized" and done["remitter"]["account_holder_name"]
    assert done["provider_selection"]["provider_id"] == "mock-payments-gb-redirect"
    (event,) = [w.payload for w in fake.webhooks]
    assert parse_event(event).type == "mandate_authorized"
    returned = await api.request(
        "POST",
        "/v3/payments-provider-return",
        {"query": f"mandate_id={created['id']}"},
        signed=False,
        key=None,
    )
    assert returned.json() == {"resource": {"type": "mandate", "mandate_id": created["id"]}}


async def test_a_failed_mandate_at_the_bank_and_by_the_driver(api: Payments) -> None:
    await login(api)
    created = await create(api)
    api.fake.authorize_mandate(created["id"], "provider_rejected")
    failed = await get(api, created["id"])
    assert (failed["status"], failed["failure_reason"]) == ("failed", "provider_rejected")
    with pytest.raises(ValueError, match="not awaiting"):
        api.fake.authorize_mandate(created["id"])
    with pytest.raises(ValueError, match="outcome"):
        api.fake.authorize_mandate((await create(api))["id"], "maybe")
    canceled = await create(api)
    path = f"/v3/mandates/{canceled['id']}/authorization-flow"
    flow = {"provider_selection": {}, "redirect": {"return_uri": RETURN}}
    await api.request("POST", path, flow)
    chosen = await api.request(
        "POST", f"{path}/actions/provider-selection", {"provider_id": "mock-payments-gb-redirect"}
    )
    uri = chosen.json()["authorization_flow"]["actions"]["next"]["uri"]
    await api.client.post(uri, content="action=cancel", headers=FORM)
    assert (await get(api, canceled["id"]))["failure_reason"] == "canceled"


async def test_the_hosted_page_for_mandates(api: Payments) -> None:
    await login(api)
    created = await create(api)
    fragment = urlencode(
        {
            "mandate_id": created["id"],
            "resource_token": created["resource_token"],
            "return_uri": RETURN,
        }
    )
    uri = f"{api.fake.environment.hosted_page_url}/mandates#{fragment}"
    parts = urlsplit(uri)
    page = await api.client.get(parts.path)
    assert 'id="hpp-mandate-start"' in page.text
    fields = {k: v[0] for k, v in parse_qs(parts.fragment).items()}
    started = await api.client.post("/hpp/mandates", content=urlencode(fields), headers=FORM)
    assert started.status_code == 303
    providers = await api.client.get(started.headers["location"])
    assert 'id="provider-mock-payments-gb-redirect"' in providers.text
    to_bank = await api.client.post(
        started.headers["location"],
        content="provider_id=mock-payments-gb-redirect",
        headers=FORM,
    )
    assert to_bank.status_code == 303
    back = await api.client.post(
        to_bank.headers["location"],
        content="username=test_executed&action=authorise",
        headers=FORM,
    )
    assert back.headers["location"] == f"{RETURN}?mandate_id={created['id']}"
    assert (await get(api, created["id"]))["status"] == "authorized"
    bad = await api.client.post(
        "/hpp/mandates", content=urlencode({**fields, "resource_token": "x"}), headers=FORM
    )
    assert bad.status_code == 401


async def test_create_checks_scopes_signature_and_body(api: Payments) -> None:
    await login(api, "payments")
    assert (await api.request("POST", "/v3/mandates", mandate())).status_code == 403
    await login(api, SWEEP)
    commercial = await api.request("POST", "/v3/mandates", mandate("commercial"))
    assert commercial.status_code == 403
    assert (await api.request("POST", "/v3/mandates", mandate(), signed=False)).status_code == 401
    await login(api, "mandates")  # TrueLayer's OpenAPI document's scope
    assert (await api.request("POST", "/v3/mandates", mandate("commercial"))).status_code == 201
    body = mandate(currency="USD")
    body["constraints"]["periodic_limits"] = {
        "month": {"maximum_amount": 1, "period_alignment": "x"}
    }
    body["mandate"]["type"] = "direct_debit"
    bad = await api.request("POST", "/v3/mandates", body)
    assert bad.status_code == 400
    assert {
        "currency",
        "mandate.type",
        "constraints.periodic_limits.month.maximum_amount",
        "constraints.periodic_limits.month.period_alignment",
    } <= set(bad.json()["errors"])


async def test_list_in_pages_with_a_user_filter(api: Payments) -> None:
    await login(api)
    for i in range(7):
        await create(api, mandate(user={"id": f"user-{i % 2}"}))
    first = await api.request("GET", "/v3/mandates", params={"limit": "3"})
    body = first.json()
    assert len(body["items"]) == 3 and body["pagination"]["next_cursor"]
    seen = [m["id"] for m in body["items"]]
    cursor = body["pagination"]["next_cursor"]
    while cursor:
        page = (
            await api.request("GET", "/v3/mandates", params={"limit": "3", "cursor": cursor})
        ).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["pagination"].get("next_cursor")
    assert len(set(seen)) == 7
    mine = (await api.request("GET", "/v3/mandates", params={"user_id": "user-1"})).json()
    assert len(mine["items"]) == 3 and "next_cursor" not in mine["pagination"]
    bad = await api.request("GET", "/v3/mandates", params={"limit": "0", "cursor": "nope"})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"limit", "cursor"}


async def test_funds_and_constraints(api: Payments) -> None:
    await login(api)
    pending = await create(api)
    assert (
        await api.request("GET", f"/v3/mandates/{pending['id']}/constraints")
    ).status_code == 400
    mandate_id = await authorized(api)
    funds = f"/v3/mandates/{mandate_id}/funds"
    enough = await api.request("GET", funds, params={"amount_in_minor": "1000", "currency": "GBP"})
    assert enough.json()["confirmed"] is True
    too_much = await api.request(
        "GET", funds, params={"amount_in_minor": "99999999", "currency": "GBP"}
    )
    assert too_much.json()["confirmed"] is False
    missing = await api.request("GET", funds)
    assert set(missing.json()["errors"]) == {"amount_in_minor", "currency"}
    await pay(api, mandate_id, 4000)
    usage = (await api.request("GET", f"/v3/mandates/{mandate_id}/constraints")).json()
    month = usage["periodic_limits"]["month"]
    assert (month["current_amount"], month["maximum_available_amount"]) == (4000, 8000)
    assert month["start_date"].endswith("-01") and month["period_alignment"] == "calendar"


async def test_payments_on_a_mandate_within_and_over_its_limits(api: Payments) -> None:
    fake = api.fake
    await login(api)
    mandate_id = await authorized(api)
    before = fake.merchant_account_balance(MERCHANT["merchant_account_id"])
    ok = await pay(api, mandate_id, 5000)
    assert ok["status"] == "authorized"
    fake.advance(5)
    await api.login("payments")
    settled = await api.get(ok["id"])
    assert settled["status"] == "settled"
    assert fake.merchant_account_balance(MERCHANT["merchant_account_id"]) == before + 5000
    over_one = await pay(api, mandate_id, 5001)
    assert (over_one["status"], over_one["failure_reason"]) == ("failed", "constraint_violation")
    await pay(api, mandate_id, 5000)
    over_month = await pay(api, mandate_id, 2001)  # 10 000 used of 12 000
    assert over_month["failure_reason"] == "constraint_violation"
    assert (await pay(api, mandate_id, 2000))["status"] == "authorized"
    await login(api)
    pending = await create(api)
    assert (await pay(api, pending["id"], 100))["failure_reason"] == "invalid_mandate_state"


async def test_revoke_and_a_revoked_mandate_refuses_payments(api: Payments) -> None:
    fake = api.fake
    fake.set_webhook_uri("")
    await login(api)
    pending = await create(api)
    not_yet = await api.request("POST", f"/v3/mandates/{pending['id']}/revoke")
    assert not_yet.status_code == 400 and not_yet.json()["title"] == "Invalid State"
    mandate_id = await authorized(api)
    assert (
        await api.request("POST", f"/v3/mandates/{mandate_id}/revoke", key=None)
    ).status_code == 401
    assert (await api.request("POST", f"/v3/mandates/{mandate_id}/revoke")).status_code == 204
    revoked = await get(api, mandate_id)
    assert (revoked["status"], revoked["revocation_source"]) == ("revoked", "client")
    refused = await pay(api, mandate_id, 100)
    assert (refused["status"], refused["failure_reason"]) == ("failed", "mandate_revoked")
    again = await api.request("POST", f"/v3/mandates/{mandate_id}/revoke")
    assert again.status_code == 400
    by_user = await authorized(api)
    assert fake.revoke_mandate(by_user) == "revoked"
    assert (await get(api, by_user))["revocation_source"] == "provider"
    kinds = [w.payload["type"] for w in fake.webhooks]
    assert kinds.count("mandate_revoked") == 2 and "payment_failed" in kinds
