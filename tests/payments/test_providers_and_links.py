"""``tl.payments_providers`` and ``tl.payment_links`` on the wire (respx)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support import payment_samples as samples
from tests.support.payments_schema import check_schema, request_fits
from tests.support.signed_payments import API, grant, signed_by
from tests.support.token_endpoint import TOKEN_URL
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import (
    BankTransfer,
    CreatedPaymentLink,
    MerchantAccountBeneficiary,
    PaymentLink,
    PaymentsProvider,
    UserSelectedProvider,
)

LINK = f"{API}/payment-links/link-1"
LINK_METHOD = BankTransfer(
    provider_selection=UserSelectedProvider(),
    beneficiary=MerchantAccountBeneficiary(
        merchant_account_id="8b6a7c2e-3f1d-4e5a-9b0c-1d2e3f4a5b6c"
    ),
)


def _item(n: int) -> dict[str, Any]:
    return {"id": f"pay-{n}", "status": "succeeded", "created_at": "2024-05-01T10:00:00Z"}


def _page(ids: range, next_cursor: str | None) -> httpx.Response:
    body: dict[str, Any] = {"items": [_item(n) for n in ids]}
    if next_cursor is not None:
        body["pagination"] = {"next_cursor": next_cursor}
    return httpx.Response(200, json=body)


@pytest.mark.anyio
async def test_search_sends_the_default_flow_and_decodes_providers(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.post(f"{API}/payments-providers/search").mock(
            return_value=httpx.Response(200, json={"items": [samples.PROVIDER]})
        )
        found = await tl.payments_providers.search(countries=["GB"], currencies=["GBP"])
    assert [type(p) for p in found] == [PaymentsProvider]
    request = route.calls.last.request
    assert "Tl-Signature" not in request.headers
    assert request.headers["Authorization"] == "Bearer cc-1"
    body = request_fits(request, "/v3/payments-providers/search")
    assert body["authorization_flow"] == {
        "configuration": {"provider_selection": {}, "redirect": {}}
    }
    assert body["countries"] == ["GB"]


@pytest.mark.anyio
async def test_get_provider_with_a_client_id_sends_no_token(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        token = wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(f"{API}/payments-providers/mock-payments-gb-redirect").mock(
            return_value=httpx.Response(200, json=samples.PROVIDER)
        )
        public = await tl.payments_providers.get(
            "mock-payments-gb-redirect", client_id="client", icon_type="extended"
        )
        private = await tl.payments_providers.get("mock-payments-gb-redirect")
    assert public == private and public.supports_bank_transfer
    first, second = (call.request for call in route.calls)
    assert "Authorization" not in first.headers
    assert dict(first.url.params) == {"client_id": "client", "icon_type": "extended"}
    assert second.headers["Authorization"] == "Bearer cc-1"
    assert token.call_count == 1


@pytest.mark.anyio
async def test_link_create_is_signed_and_keyed_and_get_decodes(
    tl: Session, key: ec.EllipticCurvePrivateKey
) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        create = wire.post(f"{API}/payment-links").mock(
            return_value=httpx.Response(201, json={"id": "link-1", "uri": "https://l.example/1"})
        )
        wire.get(LINK).mock(
            return_value=httpx.Response(
                200, json={"id": "link-1", "type": "single_payment", "status": "enabled"}
            )
        )
        created = await tl.payment_links.create(
            amount_in_minor=2500,
            currency="GBP",
            payment_method=LINK_METHOD,
            expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
            reference="Order 42",
            return_uri="https://shop.example/thanks",
            product_items=[{"name": "Tea", "price_in_minor": 2500, "quantity": 1}],
        )
        link = await tl.payment_links.get("link-1")
    assert isinstance(created, CreatedPaymentLink) and created.uri == "https://l.example/1"
    assert isinstance(link, PaymentLink) and link.status == "enabled"
    request = create.calls.last.request
    signed_by(request, key)
    body = request_fits(request, "/v3/payment-links")
    assert body["type"] == "single_payment"
    assert body["payment_configuration"]["amount_in_minor"] == 2500
    assert body["expires_at"] == "2030-01-01T00:00:00+00:00"


@pytest.mark.anyio
async def test_link_create_refuses_a_naive_expiry_before_sending(tl: Session) -> None:
    with respx.mock() as wire:
        with pytest.raises(e.InvalidParameterError, match="expires_at"):
            await tl.payment_links.create(
                amount_in_minor=1,
                currency="GBP",
                payment_method=LINK_METHOD,
                expires_at=datetime(2030, 1, 1),
            )
        assert not wire.calls


@pytest.mark.anyio
async def test_link_payments_walk_every_cursor_page_until_none(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(f"{LINK}/payments").mock(
            side_effect=[
                _page(range(0, 3), "c1"),
                _page(range(3, 5), "c2"),
                _page(range(5, 6), None),
            ]
        )
        ids = [p.id async for p in tl.payment_links.payments("link-1", page_size=3)]
    assert ids == [f"pay-{n}" for n in range(6)]
    params = [dict(call.request.url.params) for call in route.calls]
    assert params == [
        {"limit": "3"},
        {"cursor": "c1", "limit": "3"},
        {"cursor": "c2", "limit": "3"},
    ]


@pytest.mark.anyio
async def test_link_payments_empty_page_and_limit(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        route = wire.get(f"{LINK}/payments").mock(
            side_effect=[
                httpx.Response(200, json={"items": [], "pagination": {}}),
                _page(range(0, 3), "c1"),
            ]
        )
        assert [p async for p in tl.payment_links.payments("link-1")] == []
        limited = [p.id async for p in tl.payment_links.payments("link-1", limit=2)]
    assert limited == ["pay-0", "pay-1"]
    assert route.call_count == 2  # the limit was reached on the first page: no second fetch
    with pytest.raises(e.InvalidParameterError):
        tl.payment_links.payments("link-1", page_size=51)


def test_link_payment_wire_shapes_match_the_document() -> None:
    body = json.loads(_page(range(0, 1), "c").content)
    check_schema(body, "GetPaymentLinkPayments")
