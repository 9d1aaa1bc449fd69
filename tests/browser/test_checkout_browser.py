"""The FastAPI example's checkout in headless Chromium: "Pay", the emulator's hosted page
and mock bank, back to the order page, which follows the payment to its final status and
lists the signed webhooks the emulator sent to the app."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import browser_page
from tests.support.fastapi_example import ServedApp

#: The order page refreshes every second; the emulator settles a payment in about 2 s.
FINAL_TIMEOUT_MS = 30_000


def pay(page: Any, served: ServedApp, artifacts: Path, prefix: str, username: str) -> str:
    """From the checkout through the hosted page to the order page; returns the order URL."""
    page.goto(f"{served.app_url}/checkout")
    assert page.title() == "Checkout"
    assert page.text_content("#pay") == "Pay £12.50"
    page.screenshot(path=str(artifacts / f"{prefix}1-checkout.png"))
    page.click("#pay")

    # The emulator's hosted page: pick the mock bank, log in as the sandbox user.
    page.wait_for_url(f"{served.emulator_url}/hpp/payments/**")
    page.wait_for_selector("#provider-mock-payments-gb-redirect")
    assert page.text_content("#amount") == "12.50 GBP"
    page.click("#provider-mock-payments-gb-redirect")
    page.wait_for_selector("#bank-form")
    page.fill("#username", username)
    page.screenshot(path=str(artifacts / f"{prefix}2-mock-bank.png"))
    page.click("#authorise")

    # Back at the app: /checkout/return sends the browser to the order's page.
    page.wait_for_url(re.compile(re.escape(served.app_url) + r"/orders/[0-9a-f-]{36}$"))
    assert page.title() == "Your order"
    url: str = page.url
    return url


def wait_until_final(page: Any) -> None:
    """The order page stops refreshing once the status is final and its webhook arrived."""
    page.wait_for_selector("#done", timeout=FINAL_TIMEOUT_MS)
    page.wait_for_load_state()


def webhook_types(page: Any) -> list[str]:
    types: list[str] = page.eval_on_selector_all(
        "tr.webhook-event", "rows => rows.map(r => r.dataset.type)"
    )
    return types


@pytest.mark.browser
def test_a_checkout_settles_and_lists_its_webhooks(served_app: ServedApp, artifacts: Path) -> None:
    with browser_page(viewport={"width": 1100, "height": 720}) as page:
        order_url = pay(page, served_app, artifacts, "checkout-", "test_executed")
        payment_id = order_url.rsplit("/", 1)[1]
        wait_until_final(page)
        page.screenshot(path=str(artifacts / "checkout-3-settled.png"), full_page=True)
        assert page.text_content("#payment-id") == payment_id
        assert page.text_content("#payment-status") == "settled"
        types = webhook_types(page)
        # Each status change came by webhook, in order (payment_creditable may follow).
        assert [t for t in types if t != "payment_creditable"] == [
            "payment_authorized",
            "payment_executed",
            "payment_settled",
        ], types
        assert page.locator("meta[http-equiv=refresh]").count() == 0


@pytest.mark.browser
def test_a_failed_authorisation_shows_failed(served_app: ServedApp, artifacts: Path) -> None:
    with browser_page(viewport={"width": 1100, "height": 720}) as page:
        pay(page, served_app, artifacts, "checkout-failed-", "test_authorisation_failed")
        wait_until_final(page)
        page.screenshot(path=str(artifacts / "checkout-failed-3-order.png"), full_page=True)
        assert page.text_content("#payment-status") == "failed"
        assert page.text_content("#failure-reason") == "authorization_failed"
        assert webhook_types(page) == ["payment_failed"]
        detail = page.locator("tr.webhook-event td").all_inner_texts()
        assert "authorization_failed" in detail
