"""``tl.payouts`` and ``tl.merchant_accounts`` end to end against the emulator
(in-process and served): payments that settle show up as merchant-account transactions,
payouts of every beneficiary type run to ``executed`` or ``failed``, sweeping, and
``async for`` over hundreds of transactions a page at a time."""

from __future__ import annotations

import gc
import weakref
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from tests.support.payout_pages import choose_on_page, walk_payouts_page
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import (
    BankTransfer,
    BusinessAccountBeneficiary,
    ExternalAccountBeneficiary,
    MerchantAccountBeneficiary,
    PaymentSourceBeneficiary,
    PaymentUser,
    PayoutAuthorizationFlowAuthorizing,
    PayoutAuthorizationFlowCompleted,
    PayoutAuthorizationFlowCreated,
    PayoutAuthorizationRequired,
    PayoutExecuted,
    PayoutFailed,
    PayoutPending,
    PayoutVerificationInput,
    SortCodeAccountNumber,
    TransactionExternalPayment,
    TransactionMerchantAccountPayment,
    TransactionPayout,
    UserDeterminedBeneficiary,
    UserSelectedProvider,
)
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio

RETURN = "https://shop.example/payout-done"
USER = PaymentUser(name="Ada Lovelace", email="ada@example.com")
EXTERNAL = ExternalAccountBeneficiary(
    account_holder_name="Jane Roe",
    account_identifier=SortCodeAccountNumber(sort_code="040668", account_number="00000871"),
    reference="Withdrawal",
)


def today(fake: FakeTrueLayer) -> tuple[datetime, datetime]:
    now = datetime.fromtimestamp(fake.clock(), timezone.utc)
    return now - timedelta(days=1), now + timedelta(minutes=1)


async def settle_a_payment(tl: Session, fake: FakeTrueLayer, account_id: str) -> str:
    created = await tl.payments.create(
        amount_in_minor=2500,
        currency="GBP",
        payment_method=BankTransfer(
            provider_selection=UserSelectedProvider(),
            beneficiary=MerchantAccountBeneficiary(
                merchant_account_id=account_id, reference="Order 7"
            ),
        ),
        user=USER,
    )
    fake.authorize_payment(created.id)
    fake.advance(5)
    return created.id


async def test_an_executed_payment_shows_up_as_a_merchant_account_transaction(
    tl: Session, fake: FakeTrueLayer
) -> None:
    accounts = await tl.merchant_accounts.list()
    assert sorted(a.currency for a in accounts) == ["EUR", "GBP", "PLN"]
    gbp = next(a for a in accounts if a.currency == "GBP")
    payment_id = await settle_a_payment(tl, fake, gbp.id)
    after = await tl.merchant_accounts.get(gbp.id)
    assert after.current_balance_in_minor == gbp.current_balance_in_minor + 2500
    start, end = today(fake)
    (transaction,) = [
        t async for t in tl.merchant_accounts.transactions(gbp.id, from_=start, to=end)
    ]
    assert isinstance(transaction, TransactionMerchantAccountPayment)
    assert transaction.payment_id == payment_id and transaction.amount_in_minor == 2500
    payment = await tl.payments.get(payment_id)
    sources = await tl.merchant_accounts.payment_sources(gbp.id, user_id=payment.user.id)
    assert [s.id for s in sources] == [transaction.payment_source.id]
    # Closed loop: pay the money back to the account it came from.
    back = await tl.payouts.create(
        merchant_account_id=gbp.id,
        amount_in_minor=1000,
        currency="GBP",
        beneficiary=PaymentSourceBeneficiary(
            payment_source_id=sources[0].id, user_id=payment.user.id, reference="Refund"
        ),
    )
    assert isinstance(await tl.payouts.get(back.id), PayoutPending)
    fake.advance(2)
    executed = await tl.payouts.wait_for(back.id, timeout=10)
    assert isinstance(executed, PayoutExecuted)
    kinds = [
        type(t)
        async for t in tl.merchant_accounts.transactions(
            gbp.id, from_=start, to=end + timedelta(minutes=1), type="payout"
        )
    ]
    assert kinds == [TransactionPayout]
    assert (await tl.merchant_accounts.get(gbp.id)).current_balance_in_minor == (
        gbp.current_balance_in_minor + 1500
    )


async def test_payouts_execute_or_fail(tl: Session, fake: FakeTrueLayer) -> None:
    account_id = fake.merchant_account_id("GBP")
    ok = await tl.payouts.create(
        merchant_account_id=account_id,
        amount_in_minor=700,
        currency="GBP",
        beneficiary=EXTERNAL,
        metadata={"order": "1"},
    )
    treasury = await tl.payouts.create(
        merchant_account_id=account_id,
        amount_in_minor=300,
        currency="GBP",
        beneficiary=BusinessAccountBeneficiary(reference="Treasury"),
    )
    too_much = await tl.payouts.create(
        merchant_account_id=account_id,
        amount_in_minor=fake.merchant_account_balance(account_id) + 1,
        currency="GBP",
        beneficiary=EXTERNAL,
    )
    fake.advance(2)
    assert isinstance(await tl.payouts.get(ok.id), PayoutExecuted)
    assert isinstance(await tl.payouts.get(treasury.id), PayoutExecuted)
    failed = await tl.payouts.get(too_much.id)
    assert isinstance(failed, PayoutFailed) and failed.failure_reason == "insufficient_funds"
    fake.fail_payout(ok.id, "returned")
    returned = await tl.payouts.get(ok.id)
    assert isinstance(returned, PayoutFailed) and returned.failure_reason == "returned"
    with pytest.raises(e.PaymentsApiError) as unknown:
        await tl.payouts.create(
            merchant_account_id="not-an-account",
            amount_in_minor=1,
            currency="GBP",
            beneficiary=EXTERNAL,
        )
    assert unknown.value.status_code == 400


async def test_a_verified_payout_through_the_flow_and_the_hosted_page(
    tl: Session, fake: FakeTrueLayer
) -> None:
    account_id = fake.merchant_account_id("GBP")
    beneficiary = UserDeterminedBeneficiary(
        reference="Winnings",
        user=USER,
        verification=PayoutVerificationInput(verify_name=True),
        provider_selection=UserSelectedProvider(),
    )
    first = await tl.payouts.create(
        merchant_account_id=account_id,
        amount_in_minor=900,
        currency="GBP",
        beneficiary=beneficiary,
    )
    assert first.resource_token is not None
    assert isinstance(await tl.payouts.get(first.id), PayoutAuthorizationRequired)
    token = first.resource_token
    flow = await tl.payouts.get_authorization_flow(first.id, resource_token=token)
    assert isinstance(flow, PayoutAuthorizationFlowCreated)
    started = await tl.payouts.start_authorization_flow(
        first.id, resource_token=token, return_uri=RETURN
    )
    assert isinstance(started, PayoutAuthorizationFlowAuthorizing)
    back = await choose_on_page(fake.http_client(), started.actions.next.uri, "authorise")
    assert urlsplit(back.headers["location"]).query == f"payout_id={first.id}"
    done = await tl.payouts.get_authorization_flow(first.id, resource_token=token)
    assert isinstance(done, PayoutAuthorizationFlowCompleted) and done.failure_reason is None
    fake.advance(2)
    assert isinstance(await tl.payouts.get(first.id), PayoutExecuted)

    second = await tl.payouts.create(
        merchant_account_id=account_id,
        amount_in_minor=900,
        currency="GBP",
        beneficiary=beneficiary,
    )
    assert second.resource_token is not None
    link = tl.hosted_page.payout_url(
        payout_id=second.id, resource_token=second.resource_token, return_uri=RETURN
    )
    await walk_payouts_page(fake.http_client(), link, "reject")
    rejected = await tl.payouts.get(second.id)
    assert isinstance(rejected, PayoutFailed) and rejected.failure_reason == "account_not_valid"


async def test_sweeping_through_the_service(tl: Session, fake: FakeTrueLayer) -> None:
    account_id = fake.merchant_account_id("EUR")
    accounts = tl.merchant_accounts
    assert await accounts.get_sweeping(account_id) is None
    balance = (await accounts.get(account_id)).current_balance_in_minor
    await accounts.setup_sweeping(
        account_id, max_amount_in_minor=balance - 100, currency="EUR", frequency="weekly"
    )
    settings = await accounts.get_sweeping(account_id)
    assert settings is not None and settings.frequency == "weekly"
    fake.advance(7 * 86_400)
    async with fake.session() as fresh:  # a week later: a new token, same emulator
        assert (await fresh.merchant_accounts.get(account_id)).current_balance_in_minor == (
            balance - 100
        )
        await fresh.merchant_accounts.disable_sweeping(account_id)
        assert await fresh.merchant_accounts.get_sweeping(account_id) is None


async def test_hundreds_of_transactions_with_async_for_and_pages(
    tl: Session, fake: FakeTrueLayer
) -> None:
    account_id = fake.merchant_account_id("PLN")
    fake.seed_transactions(account_id, 420, spacing=120)
    start, end = today(fake)
    listing = tl.merchant_accounts.transactions(account_id, from_=start, to=end)
    sizes = [len(page.items) async for page in listing.pages()]
    assert sum(sizes) == 420 and max(sizes) == 25 and len(sizes) == 17
    seen = [t.id async for t in listing]
    assert len(set(seen)) == 420
    kinds = {
        type(t) async for t in tl.merchant_accounts.transactions(account_id, from_=start, to=end)
    }
    assert kinds == {TransactionExternalPayment}
    with pytest.raises(e.InvalidParameterError):
        tl.merchant_accounts.transactions(account_id, from_=end, to=start)
    with pytest.raises(e.PaymentsApiError) as too_wide:
        async for _ in tl.merchant_accounts.transactions(
            account_id, from_=start - timedelta(days=40), to=end
        ):
            pass
    assert too_wide.value.status_code == 400


async def test_paging_hundreds_of_transactions_holds_one_page_at_a_time(
    tl: Session, fake: FakeTrueLayer
) -> None:
    # Issue #18: constant memory per page. Every page's items are tracked by weak
    # reference; once the loop has moved on, the previous page's items are gone.
    account_id = fake.merchant_account_id("EUR")
    fake.seed_transactions(account_id, 300, spacing=120)
    start, end = today(fake)
    alive: weakref.WeakSet[object] = weakref.WeakSet()
    most = 0
    count = 0
    async for page in tl.merchant_accounts.transactions(account_id, from_=start, to=end).pages():
        gc.collect()
        most = max(most, len(alive))  # what is still alive of the earlier pages
        alive.update(page.items)
        count += len(page.items)
        del page
    assert count == 300 and most == 0
