"""The control API's merchant-account, payout and mandate drivers, through
``EmulatorControl`` (in-process) and over a served emulator."""

from __future__ import annotations

import pytest

from tests.support.raw_mandates import create as create_mandate
from tests.support.raw_payments import Payments
from tests.support.raw_payouts import EXTERNAL, VERIFIED, create, get, payout
from truelayer_async.testing import EmulatorControl, EmulatorControlError, FakeTrueLayer

pytestmark = pytest.mark.anyio


async def test_drivers_through_the_control_api(api: Payments, fake: FakeTrueLayer) -> None:
    control: EmulatorControl = fake.control()
    gbp = fake.merchant_account_id("GBP")
    before = fake.merchant_account_balance(gbp)
    transaction_id = await control.credit_merchant_account(gbp, 250, reference="Wire")
    assert transaction_id and fake.merchant_account_balance(gbp) == before + 250
    await control.seed_transactions(gbp, 3, spacing=10)
    assert fake.merchant_account_balance(gbp) == before + 550
    with pytest.raises(EmulatorControlError) as no_sweeping:
        await control.run_sweep(gbp)
    assert no_sweeping.value.status == 400
    with pytest.raises(EmulatorControlError) as unknown:
        await control.credit_merchant_account("nope", 1)
    assert unknown.value.status == 404

    verified = await create(api, payout(VERIFIED))
    assert await control.authorize_payout(verified["id"]) == "pending"
    regular = await create(api, payout(EXTERNAL))
    assert await control.fail_payout(regular["id"], "blocked") == "failed"
    assert (await get(api, regular["id"]))["failure_reason"] == "blocked"

    await api.login("recurring_payments:sweeping")
    mandate = await create_mandate(api)
    assert await control.authorize_mandate(mandate["id"]) == "authorized"
    assert await control.revoke_mandate(mandate["id"]) == "revoked"
    with pytest.raises(EmulatorControlError) as twice:
        await control.revoke_mandate(mandate["id"])
    assert twice.value.status == 400
    with pytest.raises(EmulatorControlError) as bad_count:
        await control.seed_transactions(gbp, "many")  # type: ignore[arg-type]
    assert bad_count.value.status == 400
