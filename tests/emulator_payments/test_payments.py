"""Payments v3 in the emulator, over plain httpx: create, get by status, the
authorization flow, cancel, save-user-account and provider return."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.emulator_payments.helpers import external_payment
from tests.support.raw_payments import FLOW, Payments, merchant_payment
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio


async def test_create_answers_authorization_required_with_a_resource_token(api: Payments) -> None:
    created = await api.created()
    assert created["status"] == "authorization_required"
    assert created["resource_token"] and created["user"]["id"]
    payment = await api.get(created["id"])
    assert payment["status"] == "authorization_required"
    assert payment["amount_in_minor"] == 1000 and payment["currency"] == "GBP"
    assert payment["payment_method"]["beneficiary"]["type"] == "merchant_account"


async def test_the_resource_token_reads_its_own_payment_only(api: Payments) -> None:
    first = await api.created()
    second = await api.created()
    assert (await api.get(first["id"], token=first["resource_token"]))["id"] == first["id"]
    other = await api.request("GET", f"/v3/payments/{second['id']}", token=first["resource_token"])
    assert other.status_code == 403
    assert other.json()["title"] == "Forbidden"
    # Not an endpoint for resource tokens at all.
    refunds = await api.request(
        "GET", f"/v3/payments/{first['id']}/refunds", token=first["resource_token"]
    )
    assert refunds.status_code == 403


async def test_user_selected_flow_walks_provider_selection_to_redirect(api: Payments) -> None:
    payment_id = (await api.created())["id"]
    started = await api.start(payment_id)
    assert started.status_code == 200
    action = started.json()["authorization_flow"]["actions"]["next"]
    assert action["type"] == "provider_selection"
    ids = [p["id"] for p in action["providers"]]
    assert "mock-payments-gb-redirect" in ids and "mock-payments-fi-redirect" not in ids
    chosen = await api.act(
        payment_id, "provider-selection", {"provider_id": "mock-payments-gb-redirect"}
    )
    redirect = chosen.json()["authorization_flow"]["actions"]["next"]
    assert redirect["type"] == "redirect" and "/mock-bank/payments/" in redirect["uri"]
    payment = await api.get(payment_id)
    assert payment["status"] == "authorizing"
    assert (
        payment["payment_method"]["provider_selection"]["provider_id"]
        == "mock-payments-gb-redirect"
    )


async def test_eu_flow_adds_scheme_selection_form_and_consent(api: Payments) -> None:
    body = merchant_payment(currency="EUR")
    body["payment_method"]["provider_selection"] = {
        "type": "user_selected",
        "filter": {"countries": ["FI", "ES"]},
        "scheme_selection": {"type": "user_selected"},
    }
    payment_id = (await api.created(body))["id"]
    flow = {
        **FLOW,
        "scheme_selection": {},
        "form": {"input_types": ["select", "text"]},
        "consent": {"requirements": {"pis": {}}},
    }
    action = (await api.start(payment_id, flow)).json()["authorization_flow"]["actions"]["next"]
    assert {p["id"] for p in action["providers"]} == {
        "mock-payments-fi-redirect",
        "mock-payments-es-branch-redirect",
    }
    step = await api.act(
        payment_id, "provider-selection", {"provider_id": "mock-payments-fi-redirect"}
    )
    schemes = step.json()["authorization_flow"]["actions"]["next"]
    assert schemes["type"] == "scheme_selection" and len(schemes["schemes"]) == 2
    step = await api.act(payment_id, "scheme-selection", {"scheme_id": "sepa_credit_transfer"})
    assert step.json()["authorization_flow"]["actions"]["next"]["type"] == "consent"
    step = await api.act(payment_id, "consent", {"captured": {"pis": {}}})
    assert step.json()["authorization_flow"]["actions"]["next"]["type"] == "redirect"

    other = (await api.created(body))["id"]
    await api.start(other, flow)
    step = await api.act(
        other, "provider-selection", {"provider_id": "mock-payments-es-branch-redirect"}
    )
    form = step.json()["authorization_flow"]["actions"]["next"]
    assert form["type"] == "form" and form["inputs"][0]["id"] == "branch"
    bad = await api.act(other, "form", {"inputs": {"branch": "nowhere"}})
    assert bad.status_code == 400 and "inputs.branch" in bad.json()["errors"]
    step = await api.act(other, "form", {"inputs": {"branch": "branch-madrid"}})
    assert step.json()["authorization_flow"]["actions"]["next"]["type"] == "consent"


async def test_an_action_out_of_turn_is_invalid_state(api: Payments) -> None:
    payment_id = (await api.created())["id"]
    early = await api.act(
        payment_id, "provider-selection", {"provider_id": "mock-payments-gb-redirect"}
    )
    assert early.status_code == 400 and early.json()["title"] == "Invalid State"
    await api.start(payment_id)
    wrong = await api.act(payment_id, "consent", {})
    assert wrong.status_code == 400 and wrong.json()["title"] == "Invalid State"
    again = await api.start(payment_id)
    assert again.status_code == 400 and again.json()["title"] == "Invalid State"


async def test_flow_on_create_and_preselected_provider_go_straight_to_redirect(
    api: Payments,
) -> None:
    created = await api.created(external_payment(authorization_flow=FLOW))
    assert created["status"] == "authorizing"
    assert created["authorization_flow"]["actions"]["next"]["type"] == "redirect"


@pytest.mark.parametrize(
    ("outcome", "statuses", "stage", "reason"),
    [
        ("executed", ["authorized", "executed", "settled"], None, None),
        ("authorization_failed", ["failed"], "authorizing", "authorization_failed"),
        ("execution_rejected", ["authorized", "failed"], "authorized", "provider_rejected"),
        ("canceled", ["failed"], "authorizing", "user_canceled_at_provider"),
    ],
)
async def test_outcomes_walk_the_state_machine_on_the_clock(
    api: Payments,
    fake: FakeTrueLayer,
    outcome: str,
    statuses: list[str],
    stage: str | None,
    reason: str | None,
) -> None:
    payment_id = (await api.created())["id"]
    fake.authorize_payment(payment_id, outcome, execution_delay=10, settlement_delay=20)  # type: ignore[arg-type]
    seen = [(await api.get(payment_id))["status"]]
    for _ in range(2):
        fake.advance(15)
        seen.append((await api.get(payment_id))["status"])
    assert [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]] == statuses
    final = await api.get(payment_id)
    if stage is None:
        assert final["settled_at"] and final["executed_at"] and final["payment_source"]["id"]
        assert final["creditable_at"] == final["settled_at"]
    else:
        assert (final["failure_stage"], final["failure_reason"]) == (stage, reason)
        assert final["failed_at"]


async def test_external_account_payments_stop_at_executed(
    api: Payments, fake: FakeTrueLayer
) -> None:
    payment_id = (await api.created(external_payment()))["id"]
    fake.authorize_payment(payment_id)
    fake.advance(600)
    payment = await api.get(payment_id)
    assert payment["status"] == "executed" and payment["executed_at"]


async def test_retry_opt_in_turns_a_failed_authorization_into_attempt_failed(
    api: Payments, fake: FakeTrueLayer
) -> None:
    body = merchant_payment()
    body["payment_method"]["retry"] = {}
    payment_id = (await api.created(body))["id"]
    fake.authorize_payment(payment_id, "authorization_failed")
    payment = await api.get(payment_id)
    assert payment["status"] == "attempt_failed"
    assert payment["authorization_flow"]["actions"]["next"] == {
        "type": "retry",
        "retry_options": ["Restart"],
    }
    restarted = await api.start(payment_id)
    assert (
        restarted.json()["authorization_flow"]["actions"]["next"]["type"] == "provider_selection"
    )


async def test_cancel_before_authorized_fails_the_payment(
    api: Payments, fake: FakeTrueLayer
) -> None:
    payment_id = (await api.created())["id"]
    canceled = await api.request("POST", f"/v3/payments/{payment_id}/actions/cancel", {})
    assert canceled.status_code == 202 and canceled.content == b""
    payment = await api.get(payment_id)
    assert (payment["status"], payment["failure_reason"]) == ("failed", "canceled")
    assert payment["failure_stage"] == "authorization_required"

    later = (await api.created())["id"]
    fake.authorize_payment(later)
    refused = await api.request("POST", f"/v3/payments/{later}/actions/cancel", {})
    assert refused.status_code == 400 and refused.json()["title"] == "Invalid State"


async def test_save_user_account_is_for_closed_loop_payments(api: Payments) -> None:
    closed = (await api.created())["id"]
    saved = await api.request("POST", f"/v3/payments/{closed}/actions/save-user-account", {})
    assert saved.status_code == 202
    open_loop = (await api.created(external_payment()))["id"]
    refused = await api.request("POST", f"/v3/payments/{open_loop}/actions/save-user-account", {})
    assert refused.status_code == 400


async def test_bank_page_returns_with_payment_id_and_provider_return_names_it(
    api: Payments, client: object
) -> None:
    payment_id = (await api.created())["id"]
    await api.start(payment_id)
    step = await api.act(
        payment_id, "provider-selection", {"provider_id": "mock-payments-gb-redirect"}
    )
    bank = step.json()["authorization_flow"]["actions"]["next"]["uri"]
    page = await api.client.get(bank)
    assert page.status_code == 200 and 'id="bank-form"' in page.text
    unknown = await api.client.post(bank, data={"username": "nobody", "action": "authorise"})
    assert 'id="bank-error"' in unknown.text
    back = await api.client.post(bank, data={"username": "test_executed", "action": "authorise"})
    assert back.status_code == 303
    location = urlsplit(back.headers["location"])
    assert location.netloc == "shop.example"
    assert parse_qs(location.query)["payment_id"] == [payment_id]
    assert (await api.get(payment_id))["status"] == "authorized"
    named = await api.request(
        "POST",
        "/v3/payments-provider-return",
        {"query": location.query, "fragment": ""},
        token="",
        signed=False,
        key=None,
    )
    assert named.json() == {"resource": {"type": "payment", "payment_id": payment_id}}
    nothing = await api.request(
        "POST", "/v3/payments-provider-return", {"query": "a=b"}, token="", signed=False, key=None
    )
    assert nothing.status_code == 400


async def test_a_user_selected_provider_needs_the_provider_selection_capability(
    api: Payments,
) -> None:
    payment_id = (await api.created())["id"]
    refused = await api.start(payment_id, {"redirect": FLOW["redirect"]})
    assert refused.status_code == 400 and "provider_selection" in refused.json()["errors"]
    no_redirect = await api.start(payment_id, {"provider_selection": {}})
    assert no_redirect.status_code == 400 and "redirect" in no_redirect.json()["errors"]


async def test_wait_follows_the_bank_until_the_outcome_applies(
    api: Payments, fake: FakeTrueLayer
) -> None:
    fake.payment_timing.authorization_delay = 5
    payment_id = (await api.created(external_payment(authorization_flow=FLOW)))["id"]
    fake.authorize_payment(payment_id)
    payment = await api.get(payment_id)
    assert payment["status"] == "authorizing"
    assert payment["authorization_flow"]["actions"]["next"]["type"] == "wait"
    fake.advance(5)
    assert (await api.get(payment_id))["status"] == "authorized"


async def test_direct_return_uri_comes_back_with_state_for_provider_return(api: Payments) -> None:
    flow = {
        "redirect": {
            "return_uri": "https://shop.example/r",
            "direct_return_uri": "https://shop.example/direct",
        }
    }
    created = await api.created(external_payment(authorization_flow=flow))
    bank = created["authorization_flow"]["actions"]["next"]["uri"]
    back = await api.client.post(bank, data={"username": "test_executed", "action": "authorise"})
    location = urlsplit(back.headers["location"])
    assert location.path == "/direct" and "payment_id" not in location.query
    named = await api.request(
        "POST",
        "/v3/payments-provider-return",
        {"query": location.query},
        token="",
        signed=False,
        key=None,
    )
    assert named.json()["resource"]["payment_id"] == created["id"]


async def test_user_account_selection_is_never_offered_so_it_is_out_of_turn(
    api: Payments,
) -> None:
    payment_id = (await api.created())["id"]
    await api.start(payment_id, {**FLOW, "user_account_selection": {}})
    refused = await api.act(payment_id, "user-account-selection", {"user_account_id": "x"})
    assert refused.status_code == 400 and refused.json()["title"] == "Invalid State"
