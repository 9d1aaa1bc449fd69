"""The demo's second half of Payments v3: the payer's name verified against their account,
a payout back to them, a sweeping mandate paid on once, and the merchant account's
transactions page by page."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import attrs

from ..models import (
    ActionRedirect,
    AuthorizationFlowAuthorizing,
    ConsentOptions,
    MandateConstraintsInput,
    MandateMerchantAccount,
    MandatePaymentMethod,
    Payment,
    PaymentSource,
    PaymentSourceBeneficiary,
    PaymentUser,
    Payout,
    PeriodicLimitInput,
    PeriodicLimitsInput,
    ProviderSelectionOptions,
    SweepingMandate,
    UserSelectedProvider,
)
from ..services._polling import poll_until
from ._demo_verification import verify_payer
from ._errors import CliError
from ._ledger_output import mandate_table, transactions_table
from ._output import heading
from ._payment_progress import follow_payment, minor_money, status_detail

if TYPE_CHECKING:
    from rich.console import Console

    from ..models import AccountHolderVerification, Mandate, MerchantAccountTransaction
    from ..session import Session
    from ..testing import FakeTrueLayer

__all__ = ["LedgerOutcome", "ledger_journey"]

PAYOUT_AMOUNT = 500
SWEEP_AMOUNT = 1500
MANDATE_PROVIDER = "mock-payments-gb-redirect"
MANDATE_RETURN_URI = "https://shop.example/mandate/done"


@attrs.frozen
class LedgerOutcome:
    """What the summary reports."""

    verification: AccountHolderVerification
    payout: Payout
    mandate: Mandate
    mandate_payment: Payment
    transactions: int
    pages: int


async def ledger_journey(
    out: Console,
    fake: FakeTrueLayer,
    tl: Session,
    *,
    payment: Payment,
    merchant_account_id: str,
    first_step: int,
) -> LedgerOutcome:
    """Steps ``first_step`` to ``first_step + 3``: the payer's account holder
    verification, the payout, the mandate, the transactions."""
    user_id: str | None = getattr(getattr(payment, "user", None), "id", None)
    if not user_id:
        raise CliError("the settled payment has no user id")
    sources = await tl.merchant_accounts.payment_sources(merchant_account_id, user_id=user_id)
    if not sources or sources[0].id is None:
        raise CliError("the settled payment left no payment source to pay back to")
    heading(out, first_step, "Check the payer's name against their account (account holder "
          "verification)")  # fmt: skip
    verification = await verify_payer(out, tl, sources[0])
    payout = await _payout(out, tl, user_id, merchant_account_id, sources[0], first_step + 1)
    mandate, paid = await _sweeping_mandate(
        out, fake, tl, user_id, merchant_account_id, first_step + 2
    )
    count, pages = await _transactions(out, fake, tl, merchant_account_id, first_step + 3)
    return LedgerOutcome(verification, payout, mandate, paid, count, pages)


async def _payout(
    out: Console,
    tl: Session,
    user_id: str,
    merchant_account_id: str,
    source: PaymentSource,
    step: int,
) -> Payout:
    amount = minor_money(PAYOUT_AMOUNT, "GBP")
    heading(out, step, f"Pay {amount} back to the user: a payout to the account they paid from")
    source_id = source.id or ""
    holder = source.account_holder_name or "the payer"
    out.print(f"   payment source {source_id} ({holder}), from payment_sources(user_id=…)")
    created = await tl.payouts.create(
        merchant_account_id=merchant_account_id,
        amount_in_minor=PAYOUT_AMOUNT,
        currency="GBP",
        beneficiary=PaymentSourceBeneficiary(
            payment_source_id=source_id, user_id=user_id, reference="Demo payout"
        ),
    )
    out.print(f"   payout {created.id} created (signed, idempotent)")
    first = await tl.payouts.get(created.id)
    out.print(f"   {first.status}")
    payout = await tl.payouts.wait_for(created.id, timeout=60)
    out.print(f"   {status_detail(payout)}")
    return payout


async def _sweeping_mandate(
    out: Console,
    fake: FakeTrueLayer,
    tl: Session,
    user_id: str,
    merchant_account_id: str,
    step: int,
) -> tuple[Mandate, Payment]:
    per_payment, per_month = minor_money(3000, "GBP"), minor_money(10_000, "GBP")
    heading(
        out, step, f"A sweeping mandate (VRP): up to {per_payment} a payment, {per_month} a month"
    )
    created = await tl.mandates.create(
        mandate=SweepingMandate(
            provider_selection=UserSelectedProvider(),
            beneficiary=MandateMerchantAccount(merchant_account_id=merchant_account_id),
            reference="DEMO-SWEEP",
        ),
        currency="GBP",
        user=PaymentUser(id=user_id, name="Jane Doe", email="jane.doe@example.com"),
        constraints=MandateConstraintsInput(
            maximum_individual_amount=3000,
            periodic_limits=PeriodicLimitsInput(
                month=PeriodicLimitInput(maximum_amount=10_000, period_alignment="calendar")
            ),
        ),
    )
    out.print(f"   mandate {created.id}: {created.status}")
    # The authorization flow, as a front end would drive it, then the mock bank's page.
    await tl.mandates.start_authorization_flow(
        created.id,
        return_uri=MANDATE_RETURN_URI,
        provider_selection=ProviderSelectionOptions(),
        consent=ConsentOptions(),
    )
    await tl.mandates.submit_provider_selection(created.id, MANDATE_PROVIDER)
    consented = await tl.mandates.submit_consent(created.id)
    actions = (
        consented.authorization_flow.actions
        if isinstance(consented, AuthorizationFlowAuthorizing)
        else None
    )
    action = actions.next if actions is not None else None
    if not isinstance(action, ActionRedirect):
        raise CliError("the emulator did not send the user to the bank for the mandate")
    bank = await fake.http_client().post(
        action.uri,
        content="username=test_executed&action=authorise",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    out.print(
        f"   flow: provider selection ({MANDATE_PROVIDER}), consent, the bank's page; "
        f"returned to {bank.headers.get('location', '?')}"
    )
    mandate = await tl.mandates.get(created.id)
    out.print(f"   mandate {status_detail(mandate)}")
    made = await tl.payments.create(
        amount_in_minor=SWEEP_AMOUNT,
        currency="GBP",
        payment_method=MandatePaymentMethod(mandate_id=created.id, reference="Demo sweep"),
        user=PaymentUser(id=user_id),
    )
    out.print(f"   a {minor_money(SWEEP_AMOUNT, 'GBP')} payment on it, no user journey: {made.id}")
    paid = await follow_payment(
        tl, made.id, timeout=60, report=lambda p: out.print(f"   {status_detail(p)}")
    )
    if paid.status == "executed":  # a mandate payment's beneficiary is not in the model
        paid = await poll_until(
            lambda: tl.payments.get(made.id),
            statuses=("settled",),
            is_final=lambda p: p.status in ("settled", "failed"),
            timeout=60,
            clock=fake.clock,
            sleep=fake.clock.sleep,
            what="payment",
        )
        out.print(f"   {status_detail(paid)} (into the merchant account)")
    usage = await tl.mandates.constraints(created.id)
    out.print(mandate_table(mandate, usage))
    return mandate, paid


async def _transactions(
    out: Console, fake: FakeTrueLayer, tl: Session, merchant_account_id: str, step: int
) -> tuple[int, int]:
    heading(out, step, "The merchant account's transactions of the last 24 hours, page by page")
    now = fake.clock.utcnow()
    start = now - timedelta(days=1)
    found: list[MerchantAccountTransaction] = []
    pages = 0
    listing = tl.merchant_accounts.transactions(
        merchant_account_id, from_=start, to=now + timedelta(seconds=1)
    )
    async for page in listing.pages():
        pages += 1
        found.extend(page.items)
    account = await tl.merchant_accounts.get(merchant_account_id)
    title = f"{len(found)} transactions in {pages} page{'s' if pages != 1 else ''}"
    out.print(transactions_table(found, title=title))
    balance = minor_money(account.current_balance_in_minor, account.currency)
    out.print(f"   balance now: {balance}")
    return len(found), pages
