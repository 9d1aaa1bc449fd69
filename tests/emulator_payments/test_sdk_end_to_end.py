"""The SDK's Payments services against the emulator, in-process: the two sides meet at
the wire (signatures, idempotency keys, bodies, decoding), with nothing mocked."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from tests.emulator_payments.test_pages_and_webhooks import RETURN
from truelayer_async import errors as e
from truelayer_async.models import (
    BankTransfer,
    ExternalAccountBeneficiary,
    HostedPageOptions,
    MerchantAccountBeneficiary,
    PaymentFailed,
    PaymentSettled,
    PaymentUser,
    ProviderSelectionOptions,
    RedirectOptions,
    SortCodeAccountNumber,
    UserSelectedProvider,
)
from truelayer_async.testing import FakeTrueLayer, complete_payment

pytestmark = pytest.mark.anyio

USER = PaymentUser(name="Ada Lovelace", email="ada@example.com")
TO_MERCHANT = BankTransfer(
    provider_selection=UserSelectedProvider(),
    beneficiary=MerchantAccountBeneficiary(merchant_account_id="ma-1", reference="Order 42"),
)
TO_EXTERNAL = BankTransfer(
    provider_selection=UserSelectedProvider(),
    beneficiary=ExternalAccountBeneficiary(
        account_holder_name="Jane Roe",
        account_identifier=SortCodeAccountNumber(sort_code="040668", account_number="00000871"),
        reference="Invoice 7",
    ),
)


async def test_create_authorise_on_the_hosted_page_settle_and_refund(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        created = await tl.payments.create(
            amount_in_minor=1200,
            currency="GBP",
            payment_method=TO_MERCHANT,
            user=USER,
            hosted_page=HostedPageOptions(return_uri=RETURN),
        )
        assert created.hosted_page is not None
        back = await complete_payment(fake.http_client(), created.hosted_page.uri)
        assert back.redirect_url == f"{RETURN}?payment_id={created.id}"
        returned = await tl.payments.submit_provider_return(
            query=urlsplit(back.redirect_url).query
        )
        assert returned.resource.payment_id == created.id  # type: ignore[union-attr]
        settled = await tl.payments.wait_for(created.id, timeout=60)
        assert isinstance(settled, PaymentSettled)
        partial = await tl.payments.create_refund(
            created.id, reference="Part", amount_in_minor=200
        )
        full = await tl.payments.create_refund(created.id, reference="Rest")
        fake.advance(5)
        refunds = await tl.payments.list_refunds(created.id)
        assert [(r.id, r.amount_in_minor, r.status) for r in refunds] == [
            (partial.id, 200, "executed"),
            (full.id, 1000, "executed"),
        ]
        with pytest.raises(e.PaymentsApiError) as over:
            await tl.payments.create_refund(created.id, reference="More", amount_in_minor=1)
        assert over.value.status_code == 400 and "amount_in_minor" in str(over.value.errors)


async def test_the_authorization_flow_through_the_services(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        created = await tl.payments.create(
            amount_in_minor=500, currency="GBP", payment_method=TO_EXTERNAL, user=USER
        )
        flow = await tl.payments.start_authorization_flow(
            created.id,
            provider_selection=ProviderSelectionOptions(),
            redirect=RedirectOptions(return_uri=RETURN),
            resource_token=created.resource_token,
        )
        step = await tl.payments.submit_provider_selection(created.id, "mock-payments-gb-redirect")
        assert flow.status == step.status == "authorizing"
        fake.authorize_payment(created.id, "execution_rejected")
        failed = await tl.payments.wait_for(created.id, timeout=60)
        assert isinstance(failed, PaymentFailed)
        assert (failed.failure_stage, failed.failure_reason) == ("authorized", "provider_rejected")
        with pytest.raises(e.PaymentsApiError) as late:
            await tl.payments.cancel(created.id)
        assert late.value.status_code == 400


async def test_providers_and_links_through_the_services(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        providers = await tl.payments_providers.search(countries=["GB"], currencies=["GBP"])
        assert [p.id for p in providers] == ["mock-payments-gb-redirect"]
        provider = await tl.payments_providers.get("mock-payments-fi-redirect")
        assert provider.country_code == "FI"
        link = await tl.payment_links.create(
            amount_in_minor=300, currency="GBP", payment_method=TO_MERCHANT, user=USER
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as browser:
            for _ in range(3):
                assert (await browser.get(link.uri)).status_code == 303
        assert (await tl.payment_links.get(link.id)).status == "enabled"
        seen = [p.id async for p in tl.payment_links.payments(link.id)]
        assert len(set(seen)) == 3


async def test_a_lost_create_response_is_retried_with_the_same_key(fake: FakeTrueLayer) -> None:
    fake.drop_response_after_commit("/v3/payments", method="POST")
    async with fake.session() as tl:
        created = await tl.payments.create(
            amount_in_minor=100, currency="GBP", payment_method=TO_MERCHANT, user=USER
        )
    assert fake.payment_ids == [created.id]
    keys = [r.headers["idempotency-key"] for r in fake.requests if r.path == "/v3/payments"]
    assert len(keys) == 2 and keys[0] == keys[1]
