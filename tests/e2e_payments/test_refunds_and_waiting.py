"""Refunds (full, partial, over-refund, list, get, a failed one) and ``wait_for`` (to
``executed``, to ``settled``, a requested status, a timeout), on the emulator's clock."""

from __future__ import annotations

import pytest

from tests.e2e_payments.helpers import create, external, settled_payment
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import (
    PaymentAuthorizationRequired,
    PaymentAuthorized,
    PaymentExecuted,
    PaymentSettled,
    RefundExecuted,
    RefundFailed,
    RefundPending,
)
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio


async def test_partial_then_full_refund(tl: Session, fake: FakeTrueLayer) -> None:
    payment_id = await settled_payment(tl, fake, amount=1500)
    partial = await tl.payments.create_refund(
        payment_id, reference="Part", amount_in_minor=400, metadata={"why": "damaged"}
    )
    pending = await tl.payments.get_refund(payment_id, partial.id)
    assert isinstance(pending, RefundPending)
    assert (pending.amount_in_minor, pending.reference) == (400, "Part")
    rest = await tl.payments.create_refund(payment_id, reference="Rest")
    fake.advance(5)
    refunds = await tl.payments.list_refunds(payment_id)
    assert [(type(r), r.id, r.amount_in_minor) for r in refunds] == [
        (RefundExecuted, partial.id, 400),
        (RefundExecuted, rest.id, 1100),
    ]
    assert refunds[0].metadata == {"why": "damaged"}
    assert await tl.payments.get_refund(payment_id, rest.id) == refunds[1]


async def test_over_refund_is_refused(tl: Session, fake: FakeTrueLayer) -> None:
    payment_id = await settled_payment(tl, fake, amount=1000)
    await tl.payments.create_refund(payment_id, reference="Most", amount_in_minor=900)
    with pytest.raises(e.PaymentsApiError) as over:
        await tl.payments.create_refund(payment_id, reference="Too much", amount_in_minor=101)
    assert (over.value.status_code, over.value.error) == (400, "Invalid Parameters")
    assert "amount_in_minor" in over.value.errors
    assert len(await tl.payments.list_refunds(payment_id)) == 1


async def test_refund_of_an_unsettled_payment_is_invalid_state(
    tl: Session, fake: FakeTrueLayer
) -> None:
    created = await create(tl)
    with pytest.raises(e.PaymentsApiError) as early:
        await tl.payments.create_refund(created.id, reference="Early")
    assert (early.value.status_code, early.value.error) == (400, "Invalid State")


async def test_a_failed_refund(tl: Session, fake: FakeTrueLayer) -> None:
    payment_id = await settled_payment(tl, fake)
    refund = await tl.payments.create_refund(payment_id, reference="Back")
    fake.fail_refund(payment_id, refund.id, "returned")
    fake.advance(5)
    failed = await tl.payments.get_refund(payment_id, refund.id)
    assert isinstance(failed, RefundFailed)
    assert failed.failure_reason == "returned"


async def test_an_unknown_refund_is_not_found(tl: Session, fake: FakeTrueLayer) -> None:
    payment_id = await settled_payment(tl, fake)
    with pytest.raises(e.PaymentsApiError) as missing:
        await tl.payments.get_refund(payment_id, "no-such-refund")
    assert missing.value.status_code == 404


async def test_wait_for_an_external_payment_stops_at_executed(
    tl: Session, fake: FakeTrueLayer
) -> None:
    created = await create(tl, external())
    fake.authorize_payment(created.id, "executed", execution_delay=20)
    start = fake.clock()
    executed = await tl.payments.wait_for(created.id, timeout=120)
    assert isinstance(executed, PaymentExecuted)
    assert fake.clock() - start >= 20  # the waiting moved the emulator's clock


async def test_wait_for_a_merchant_payment_goes_on_to_settled(
    tl: Session, fake: FakeTrueLayer
) -> None:
    created = await create(tl)
    fake.authorize_payment(created.id, "executed", execution_delay=5, settlement_delay=30)
    settled = await tl.payments.wait_for(
        created.id, timeout=120, resource_token=created.resource_token
    )
    assert isinstance(settled, PaymentSettled)


async def test_wait_for_a_requested_status(tl: Session, fake: FakeTrueLayer) -> None:
    created = await create(tl)
    fake.authorize_payment(created.id, "executed", execution_delay=5, settlement_delay=30)
    executed = await tl.payments.wait_for(created.id, statuses=["executed"], timeout=120)
    assert isinstance(executed, PaymentExecuted)
    assert fake.payment_status(created.id) == "executed"


async def test_wait_for_times_out_with_the_last_payment(tl: Session, fake: FakeTrueLayer) -> None:
    created = await create(tl)
    start = fake.clock()
    with pytest.raises(e.WaitTimeoutError) as timed_out:
        await tl.payments.wait_for(created.id, timeout=10)
    assert isinstance(timed_out.value.last, PaymentAuthorizationRequired)
    assert timed_out.value.last.id == created.id
    assert 10 <= fake.clock() - start < 11


async def test_wait_for_authorized_payments_timing_out(tl: Session, fake: FakeTrueLayer) -> None:
    created = await create(tl)
    fake.authorize_payment(created.id, "executed", execution_delay=3600)
    with pytest.raises(e.WaitTimeoutError) as timed_out:
        await tl.payments.wait_for(created.id, timeout=30)
    assert isinstance(timed_out.value.last, PaymentAuthorized)
