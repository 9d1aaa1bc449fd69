"""The FastAPI example's checkout routes: in-process against the emulator (its signed
webhooks delivered to the app through ASGI), and once as the served process a user runs."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import AsyncIterator, Callable
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs

import anyio
import attrs
import httpx
import pytest
import respx

from tests.support import payment_samples, payout_samples
from tests.support.fastapi_example import (
    FASTAPI_APP,
    pay_at_checkout,
    serving_fastapi_app,
    watch_order,
)
from tests.support.signed_payments import API, grant
from tests.support.signing_keys import new_key
from tests.support.token_endpoint import TOKEN_URL
from truelayer_async import Session
from truelayer_async.testing import FakeTrueLayer
from truelayer_async.testing.webhook_samples import sample_event

pytestmark = pytest.mark.anyio
SHOP = "http://shop.test"
WEBHOOK_URI = f"{SHOP}/webhooks/truelayer"
MERCHANT = "0b0c0d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"
STATUS = re.compile(r'id="payment-status">([^<]*)<')
EVENT_TYPES = re.compile(r'class="webhook-event" data-type="([^"]+)"')


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the emulator's webhook sender runs on asyncio


def load_example() -> ModuleType:
    """``examples/fastapi_app.py`` as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("fastapi_app_example", FASTAPI_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@attrs.define
class Shop:
    """The example app in-process, its emulator, and a browser-like client (cookies)."""

    example: ModuleType
    fake: FakeTrueLayer
    app: Any
    browser: httpx.AsyncClient

    async def pay(self) -> str:
        """Click "Pay"; returns the new payment's id."""
        response = await self.browser.post("/checkout")
        assert response.status_code == 303, response.text
        hosted_page = httpx.URL(response.headers["location"])
        return parse_qs(hosted_page.fragment)["payment_id"][0]

    async def order_page(self, payment_id: str) -> str:
        response = await self.browser.get(f"/orders/{payment_id}")
        assert response.status_code == 200, response.text
        return response.text

    async def deliveries_done(self) -> None:
        with anyio.fail_after(30):  # a hang guard, not a timing assertion
            while any(w.outcome == "pending" for w in self.fake.webhooks):
                await anyio.sleep(0.01)


async def open_shop(session: Callable[[FakeTrueLayer], Session]) -> AsyncIterator[Shop]:
    example = load_example()
    box: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await box["app"](scope, receive, send)

    async with FakeTrueLayer(
        webhook_transport=httpx.ASGITransport(app=app), webhook_retry_delays=()
    ) as fake:
        box["app"] = example.create_app(lambda: session(fake), merchant_account_id=MERCHANT)
        fake.set_webhook_uri(WEBHOOK_URI)
        async with (
            box["app"].router.lifespan_context(box["app"]),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SHOP) as browser,
        ):
            yield Shop(example, fake, app, browser)


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    async for opened in open_shop(lambda fake: fake.session()):
        yield opened


async def test_the_checkout_page_offers_the_product(shop: Shop) -> None:
    response = await shop.browser.get("/checkout")
    assert response.status_code == 200
    assert '<form method="post" action="/checkout">' in response.text
    assert re.search(r'<button id="pay" type="submit">Pay £12\.50</button>', response.text)


async def test_pay_creates_a_payment_and_sends_the_browser_to_the_hosted_page(
    shop: Shop,
) -> None:
    response = await shop.browser.post("/checkout")
    assert response.status_code == 303
    hosted_page = httpx.URL(response.headers["location"])
    assert str(hosted_page).startswith(f"{shop.fake.environment.api_url}/hpp/payments#")
    fields = parse_qs(hosted_page.fragment)
    assert fields["return_uri"] == [f"{SHOP}/checkout/return"]
    assert shop.fake.payment_ids == fields["payment_id"]
    assert "tl_example_sid" in response.headers["set-cookie"]
    async with shop.fake.session() as tl:
        payment = await tl.payments.get(fields["payment_id"][0])
    assert (payment.amount_in_minor, payment.currency) == (1250, "GBP")
    beneficiary = payment.payment_method.beneficiary  # type: ignore[union-attr]
    assert (beneficiary.type, beneficiary.merchant_account_id) == ("merchant_account", MERCHANT)


async def test_the_return_route_leads_to_the_order_page(shop: Shop) -> None:
    payment_id = await shop.pay()
    response = await shop.browser.get("/checkout/return", params={"payment_id": payment_id})
    assert response.status_code == 303
    assert response.headers["location"] == f"/orders/{payment_id}"


async def test_webhooks_follow_the_payment_to_settled(shop: Shop) -> None:
    payment_id = await shop.pay()
    page = await shop.order_page(payment_id)
    assert STATUS.findall(page) == ["authorization_required"]
    assert '<meta http-equiv="refresh" content="1">' in page

    shop.fake.authorize_payment(payment_id, "executed")
    await shop.deliveries_done()
    page = await shop.order_page(payment_id)
    assert STATUS.findall(page) == ["authorized"]
    assert EVENT_TYPES.findall(page) == ["payment_authorized"]
    assert 'http-equiv="refresh"' in page  # not final yet

    shop.fake.advance(5)  # past execution and settlement
    await shop.deliveries_done()
    assert {w.outcome for w in shop.fake.webhooks} == {"delivered"}
    page = await shop.order_page(payment_id)
    assert STATUS.findall(page) == ["settled"]
    assert EVENT_TYPES.findall(page) == [
        "payment_authorized",
        "payment_executed",
        "payment_settled",
        "payment_creditable",
    ]
    assert 'http-equiv="refresh"' not in page and 'id="done"' in page


async def test_a_redelivered_webhook_is_listed_once(shop: Shop) -> None:
    payment_id = await shop.pay()
    shop.fake.authorize_payment(payment_id, "execution_rejected")
    shop.fake.advance(5)  # the bank rejects it when it would execute
    await shop.deliveries_done()
    first = shop.fake.webhooks[-1]
    assert first.payload["type"] == "payment_failed"
    again = shop.fake.send_webhook(WEBHOOK_URI, first.payload)  # the same event id
    await shop.deliveries_done()
    assert again.outcome == "delivered"  # 200: TrueLayer stops retrying
    page = await shop.order_page(payment_id)
    assert EVENT_TYPES.findall(page) == ["payment_authorized", "payment_failed"]
    assert STATUS.findall(page) == ["failed"]
    assert 'id="failure-reason">provider_rejected<' in page


@pytest.mark.parametrize("signing", ["forged", "tampered", "stale", "unsigned"])
async def test_a_bad_webhook_is_refused_and_not_listed(shop: Shop, signing: str) -> None:
    payment_id = await shop.pay()
    payload = sample_event("payment_failed", payment_id=payment_id)
    record = shop.fake.send_webhook(WEBHOOK_URI, payload, signing=signing)  # type: ignore[arg-type]
    await shop.deliveries_done()
    assert [a.status for a in record.attempts] == [401]
    page = await shop.order_page(payment_id)
    assert EVENT_TYPES.findall(page) == []
    assert STATUS.findall(page) == ["authorization_required"]


async def test_a_webhook_for_another_payment_is_acknowledged_and_ignored(shop: Shop) -> None:
    payment_id = await shop.pay()
    record = shop.fake.send_webhook(WEBHOOK_URI, sample_event("payment_executed"))
    await shop.deliveries_done()
    assert record.outcome == "delivered"
    assert EVENT_TYPES.findall(await shop.order_page(payment_id)) == []


async def test_an_order_is_shown_to_the_browser_that_paid_only(shop: Shop) -> None:
    payment_id = await shop.pay()
    transport = httpx.ASGITransport(app=shop.app)
    async with httpx.AsyncClient(transport=transport, base_url=SHOP) as stranger:
        response = await stranger.get(f"/orders/{payment_id}")
        assert response.status_code == 404
        assert payment_id not in response.text
    response = await shop.browser.get("/checkout/return", params={"payment_id": "nope"})
    assert response.status_code == 404
    response = await shop.browser.get("/orders/nope")
    assert response.status_code == 404


async def test_the_order_page_stops_waiting_for_a_webhook_that_never_comes(shop: Shop) -> None:
    shop.fake.set_webhook_uri("")  # TrueLayer cannot reach this app (no public URL)
    payment_id = await shop.pay()
    shop.fake.authorize_payment(payment_id, "executed")
    shop.fake.advance(5)
    page = await shop.order_page(payment_id)
    assert STATUS.findall(page) == ["settled"]
    assert 'http-equiv="refresh"' in page  # the webhook may still be on its way
    shop.example.WEBHOOK_GRACE = 0.0  # ... but not for ever
    page = await shop.order_page(payment_id)
    assert 'http-equiv="refresh"' not in page and 'id="done"' in page
    assert EVENT_TYPES.findall(page) == []


async def test_a_session_without_a_signing_key_is_told_not_sent() -> None:
    def unsigned(fake: FakeTrueLayer) -> Session:
        return fake.session(signing_key_id=None, signing_private_key=None)

    async for shop in open_shop(unsigned):
        response = await shop.browser.post("/checkout")
        assert response.status_code == 503
        assert "Payments are not set up" in response.text
        assert "signing" in response.text
        assert shop.fake.payment_ids == []


async def test_on_truelayer_it_pays_into_the_first_gbp_merchant_account() -> None:
    """No merchant account given (the sandbox without TRUELAYER_MERCHANT_ACCOUNT_ID): the
    first GBP one is found once; with no ``hosted_page`` in the answer the SDK builds the
    link."""
    _, pem, _ = new_key()
    eur = {**payout_samples.MERCHANT_ACCOUNT, "id": "ma-eur", "currency": "EUR"}
    gbp = {**payout_samples.MERCHANT_ACCOUNT, "id": "ma-gbp"}
    example = load_example()
    app = example.create_app(
        lambda: Session("client", "secret", signing_key_id="kid-1", signing_private_key=pem)
    )
    with respx.mock(assert_all_called=True) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        listed = wire.get(f"{API}/merchant-accounts").mock(
            return_value=httpx.Response(200, json={"items": [eur, gbp]})
        )
        created = wire.post(f"{API}/payments").mock(
            return_value=httpx.Response(201, json=payment_samples.CREATED)
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SHOP) as browser,
        ):
            for _ in range(2):
                response = await browser.post("/checkout")
                assert response.status_code == 303, response.text
    assert listed.call_count == 1
    body = json.loads(created.calls.last.request.content)
    assert body["payment_method"]["beneficiary"]["merchant_account_id"] == "ma-gbp"
    assert body["hosted_page"] == {"return_uri": f"{SHOP}/checkout/return"}
    hosted_page = httpx.URL(response.headers["location"])
    assert hosted_page.host == "payment.truelayer-sandbox.com"
    assert parse_qs(hosted_page.fragment)["payment_id"] == ["pay-1"]


def test_the_served_app_takes_a_payment_and_hears_its_webhooks(
    example_env: dict[str, str],
) -> None:
    """As a user runs it: the app on a port, the emulator on real time next to it."""

    async def checkout(app_url: str) -> str:
        async with httpx.AsyncClient(timeout=10) as browser:
            order_url = await pay_at_checkout(browser, app_url, username="test_executed")
            return await watch_order(browser, order_url)

    with serving_fastapi_app(example_env) as served:
        page = anyio.run(checkout, served.app_url)
    assert STATUS.findall(page) == ["settled"]
    types = [t for t in EVENT_TYPES.findall(page) if t != "payment_creditable"]
    assert types == ["payment_authorized", "payment_executed", "payment_settled"]
    assert "Traceback" not in "".join(served.output)
