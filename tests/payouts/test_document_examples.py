"""The examples payments-api-v3.json gives for matrix rows 17-36, on both sides of the
wire: the requests the SDK sends equal the documented request examples, and the
documented responses (the 401 problems of ``POST /v3/payouts``) come out typed."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from tests.openapi import openapi_document
from tests.support import payout_samples as samples
from tests.support.openapi import PAYMENTS
from tests.support.signed_payments import API, grant
from tests.support.token_endpoint import TOKEN_URL
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import BusinessAccountBeneficiary

SCHEMAS = openapi_document(PAYMENTS)["components"]["schemas"]
PROBLEM = "application/problem+json; charset=UTF-8"
UNAUTHENTICATED = openapi_document(PAYMENTS)["paths"]["/v3/payouts"]["post"]["responses"]["401"][
    "content"
][PROBLEM]["examples"]


@pytest.mark.anyio
async def test_start_flow_bodies_equal_the_documented_examples(tl: Session) -> None:
    payout_example: dict[str, Any] = SCHEMAS["StartPayoutAuthorizationFlow"]["example"]
    mandate_example: dict[str, Any] = SCHEMAS["StartMandateAuthorizationFlow"]["example"]
    with respx.mock() as wire:
        payout = wire.post(f"{API}/payouts/{samples.PAYOUT_ID}/authorization-flow").mock(
            return_value=httpx.Response(200, json=samples.PAYOUT_FLOWS["completed"])
        )
        mandate = wire.post(f"{API}/mandates/{samples.MANDATE_ID}/authorization-flow").mock(
            return_value=httpx.Response(200, json=samples.MANDATE_FLOWS["wait"])
        )
        await tl.payouts.start_authorization_flow(
            samples.PAYOUT_ID,
            resource_token="token",
            return_uri=payout_example["redirect"]["return_uri"],
        )
        await tl.mandates.start_authorization_flow(
            samples.MANDATE_ID,
            resource_token="token",
            return_uri=mandate_example["redirect"]["return_uri"],
        )
    assert json.loads(payout.calls.last.request.content) == payout_example
    assert json.loads(mandate.calls.last.request.content) == mandate_example


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(UNAUTHENTICATED))
async def test_the_documented_401_problems_are_typed_after_one_new_token(
    tl: Session, name: str
) -> None:
    body = UNAUTHENTICATED[name]["value"]
    refused = httpx.Response(401, json=body, headers={"Content-Type": PROBLEM})
    with respx.mock() as wire:
        token = wire.post(TOKEN_URL).mock(side_effect=[grant(1), grant(2)])
        route = wire.post(f"{API}/payouts").mock(side_effect=[refused, refused])
        with pytest.raises(e.PaymentsApiError) as caught:
            await tl.payouts.create(
                merchant_account_id=samples.MA_ID,
                amount_in_minor=1,
                currency="GBP",
                beneficiary=BusinessAccountBeneficiary(reference="Treasury"),
            )
    assert caught.value.status_code == 401
    assert caught.value.correlation_id == body["trace_id"]
    # One new client token and one replay, with the same key and bytes.
    assert token.call_count == 2 and route.call_count == 2
    first, second = (call.request for call in route.calls)
    assert (first.headers["Authorization"], second.headers["Authorization"]) == (
        "Bearer cc-1",
        "Bearer cc-2",
    )
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert first.content == second.content
