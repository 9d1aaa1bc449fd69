"""``tl.mandates`` and payments on a mandate end to end against the emulator (in-process
and served): create, the authorization flow through the mock bank, list pages, funds,
constraints, payments within and over the limits, revocation."""

from __future__ import annotations

import pytest

from tests.support.e2e import session_on
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import (
    AuthorizationFlowAuthorizing,
    ConsentOptions,
    MandateAuthorizationRequired,
    MandateAuthorized,
    MandateConstraintsInput,
    MandateExternalAccount,
    MandateFailed,
    MandateMerchantAccount,
    MandatePaymentMethod,
    MandateRevoked,
    PaymentExecuted,
    PaymentFailed,
    PaymentSettled,
    PaymentUser,
    PeriodicLimitInput,
    PeriodicLimitsInput,
    ProviderSelectionOptions,
    SortCodeAccountNumber,
    SweepingMandate,
    UserSelectedProvider,
)
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio

RETURN = "https://shop.example/mandate-done"
USER = PaymentUser(id="user-7", name="Ada Lovelace", email="ada@example.com")
CONSTRAINTS = MandateConstraintsInput(
    maximum_individual_amount=3000,
    periodic_limits=PeriodicLimitsInput(
        week=PeriodicLimitInput(maximum_amount=5000, period_alignment="consent")
    ),
)


def sweeping(fake: FakeTrueLayer) -> SweepingMandate:
    return SweepingMandate(
        provider_selection=UserSelectedProvider(),
        beneficiary=MandateMerchantAccount(merchant_account_id=fake.merchant_account_id("GBP")),
        reference="SWEEP-7",
    )


async def create(tl: Session, fake: FakeTrueLayer) -> str:
    created = await tl.mandates.create(
        mandate=sweeping(fake), currency="GBP", user=USER, constraints=CONSTRAINTS
    )
    return created.id


async def pay(tl: Session, mandate_id: str, amount: int) -> str:
    created = await tl.payments.create(
        amount_in_minor=amount,
        currency="GBP",
        payment_method=MandatePaymentMethod(mandate_id=mandate_id, reference="Sweep"),
        user=USER,
    )
    return created.id


async def test_a_sweeping_mandate_from_creation_to_revocation(
    tl: Session, fake: FakeTrueLayer
) -> None:
    mandate_id = await create(tl, fake)
    assert isinstance(await tl.mandates.get(mandate_id), MandateAuthorizationRequired)
    started = await tl.mandates.start_authorization_flow(
        mandate_id,
        return_uri=RETURN,
        provider_selection=ProviderSelectionOptions(),
        consent=ConsentOptions(),
    )
    assert isinstance(started, AuthorizationFlowAuthorizing)
    chosen = await tl.mandates.submit_provider_selection(mandate_id, "mock-payments-gb-redirect")
    assert isinstance(chosen, AuthorizationFlowAuthorizing)
    assert chosen.authorization_flow.actions.next.type == "consent"
    consented = await tl.mandates.submit_consent(mandate_id)
    assert isinstance(consented, AuthorizationFlowAuthorizing)
    redirect = consented.authorization_flow.actions.next
    client = fake.http_client()
    back = await client.post(
        redirect.uri,  # type: ignore[union-attr]
        content="username=test_executed&action=authorise",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert back.headers["location"] == f"{RETURN}?mandate_id={mandate_id}"
    assert isinstance(await tl.mandates.get(mandate_id), MandateAuthorized)

    funds = await tl.mandates.confirm_funds(mandate_id, amount_in_minor=2000, currency="GBP")
    assert funds.confirmed is True
    first = await pay(tl, mandate_id, 3000)
    fake.advance(5)
    assert isinstance(await tl.payments.get(first), PaymentSettled)
    over_one = await tl.payments.get(await pay(tl, mandate_id, 3001))
    assert isinstance(over_one, PaymentFailed)
    assert over_one.failure_reason == "constraint_violation"
    over_week = await tl.payments.get(await pay(tl, mandate_id, 2001))
    assert isinstance(over_week, PaymentFailed)
    usage = await tl.mandates.constraints(mandate_id)
    week = usage.periodic_limits.week
    assert week is not None and (week.current_amount, week.maximum_available_amount) == (
        3000,
        2000,
    )

    await tl.mandates.revoke(mandate_id)
    revoked = await tl.mandates.get(mandate_id)
    assert isinstance(revoked, MandateRevoked) and revoked.revocation_source == "client"
    refused = await tl.payments.get(await pay(tl, mandate_id, 100))
    assert isinstance(refused, PaymentFailed) and refused.failure_reason == "mandate_revoked"
    with pytest.raises(e.PaymentsApiError) as twice:
        await tl.mandates.revoke(mandate_id)
    assert twice.value.status_code == 400


async def test_list_failed_and_unauthorised_mandates(tl: Session, fake: FakeTrueLayer) -> None:
    ids = [await create(tl, fake) for _ in range(5)]
    fake.authorize_mandate(ids[0], "authorization_failed")
    failed = await tl.mandates.get(ids[0])
    assert isinstance(failed, MandateFailed) and failed.failure_reason == "authorization_failed"
    listed = [m.id async for m in tl.mandates.list(user_id="user-7")]
    assert listed == ids
    pages = [len(p.items) async for p in tl.mandates.list(limit=4).pages()]
    assert sum(pages) == 4
    assert [m.id async for m in tl.mandates.list(user_id="someone-else")] == []
    early = await tl.payments.get(await pay(tl, ids[1], 100))
    assert isinstance(early, PaymentFailed) and early.failure_reason == "invalid_mandate_state"
    with pytest.raises(e.PaymentsApiError) as not_yet:
        await tl.mandates.constraints(ids[1])
    assert not_yet.value.status_code == 400


async def test_mandate_scope_from_the_openapi_document(fake: FakeTrueLayer) -> None:
    async with fake:
        async with fake.session(mandate_scopes=["mandates"]) as tl:
            mandate_id = await create(tl, fake)
            assert fake.authorize_mandate(mandate_id) == "authorized"
            assert isinstance(await tl.mandates.get(mandate_id), MandateAuthorized)
        async with fake.session(mandate_scopes=["payments"]) as wrong:
            with pytest.raises(e.PaymentsApiError) as refused:
                await create(wrong, fake)
            assert refused.value.status_code == 403


def external_sweeping() -> SweepingMandate:
    return SweepingMandate(
        provider_selection=UserSelectedProvider(),
        beneficiary=MandateExternalAccount(
            account_holder_name="Ada Lovelace",
            account_identifier=SortCodeAccountNumber(
                sort_code="040668", account_number="00000871"
            ),
        ),
        reference="SWEEP-8",
    )


async def authorized_mandate(tl: Session, fake: FakeTrueLayer, mandate: SweepingMandate) -> str:
    created = await tl.mandates.create(
        mandate=mandate, currency="GBP", user=USER, constraints=CONSTRAINTS
    )
    assert fake.authorize_mandate(created.id) == "authorized"
    return created.id


def mandate_reads(fake: FakeTrueLayer, mandate_id: str) -> int:
    return fake.count(f"/v3/mandates/{mandate_id}", method="GET")


async def test_wait_for_a_mandate_payment_into_a_merchant_account_ends_settled(
    tl: Session, fake: FakeTrueLayer
) -> None:
    # The payment names only its mandate; the mandate says the money goes into a
    # merchant account, so executed is not the end: the wait goes on to settled.
    mandate_id = await authorized_mandate(tl, fake, sweeping(fake))
    settled = await tl.payments.wait_for(await pay(tl, mandate_id, 1000), timeout=60)
    assert isinstance(settled, PaymentSettled)
    assert mandate_reads(fake, mandate_id) == 1  # read once, when first seen executed


async def test_wait_for_a_mandate_payment_to_an_external_account_ends_executed(
    tl: Session, fake: FakeTrueLayer
) -> None:
    mandate_id = await authorized_mandate(tl, fake, external_sweeping())
    executed = await tl.payments.wait_for(await pay(tl, mandate_id, 1000), timeout=60)
    assert isinstance(executed, PaymentExecuted)
    assert mandate_reads(fake, mandate_id) == 1


async def test_wait_for_treats_executed_as_final_when_the_mandate_is_unreadable(
    fake: FakeTrueLayer,
) -> None:
    async with fake:
        async with fake.session() as tl:
            mandate_id = await authorized_mandate(tl, fake, sweeping(fake))
        # A client without a mandate scope: the mandate read is refused (403), so the
        # wait cannot learn that the payment settles and stops at executed.
        async with fake.session(mandate_scopes=["payments"]) as blind:
            payment_id = await pay(blind, mandate_id, 1000)
            executed = await blind.payments.wait_for(payment_id, timeout=60)
    assert isinstance(executed, PaymentExecuted)
    assert mandate_reads(fake, mandate_id) == 1


def fail_mandate_read_once(fake: FakeTrueLayer, mandate_id: str, how: str) -> None:
    """Make the next ``GET /v3/mandates/{id}`` fail as ``how`` says (a status, or a
    response lost after the emulator handled the request)."""
    path = f"/v3/mandates/{mandate_id}"
    if how == "dropped":
        fake.drop_response_after_commit(path, method="GET")
    else:
        fake.fail_next(path, int(how), method="GET")


@pytest.mark.parametrize("how", ["503", "429", "dropped"])
async def test_wait_for_reads_the_mandate_again_after_a_passing_failure(
    fake: FakeTrueLayer, how: str
) -> None:
    # The mandate read fails in passing (no SDK retries here, so the failure reaches the
    # wait): that decides nothing, the next poll reads it again, learns the money goes
    # into a merchant account and waits for settled.
    fake.payment_timing.settlement_delay = 5  # seen executed on more than one poll
    async with session_on(fake, max_retries=0) as tl:
        mandate_id = await authorized_mandate(tl, fake, sweeping(fake))
        fail_mandate_read_once(fake, mandate_id, how)
        settled = await tl.payments.wait_for(await pay(tl, mandate_id, 1000), timeout=60)
    assert isinstance(settled, PaymentSettled)
    assert mandate_reads(fake, mandate_id) == 2


@pytest.mark.parametrize("status", [403, 404])
async def test_wait_for_treats_executed_as_final_after_a_lasting_failure(
    fake: FakeTrueLayer, status: int
) -> None:
    # An answer a retry would not change (forbidden, mandate gone): executed is
    # final and the mandate is not read again.
    async with session_on(fake, max_retries=0) as tl:
        mandate_id = await authorized_mandate(tl, fake, sweeping(fake))
        fake.fail_next(f"/v3/mandates/{mandate_id}", status, method="GET")
        executed = await tl.payments.wait_for(await pay(tl, mandate_id, 1000), timeout=60)
    assert isinstance(executed, PaymentExecuted)
    assert mandate_reads(fake, mandate_id) == 1


async def test_wait_for_times_out_while_the_mandate_keeps_failing(fake: FakeTrueLayer) -> None:
    # A mandate read failing in passing on every poll never makes executed final: the
    # wait ends at its timeout, with the executed payment as the last one seen.
    fake.payment_timing.settlement_delay = 3600  # executed, then settled much later
    async with session_on(fake, max_retries=0) as tl:
        mandate_id = await authorized_mandate(tl, fake, sweeping(fake))
        fake.fail_next(f"/v3/mandates/{mandate_id}", 503, times=None, method="GET")
        with pytest.raises(e.WaitTimeoutError) as timed_out:
            await tl.payments.wait_for(await pay(tl, mandate_id, 1000), timeout=30)
    assert isinstance(timed_out.value.last, PaymentExecuted)
    assert mandate_reads(fake, mandate_id) > 1
