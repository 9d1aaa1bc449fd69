"""The emulator's hosted payment page and mock bank, clicked through in headless Chromium:
the fragment is read by the page's script, a bank is chosen, the sandbox user logs in, and
the browser lands on the return URI with the payment id."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.support.browser import browser_page
from tests.support.raw_payments import merchant_payment
from truelayer_async.signing import sign
from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeTrueLayer


def _signed_post(
    fake: FakeTrueLayer, base_url: str, path: str, payload: dict[str, Any], scope: str
) -> dict[str, Any]:
    """A signed, idempotent POST with a client-credentials token of ``scope``."""
    with httpx.Client(base_url=base_url, trust_env=False) as http:
        token = http.post(
            "/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "scope": scope,
            },
        ).json()["access_token"]
        body = json.dumps(payload).encode()
        key = str(uuid.uuid4())
        kid, pem = fake.client_signing_key
        signature = sign(
            key_id=kid,
            private_key=pem,
            method="POST",
            path=path,
            body=body,
            headers={"Idempotency-Key": key},
        )
        response = http.post(
            path,
            content=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": key,
                "Tl-Signature": signature,
                "Content-Type": "application/json",
            },
        )
        assert response.status_code in (201, 202), response.text
        created: dict[str, Any] = response.json()
        return created


def _create_payment(fake: FakeTrueLayer, base_url: str, return_uri: str) -> dict[str, str]:
    payload = merchant_payment(hosted_page={"return_uri": return_uri})
    return _signed_post(fake, base_url, "/v3/payments", payload, "payments")


def test_a_user_pays_through_the_hosted_page_in_chromium() -> None:
    fake = FakeTrueLayer()
    with fake.serve_in_thread() as base_url:
        return_uri = f"{base_url}/hpp/result"
        created = _create_payment(fake, base_url, return_uri)
        with browser_page() as page:
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
    assert fake.payment_status(created["id"]) in ("authorized", "executed", "settled")


def _walk(
    page: Any, link: str, steps: Callable[[Any], None], return_uri: str
) -> dict[str, list[str]]:
    page.goto(link)
    steps(page)
    page.wait_for_url(f"{return_uri}?*")
    return parse_qs(urlsplit(page.url).query)


def test_a_user_picks_the_payout_account_on_the_payouts_page_in_chromium() -> None:
    fake = FakeTrueLayer()
    with fake.serve_in_thread() as base_url, browser_page() as page:
        return_uri = f"{base_url}/hpp/result"
        payout = {
            "merchant_account_id": fake.merchant_account_id("GBP"),
            "amount_in_minor": 1200,
            "currency": "GBP",
            "beneficiary": {
                "type": "user_determined",
                "reference": "Winnings",
                "user": {"id": "user-9", "name": "Ada Lovelace"},
                "verification": {"verify_name": True},
                "provider_selection": {"type": "user_selected"},
            },
        }
        created = _signed_post(fake, base_url, "/v3/payouts", payout, "payments")
        fragment = urlencode(
            {
                "payout_id": created["id"],
                "resource_token": created["resource_token"],
                "return_uri": return_uri,
            }
        )

        def steps(page: Any) -> None:
            page.wait_for_selector("#payout-form")
            page.click("#authorise")

        query = _walk(page, f"{base_url}/hpp/payouts#{fragment}", steps, return_uri)
        assert query["payout_id"] == [created["id"]]
    assert fake.payout_status(created["id"]) == "pending"


def test_a_user_authorises_a_mandate_on_the_hosted_page_in_chromium() -> None:
    fake = FakeTrueLayer()
    with fake.serve_in_thread() as base_url, browser_page() as page:
        return_uri = f"{base_url}/hpp/result"
        mandate = {
            "mandate": {
                "type": "sweeping",
                "provider_selection": {"type": "user_selected"},
                "beneficiary": {
                    "type": "merchant_account",
                    "merchant_account_id": fake.merchant_account_id("GBP"),
                },
            },
            "currency": "GBP",
            "user": {"id": "user-9"},
            "constraints": {
                "maximum_individual_amount": 1000,
                "periodic_limits": {
                    "day": {"maximum_amount": 1000, "period_alignment": "calendar"}
                },
            },
        }
        created = _signed_post(
            fake, base_url, "/v3/mandates", mandate, "recurring_payments:sweeping"
        )
        fragment = urlencode(
            {
                "mandate_id": created["id"],
                "resource_token": created["resource_token"],
                "return_uri": return_uri,
            }
        )

        def steps(page: Any) -> None:
            page.click("#provider-mock-payments-gb-redirect")
            page.wait_for_selector("#bank-form")
            page.fill("#username", "test_executed")
            page.click("#authorise")

        query = _walk(page, f"{base_url}/hpp/mandates#{fragment}", steps, return_uri)
        assert query["mandate_id"] == [created["id"]]
