"""The hosted payment page and mock bank (plain HTTP, no browser), Payments webhooks
parsed by the SDK's verifier, the control API, the SDK's signing meeting the emulator,
and the emulator served over HTTP."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from tests.support.emulator import START
from tests.support.raw_payments import Payments, merchant_payment
from tests.support.signing_keys import new_key
from truelayer_async.testing import FakeClock, FakeTrueLayer
from truelayer_async.webhooks.events import Event

pytestmark = pytest.mark.anyio

RETURN = "https://shop.example/return"


async def walk_hosted_page(
    client: httpx.AsyncClient, uri: str, username: str | None
) -> httpx.Response:
    """What a browser does on the HPP: read the fragment, pick the first bank, log in."""
    parts = urlsplit(uri)
    page = await client.get(parts._replace(fragment="").geturl())
    assert page.status_code == 200 and 'id="hpp-start"' in page.text
    assert "location.hash" in page.text
    fields = {k: v[0] for k, v in parse_qs(parts.fragment).items()}
    started = await client.post("/hpp/payments", data=fields)
    assert started.status_code == 303, started.text
    providers = await client.get(started.headers["location"])
    provider_id = re.search(r'name="provider_id" value="([^"]+)"', providers.text)
    assert provider_id is not None
    chosen = await client.post(started.headers["location"], data={"provider_id": provider_id[1]})
    assert chosen.status_code == 303
    bank = chosen.headers["location"]
    assert "/mock-bank/payments/" in bank
    if username is None:
        return await client.post(bank, data={"action": "cancel"})
    return await client.post(bank, data={"username": username, "action": "authorise"})


async def test_hosted_page_on_create_walks_to_the_return_uri(api: Payments) -> None:
    created = await api.created(merchant_payment(hosted_page={"return_uri": RETURN}))
    uri = created["hosted_page"]["uri"]
    assert uri.startswith(api.fake.environment.hosted_page_url + "/payments#")
    back = await walk_hosted_page(api.client, uri, "test_executed")
    assert back.status_code == 303
    assert back.headers["location"] == f"{RETURN}?payment_id={created['id']}"
    assert (await api.get(created["id"]))["status"] == "authorized"


async def test_the_bank_cancel_button_fails_the_payment(api: Payments) -> None:
    created = await api.created(merchant_payment(hosted_page={"return_uri": RETURN}))
    back = await walk_hosted_page(api.client, created["hosted_page"]["uri"], None)
    assert back.status_code == 303
    payment = await api.get(created["id"])
    assert (payment["status"], payment["failure_reason"]) == (
        "failed",
        "user_canceled_at_provider",
    )


async def test_the_hosted_page_refuses_a_bad_token(api: Payments) -> None:
    created = await api.created()
    refused = await api.client.post(
        "/hpp/payments",
        data={"payment_id": created["id"], "resource_token": "forged", "return_uri": RETURN},
    )
    assert refused.status_code == 401 and 'data-step="error"' in refused.text
    other = await api.created()
    refused = await api.client.post(
        "/hpp/payments",
        data={
            "payment_id": other["id"],
            "resource_token": created["resource_token"],
            "return_uri": RETURN,
        },
    )
    assert refused.status_code == 401


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the webhook sender runs on asyncio
async def test_payments_webhooks_reach_the_sdk_verifier_signed() -> None:
    events: list[Event] = []
    box: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await box["app"](scope, receive, send)

    async with (
        FakeTrueLayer(
            clock=FakeClock(START),
            webhook_transport=httpx.ASGITransport(app=app),
            webhook_retry_delays=(),
        ) as fake,
        fake.session() as tl,
    ):

        async def on_event(event: Event) -> None:
            events.append(event)

        box["app"] = Starlette(
            routes=[Route("/hooks", tl.webhooks.asgi_app(on_event), methods=["POST"])]
        )
        fake.set_webhook_uri("https://merchant.example/hooks")
        api = Payments(fake, fake.http_client())
        await api.login()
        payment_id = (await api.created(merchant_payment(metadata={"order": "42"})))["id"]
        fake.authorize_payment(payment_id)
        fake.advance(5)
        with anyio.fail_after(30):  # a hang guard, not a timing assertion
            while any(w.outcome == "pending" for w in fake.webhooks):
                await anyio.sleep(0.01)
    assert [w.outcome for w in fake.webhooks] == ["delivered"] * 4
    assert [e.type for e in events] == [
        "payment_authorized",
        "payment_executed",
        "payment_settled",
        "payment_creditable",
    ]
    assert {e.raw["payment_id"] for e in events} == {payment_id}
    assert events[2].raw["metadata"] == {"order": "42"}


async def test_the_sdk_signs_what_the_emulator_verifies(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        assert tl.signing_key_id == fake.client_signing_key[0]
        response = await tl._core.payments_request(
            "POST", "/payments", sign="always", json_body=merchant_payment()
        )
        assert response.status_code == 201
        payment_id = response.json()["id"]
        fetched = await tl._core.payments_request("GET", f"/payments/{payment_id}")
        assert fetched.json()["status"] == "authorization_required"


async def test_the_control_api_drives_payments(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    from truelayer_async.testing import EmulatorControl, EmulatorControlError

    key_id, private, public = new_key()
    control: EmulatorControl = fake.control()
    await control.register_signing_key(key_id, public)
    await control.set_webhook_uri("https://merchant.example/hooks")
    api = Payments(fake, client)
    api.key_id, api.private_pem = key_id, private
    await api.login()
    payment_id = (await api.created())["id"]
    assert (
        await control.authorize_payment(payment_id, "executed", execution_delay=10) == "authorized"
    )
    assert [w.payload["type"] for w in fake.webhooks] == ["payment_authorized"]
    await control.advance_clock(11)  # the clock moving applies what is due, webhooks too
    assert [w.payload["type"] for w in fake.webhooks] == [
        "payment_authorized",
        "payment_executed",
        "payment_settled",
        "payment_creditable",
    ]
    assert {w.uri for w in fake.webhooks} == {"https://merchant.example/hooks"}
    with pytest.raises(EmulatorControlError) as missing:
        await control.authorize_payment(str(uuid.uuid4()))
    assert missing.value.status == 404


async def test_payments_over_real_http() -> None:
    async with FakeTrueLayer() as fake:
        with fake.serve_in_thread() as base_url:
            async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
                api = Payments(fake, client)
                await api.login()
                created = await api.created(merchant_payment(hosted_page={"return_uri": RETURN}))
                assert created["hosted_page"]["uri"].startswith(f"{base_url}/hpp/payments#")
                back = await walk_hosted_page(
                    client, created["hosted_page"]["uri"], "test_executed"
                )
                assert back.headers["location"].endswith(f"payment_id={created['id']}")
                fake.advance(5)
                assert (await api.get(created["id"]))["status"] == "settled"


async def test_the_sdk_hosted_page_link_opens_the_emulator_page(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    api = Payments(fake, client)
    await api.login()
    created = await api.created()
    async with fake.session() as tl:
        link = tl.hosted_page.payment_url(
            payment_id=created["id"],
            resource_token=created["resource_token"],
            return_uri=RETURN,
            max_wait_for_result=5,
        )
    back = await walk_hosted_page(client, link, "test_authorisation_failed")
    assert back.headers["location"] == f"{RETURN}?payment_id={created['id']}"
    payment = await api.get(created["id"])
    assert (payment["status"], payment["failure_reason"]) == ("failed", "authorization_failed")


async def test_a_served_live_clock_emulator_moves_payments_without_polling() -> None:
    from truelayer_async.testing import LiveClock

    async with FakeTrueLayer(clock=LiveClock()) as fake:
        with fake.serve_in_thread() as base_url:
            async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
                api = Payments(fake, client)
                await api.login()
                payment_id = (await api.created())["id"]
                fake.authorize_payment(payment_id, execution_delay=0.05, settlement_delay=0.05)
                with anyio.fail_after(30):  # a hang guard, not a timing assertion
                    while "payment_settled" not in [w.payload["type"] for w in fake.webhooks]:
                        await anyio.sleep(0.05)
    assert [w.payload["type"] for w in fake.webhooks] == [
        "payment_authorized",
        "payment_executed",
        "payment_settled",
        "payment_creditable",
    ]


# -- coming back to a payment that is mid-authorization ---------------------------------


async def start_hosted_page(client: httpx.AsyncClient, uri: str) -> str:
    """Open a hosted page link as the page's script does; returns the page's session URL."""
    fields = {k: v[0] for k, v in parse_qs(urlsplit(uri).fragment).items()}
    started = await client.post("/hpp/payments", data=fields)
    assert started.status_code == 303, started.text
    return str(started.headers["location"])


async def test_the_hosted_page_resumes_at_the_bank_after_the_user_left(api: Payments) -> None:
    created = await api.created(merchant_payment(hosted_page={"return_uri": RETURN}))
    uri = created["hosted_page"]["uri"]
    page = await start_hosted_page(api.client, uri)
    chosen = await api.client.post(page, data={"provider_id": "mock-payments-gb-redirect"})
    bank = chosen.headers["location"]
    assert (await api.get(created["id"]))["status"] == "authorizing"
    # The user closed the tab at the bank and opens the link again: back to the same bank.
    again = await start_hosted_page(api.client, uri)
    resumed = await api.client.get(again)
    assert resumed.status_code == 303 and resumed.headers["location"] == bank
    bank_page = await api.client.get(bank)
    assert 'data-step="bank"' in bank_page.text
    back = await api.client.post(bank, data={"username": "test_executed", "action": "authorise"})
    assert back.headers["location"] == f"{RETURN}?payment_id={created['id']}"
    assert (await api.get(created["id"]))["status"] == "authorized"
    done = await api.client.get(again)
    assert 'data-step="result"' in done.text and 'id="payment-status">authorized' in done.text


async def test_the_hosted_page_takes_over_a_flow_started_through_the_api(api: Payments) -> None:
    created = await api.created(merchant_payment())
    started = await api.request(
        "POST",
        f"/v3/payments/{created['id']}/authorization-flow",
        {"provider_selection": {}, "redirect": {"return_uri": RETURN}},
    )
    assert started.json()["authorization_flow"]["actions"]["next"]["type"] == "provider_selection"
    base = api.fake.environment.hosted_page_url
    link = (
        f"{base}/payments#payment_id={created['id']}&resource_token={created['resource_token']}"
        "&return_uri=https%3A%2F%2Fshop.example%2Fother"
    )
    page = await start_hosted_page(api.client, link)
    providers = await api.client.get(page)
    assert 'data-step="hpp-providers"' in providers.text
    assert 'id="provider-mock-payments-gb-redirect"' in providers.text
    chosen = await api.client.post(page, data={"provider_id": "mock-payments-gb-redirect"})
    assert chosen.status_code == 303 and "/mock-bank/payments/" in chosen.headers["location"]
    back = await api.client.post(
        chosen.headers["location"], data={"username": "test_executed", "action": "authorise"}
    )
    # The flow's own return_uri, given when it was started, wins.
    assert back.headers["location"] == f"{RETURN}?payment_id={created['id']}"
    assert (await api.get(created["id"]))["status"] == "authorized"


async def test_the_hosted_page_answers_the_steps_it_shows_itself(api: Payments) -> None:
    """A flow left at the consent step (started with the consent capability) resumes at
    the bank: the page shows the consent, as it does on a first visit."""
    created = await api.created(merchant_payment())
    path = f"/v3/payments/{created['id']}/authorization-flow"
    flow = {"provider_selection": {}, "redirect": {"return_uri": RETURN}, "consent": {}}
    assert (await api.request("POST", path, flow)).status_code == 200
    chosen = await api.request(
        "POST", path + "/actions/provider-selection", {"provider_id": "mock-payments-gb-redirect"}
    )
    assert chosen.json()["authorization_flow"]["actions"]["next"]["type"] == "consent"
    base = api.fake.environment.hosted_page_url
    link = (
        f"{base}/payments#payment_id={created['id']}&resource_token={created['resource_token']}"
        f"&return_uri={RETURN}"
    )
    resumed = await api.client.get(await start_hosted_page(api.client, link))
    assert resumed.status_code == 303 and "/mock-bank/payments/" in resumed.headers["location"]
