"""``tl.payments_providers``, ``tl.payment_links`` (paged payments) and
``tl.hosted_page`` links opened over HTTP, against the emulator."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.e2e_payments.helpers import GB_BANK, RETURN, USER, create, merchant
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import PaymentFailed, PaymentSettled, ProviderReturnPayment
from truelayer_async.testing import DEFAULT_CLIENT_ID, FakeTrueLayer, complete_payment

pytestmark = pytest.mark.anyio


async def test_provider_search_and_get(tl: Session, fake: FakeTrueLayer) -> None:
    gb = await tl.payments_providers.search(countries=["GB"], currencies=["GBP"])
    assert [p.id for p in gb] == [GB_BANK]
    assert gb[0].supports_bank_transfer
    beta = await tl.payments_providers.search(
        countries=["GB"], currencies=["GBP"], release_channel="public_beta"
    )
    assert {GB_BANK, "mock-payments-gb-beta-redirect"} <= {p.id for p in beta}
    euro = await tl.payments_providers.search(currencies=["EUR"])
    assert {p.country_code for p in euro} >= {"FI"}
    assert all(p.id != GB_BANK for p in euro)
    provider = await tl.payments_providers.get("mock-payments-fi-redirect")
    assert (provider.id, provider.country_code) == ("mock-payments-fi-redirect", "FI")
    tokenless = await tl.payments_providers.get(GB_BANK, client_id=DEFAULT_CLIENT_ID)
    assert tokenless.id == GB_BANK
    with pytest.raises(e.PaymentsApiError) as missing:
        await tl.payments_providers.get("no-such-bank")
    assert missing.value.status_code == 404


async def test_payment_link_payments_over_several_pages(tl: Session, fake: FakeTrueLayer) -> None:
    link = await tl.payment_links.create(
        amount_in_minor=300, currency="GBP", payment_method=merchant(), user=USER, reference="L1"
    )
    assert (await tl.payment_links.get(link.id)).status == "enabled"
    async with fake.http_client() as browser:
        for _ in range(5):
            opened = await browser.get(link.uri)
            assert opened.status_code == 303
            assert opened.headers["location"].startswith(fake.environment.hosted_page_url)
    made = fake.payment_ids
    assert len(made) == 5
    seen = [p.id async for p in tl.payment_links.payments(link.id, page_size=2)]
    assert sorted(seen) == sorted(made)
    pages = [page async for page in tl.payment_links.payments(link.id, page_size=2).pages()]
    assert [len(page.items) for page in pages] == [2, 2, 1]
    assert sorted(p.id for page in pages for p in page.items) == sorted(made)
    first_three = [p.id async for p in tl.payment_links.payments(link.id, limit=3, page_size=2)]
    assert first_three == seen[:3]
    statuses = {p.status async for p in tl.payment_links.payments(link.id)}
    assert statuses == {"pending"}


async def test_a_paid_link_is_disabled(tl: Session, fake: FakeTrueLayer) -> None:
    link = await tl.payment_links.create(
        amount_in_minor=300, currency="GBP", payment_method=merchant(), user=USER
    )
    async with fake.http_client() as browser:
        assert (await browser.get(link.uri)).status_code == 303
    (payment_id,) = fake.payment_ids
    fake.authorize_payment(payment_id, "executed")
    fake.advance(5)
    disabled = await tl.payment_links.get(link.id)
    assert disabled.status == "disabled" and disabled.disabled_reason is not None
    [paid] = [p async for p in tl.payment_links.payments(link.id)]
    assert (paid.id, paid.status) == (payment_id, "succeeded")


@pytest.mark.parametrize("username", ["test_executed", "test_authorisation_failed"])
async def test_the_hosted_page_url_walked_over_http(
    tl: Session, fake: FakeTrueLayer, username: str
) -> None:
    created = await create(tl)
    url = tl.hosted_page.payment_url(
        payment_id=created.id, resource_token=created.resource_token, return_uri=RETURN
    )
    assert url.startswith(fake.environment.hosted_page_url + "/payments#")
    async with fake.http_client() as browser:
        back = await complete_payment(browser, url, username=username)
    assert back.redirect_url == f"{RETURN}?payment_id={created.id}"
    returned = await tl.payments.submit_provider_return(query=urlsplit(back.redirect_url).query)
    assert returned.resource == ProviderReturnPayment(payment_id=created.id)
    final = await tl.payments.wait_for(created.id, timeout=60)
    if username == "test_executed":
        assert isinstance(final, PaymentSettled)
    else:
        assert isinstance(final, PaymentFailed)
        assert final.failure_reason == "authorization_failed"
