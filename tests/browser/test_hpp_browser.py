"""The emulator's hosted payment page and mock bank, clicked through in headless Chromium:
the fragment is read by the page's script, a bank is chosen, the sandbox user logs in, and
the browser lands on the return URI with the payment id."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.emulator_payments.helpers import merchant_payment
from tests.support.binaries import require_binary
from tests.support.browser import CHROMIUM_ARGS, require_playwright
from truelayer_async.signing import sign
from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeTrueLayer


def _create_payment(fake: FakeTrueLayer, base_url: str, return_uri: str) -> dict[str, str]:
    with httpx.Client(base_url=base_url, trust_env=False) as http:
        token = http.post(
            "/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "scope": "payments",
            },
        ).json()["access_token"]
        body = json.dumps(merchant_payment(hosted_page={"return_uri": return_uri})).encode()
        key = str(uuid.uuid4())
        kid, pem = fake.client_signing_key
        signature = sign(
            key_id=kid,
            private_key=pem,
            method="POST",
            path="/v3/payments",
            body=body,
            headers={"Idempotency-Key": key},
        )
        response = http.post(
            "/v3/payments",
            content=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": key,
                "Tl-Signature": signature,
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 201, response.text
        created: dict[str, str] = response.json()
        return created


def test_a_user_pays_through_the_hosted_page_in_chromium() -> None:
    chromium = require_binary("chromium")
    sync_api = require_playwright()
    fake = FakeTrueLayer()
    with fake.serve_in_thread() as base_url:
        return_uri = f"{base_url}/hpp/result"
        created = _create_payment(fake, base_url, return_uri)
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=20_000
            )
            try:
                page = browser.new_context().new_page()
                page.set_default_timeout(10_000)
                page.goto(created["hosted_page"]["uri"])  # type: ignore[index]
                page.wait_for_selector("#provider-mock-payments-gb-redirect")
                page.click("#provider-mock-payments-gb-redirect")
                page.wait_for_selector("#bank-form")
                page.fill("#username", "test_executed")
                page.click("#authorise")
                page.wait_for_url(f"{return_uri}?*")
                landed = urlsplit(page.url)
                assert parse_qs(landed.query)["payment_id"] == [created["id"]]
                assert page.text_content("#payment-id") == created["id"]
                assert page.text_content("#payment-status") == "authorized"
            finally:
                browser.close()
    assert fake.payment_status(created["id"]) in ("authorized", "executed", "settled")
