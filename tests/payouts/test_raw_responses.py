"""``with_raw_response`` on the payouts, merchant-account and mandate services: the model
in ``parsed`` with the status, headers and correlation id of the response it came from."""

from __future__ import annotations

import httpx
import pytest
import respx

from tests.support import payout_samples as samples
from tests.support.signed_payments import API, grant
from tests.support.token_endpoint import TOKEN_URL
from truelayer_async import Session
from truelayer_async.models import MandateConstraintsUsage, MerchantAccount, PayoutExecuted

TRACE = {"Tl-Trace-Id": "trace-raw"}


@pytest.mark.anyio
async def test_raw_views_pair_each_model_with_its_response(tl: Session) -> None:
    with respx.mock() as wire:
        wire.post(TOKEN_URL).mock(return_value=grant(1))
        wire.get(f"{API}/payouts/{samples.PAYOUT_ID}").mock(
            return_value=httpx.Response(200, json=samples.PAYOUTS["executed"], headers=TRACE)
        )
        wire.get(f"{API}/merchant-accounts/{samples.MA_ID}").mock(
            return_value=httpx.Response(200, json=samples.MERCHANT_ACCOUNT, headers=TRACE)
        )
        wire.post(f"{API}/merchant-accounts/{samples.MA_ID}/sweeping").mock(
            return_value=httpx.Response(204, headers=TRACE)
        )
        wire.get(f"{API}/mandates/{samples.MANDATE_ID}/constraints").mock(
            return_value=httpx.Response(200, json=samples.CONSTRAINTS_USAGE, headers=TRACE)
        )
        payout = await tl.payouts.with_raw_response.get(samples.PAYOUT_ID)
        account = await tl.merchant_accounts.with_raw_response.get(samples.MA_ID)
        sweeping = await tl.merchant_accounts.with_raw_response.setup_sweeping(
            samples.MA_ID, max_amount_in_minor=0, currency="GBP", frequency="daily"
        )
        usage = await tl.mandates.with_raw_response.constraints(samples.MANDATE_ID)
    assert isinstance(payout.parsed, PayoutExecuted)
    assert isinstance(account.parsed, MerchantAccount)
    assert isinstance(usage.parsed, MandateConstraintsUsage)
    assert (sweeping.parsed, sweeping.status_code) == (None, 204)
    for raw in (payout, account, usage):
        assert raw.status_code == 200
        assert raw.correlation_id == "trace-raw"
    assert not hasattr(tl.merchant_accounts.with_raw_response, "get_sweeping")
