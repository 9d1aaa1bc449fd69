"""``complete_payment``: the hosted payment page and mock bank walked over plain HTTP, with
the SDK on the other side (in-process and served)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.sdk_payments import TO_EXTERNAL, TO_MERCHANT, USER
from truelayer_async.models import CreatedPayment, HostedPageOptions, PaymentSettled
from truelayer_async.session import Session
from truelayer_async.testing import (
    FakeTrueLayer,
    PaymentPageError,
    PaymentPageResult,
    complete_payment,
)

pytestmark = pytest.mark.anyio

RETURN = "https://shop.example/return?order=42"


async def _create(tl: Session, *, external: bool = False) -> CreatedPayment:
    created = await tl.payments.create(
        amount_in_minor=1500,
        currency="GBP",
        payment_method=TO_EXTERNAL if external else TO_MERCHANT,
        user=USER,
        hosted_page=HostedPageOptions(return_uri=RETURN),
    )
    assert created.hosted_page is not None
    return created


async def test_it_lands_on_the_return_uri_with_the_payment_id(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        created = await _create(tl)
        assert created.hosted_page is not None
        result = await complete_payment(fake.http_client(), created.hosted_page.uri)
        assert result == PaymentPageResult(
            redirect_url=f"{RETURN}&payment_id={created.id}",
            params={"order": "42", "payment_id": created.id},
        )
        assert result.payment_id == created.id and result.state is None
        assert fake.payment_status(created.id) == "authorized"
        settled = await tl.payments.wait_for(created.id, timeout=30)
        assert isinstance(settled, PaymentSettled)


@pytest.mark.parametrize(
    ("username", "approve", "reason"),
    [
        ("test_authorisation_failed", True, "authorization_failed"),
        ("test_execution_rejected", True, "provider_rejected"),
        ("test_executed", False, "user_canceled_at_provider"),
    ],
)
async def test_the_username_or_cancel_decides_the_outcome(
    fake: FakeTrueLayer, username: str, approve: bool, reason: str
) -> None:
    async with fake.session() as tl:
        created = await _create(tl)
        assert created.hosted_page is not None
        result = await complete_payment(
            fake.http_client(), created.hosted_page.uri, username=username, approve=approve
        )
        assert result.payment_id == created.id
        final = await tl.payments.wait_for(created.id, timeout=30)
        assert final.status == "failed"
        assert getattr(final, "failure_reason", None) == reason


async def test_the_chosen_provider_and_delays_reach_the_payment(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        created = await _create(tl, external=True)
        assert created.hosted_page is not None
        await complete_payment(
            fake.http_client(),
            created.hosted_page.uri,
            provider_id="mock-payments-gb-redirect",
            execution_delay=30,
        )
        fake.advance(10)
        assert fake.payment_status(created.id) == "authorized"
        fake.advance(30)
        assert fake.payment_status(created.id) == "executed"
        payment = await tl.payments.get(created.id)
        assert payment.payment_method.provider_selection.provider_id == (  # type: ignore[union-attr]
            "mock-payments-gb-redirect"
        )


async def test_refusals_are_typed_errors(fake: FakeTrueLayer) -> None:
    client = fake.http_client()
    async with fake.session() as tl:
        created = await _create(tl)
        assert created.hosted_page is not None
        uri = created.hosted_page.uri
        with pytest.raises(PaymentPageError, match=r"not offered.*mock-payments-gb-redirect"):
            await complete_payment(client, uri, provider_id="no-such-bank")
        with pytest.raises(PaymentPageError, match="'nobody'") as unknown_user:
            await complete_payment(client, uri, username="nobody")
        assert "Unknown sandbox user" in str(unknown_user.value)
        # Refused at the bank, the user comes back to the page: it resumes at the bank.
        resumed = await complete_payment(client, uri)
        assert resumed.payment_id == created.id
        with pytest.raises(PaymentPageError, match=r"no longer waiting.*authorized"):
            await complete_payment(client, uri)
        forged = uri.replace("resource_token=", "resource_token=x")
        with pytest.raises(PaymentPageError) as refused:
            await complete_payment(client, forged)
        assert refused.value.status_code == 401
        assert "resource_token" not in str(refused.value)


async def test_a_payment_link_is_walked_too(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        link = await tl.payment_links.create(
            amount_in_minor=700,
            currency="GBP",
            payment_method=TO_MERCHANT,
            user=USER,
            return_uri=RETURN,
        )
        result = await complete_payment(fake.http_client(), link.uri)
        assert result.payment_id in fake.payment_ids
        assert result.redirect_url.startswith(RETURN)


async def test_over_real_http() -> None:
    async with FakeTrueLayer() as fake:
        with fake.serve_in_thread():
            async with (
                fake.session() as tl,
                httpx.AsyncClient(trust_env=False) as browser,
            ):
                created = await _create(tl)
                assert created.hosted_page is not None
                assert created.hosted_page.uri.startswith("http://127.0.0.1:")
                result = await complete_payment(browser, created.hosted_page.uri)
                assert result.payment_id == created.id
                fake.advance(5)
                assert fake.payment_status(created.id) == "settled"
