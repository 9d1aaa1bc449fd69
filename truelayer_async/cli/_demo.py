"""``truelayer-async demo``: a real integration's whole journey (Data API, then a payment),
against the emulator.

Everything runs in this process: the emulator is an ASGI app reached through
``httpx.ASGITransport``, so no socket is opened and no credentials are needed.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import anyio
from rich.table import Table
from rich.text import Text

from ..models import (
    Account,
    AccountBalance,
    AccountHolderVerification,
    BankTransfer,
    Card,
    CardBalance,
    HostedPageOptions,
    MerchantAccountBeneficiary,
    Payment,
    PaymentUser,
    Refund,
    Transaction,
    UserSelectedProvider,
)
from ..tokens import DATA_SCOPES
from ._demo_ledger import ledger_journey
from ._errors import OK, USAGE, CliError
from ._output import accounts_table, cards_table, console, heading, money, transactions_table
from ._payment_progress import follow_payment, follow_refund, minor_money, status_detail

if TYPE_CHECKING:
    from rich.console import Console

    from ..session import Session
    from ..testing import FakeTrueLayer

__all__ = ["run_demo"]

WINDOW_DAYS = 90
#: The demo's payment: into the emulator's GBP merchant account, then part of it refunded.
PAYMENT_AMOUNT = 2500
REFUND_AMOUNT = 1000
RETURN_URI = "https://shop.example/checkout/done"
MISSING_TESTING = (
    "the demo runs the TrueLayer emulator, which needs the [testing] extra: "
    "pip install 'truelayer-async[cli,testing]'"
)


async def run_demo(args: argparse.Namespace) -> int:
    """Run the demo; returns the exit status."""
    try:
        from ..testing import FakeTrueLayer
    except ImportError:
        raise CliError(MISSING_TESTING, USAGE) from None
    started = time.perf_counter()
    out = console()
    out.print(
        Text.assemble(
            ("truelayer-async demo", "bold"),
            ": the whole integration, end to end, against the built-in TrueLayer emulator "
            "(in-process: no network, no credentials).",
        )
    )
    async with FakeTrueLayer() as fake, fake.session() as tl:
        await _journey(out, fake, tl, args.user)
    out.print(f"\nDone in {time.perf_counter() - started:.2f} s.")
    return OK


async def _journey(out: Console, fake: FakeTrueLayer, tl: Session, user: str) -> None:
    from ..testing import complete_consent

    # 1. The auth link, with PKCE.
    heading(out, 1, "Build the auth link (PKCE S256; state and verifier kept server-side)")
    link = tl.auth.auth_link(
        scopes=DATA_SCOPES, pkce=True, providers="uk-cs-mock uk-ob-all uk-oauth-all"
    )
    out.print(f"   scopes: {' '.join(DATA_SCOPES)}")
    out.print(f"   link:   {link.url}", soft_wrap=True)

    # 2. The consent pages, walked with HTTP requests through their forms.
    heading(out, 2, "Walk the mock bank's consent pages (choose bank, log in, approve)")
    result = await complete_consent(fake.http_client(), link.url, username="john", password="doe")
    landing = result.redirect_url.split("?", 1)[0]
    out.print("   provider: mock  ·  user: john / doe  ·  consent: approved")
    out.print(f"   redirected to {landing}?code=…&state=…")

    # 3. The callback: state check, then the code exchange with the verifier.
    heading(out, 3, "Check the state at the redirect and exchange the code (with the verifier)")
    code = tl.auth.parse_callback(result.redirect_url, expected_state=link.state)
    out.print("   state: matches the one kept for this login")
    token = await tl.auth.exchange_code(code, user=user, code_verifier=link.code_verifier)
    out.print(
        f"   token stored for user {user!r}: expires in {token.expires_in} s, "
        f"refresh token: {'yes' if token.refresh_token else 'no'}, "
        f"scopes: {' '.join(token.scopes)}"
    )

    # 4. Accounts and balances.
    heading(out, 4, "Accounts and balances")
    accounts = await tl.data.accounts(user=user)
    balances = await _gather_balances(tl, user, accounts)
    out.print(accounts_table(list(zip(accounts, balances, strict=True)), title="Accounts"))

    # 5. Transactions, last 90 days.
    now = fake.clock.utcnow()
    from_, to = (now - timedelta(days=WINDOW_DAYS)).date(), now.date()
    heading(out, 5, f"Transactions from {from_} to {to} ({WINDOW_DAYS} days)")
    per_account: list[list[Transaction]] = []
    for account in accounts:
        per_account.append(
            await tl.data.transactions(account.account_id, from_=from_, to=to, user=user)
        )
    out.print(_transaction_counts(accounts, per_account))
    if per_account and per_account[0]:
        latest = per_account[0][:5]
        out.print(
            transactions_table(latest, title=f"Latest {len(latest)} on {accounts[0].display_name}")
        )

    # 6. Cards.
    heading(out, 6, "Cards")
    cards = await tl.data.cards(user=user)
    card_rows: list[tuple[Card, CardBalance | None, int]] = []
    card_txn_total = 0
    for card in cards:
        card_balance = await tl.data.card_balance(card.account_id, user=user)
        card_txns = await tl.data.card_transactions(card.account_id, from_=from_, to=to, user=user)
        card_txn_total += len(card_txns)
        card_rows.append((card, card_balance, len(card_txns)))
    out.print(cards_table(card_rows))

    # 7. Expiry and the automatic refresh.
    heading(out, 7, "Token expiry and automatic refresh")
    refreshes_before = fake.stats["refresh"]
    skip = token.expires_in + 60
    fake.clock.advance(skip)
    out.print(
        f"   advanced the emulator clock by {skip} s: the access token has expired "
        f"(refreshes so far: {refreshes_before})"
    )
    again = await tl.data.accounts(user=user)
    refreshed = await tl.auth.valid_token(user=user)
    out.print(
        f"   the next data call (GET /accounts -> {len(again)} accounts) refreshed the token "
        f"first: new expiry {refreshed.expires_at:%Y-%m-%d %H:%M:%S} UTC"
    )

    # 8-11. A payment, paid on the hosted page, settled, partly refunded.
    merchant_account_id = fake.merchant_account_id("GBP")
    payment, refund = await _payment_journey(out, fake, tl, merchant_account_id)

    # 12-15. The payer's account holder verification, a payout back to them, a sweeping
    # mandate, the merchant account's ledger.
    ledger = await ledger_journey(
        out, fake, tl, payment=payment, merchant_account_id=merchant_account_id, first_step=12
    )

    # 16. Summary.
    stats = fake.stats
    heading(out, 16, "Summary")
    account_txn_total = sum(len(t) for t in per_account)
    summary = Table(title="Summary", title_justify="left", show_header=False)
    summary.add_column("What")
    summary.add_column("Count", justify="right")
    summary.add_row("Accounts", str(len(accounts)))
    summary.add_row("Cards", str(len(cards)))
    summary.add_row(f"Account transactions ({WINDOW_DAYS} days)", str(account_txn_total))
    summary.add_row(f"Card transactions ({WINDOW_DAYS} days)", str(card_txn_total))
    summary.add_row("Code exchanges", str(stats["authorization_code"]))
    summary.add_row("Token refreshes", str(stats["refresh"]))
    summary.add_row("Data API requests", str(stats["data"]))
    summary.add_row("Payments", f"1 ({payment.status})")
    summary.add_row("Refunds", f"1 ({refund.status})")
    summary.add_row("Account holder verifications", f"1 ({_match_type(ledger.verification)})")
    summary.add_row("Payouts", f"1 ({ledger.payout.status})")
    summary.add_row(
        "Mandates", f"1 ({ledger.mandate.status}; its payment {ledger.mandate_payment.status})"
    )
    summary.add_row(
        "Merchant-account transactions",
        f"{ledger.transactions} ({ledger.pages} page{'s' if ledger.pages != 1 else ''})",
    )
    out.print(summary)
    out.print(_category_totals(per_account))
    out.print(f"Token refreshes: {stats['refresh']}")


async def _payment_journey(
    out: Console, fake: FakeTrueLayer, tl: Session, merchant_account_id: str
) -> tuple[Payment, Refund]:
    from ..testing import complete_payment

    # 8. Create the payment, asking for a hosted payment page.
    amount = minor_money(PAYMENT_AMOUNT, "GBP")
    heading(out, 8, "Create a payment into a merchant account, with a hosted payment page")
    created = await tl.payments.create(
        amount_in_minor=PAYMENT_AMOUNT,
        currency="GBP",
        payment_method=BankTransfer(
            provider_selection=UserSelectedProvider(),
            beneficiary=MerchantAccountBeneficiary(
                merchant_account_id=merchant_account_id, reference="Demo order 1"
            ),
        ),
        user=PaymentUser(name="Jane Doe", email="jane.doe@example.com"),
        hosted_page=HostedPageOptions(return_uri=RETURN_URI),
    )
    if created.hosted_page is None:  # asked for above
        raise CliError("the emulator answered no hosted page link")
    page = created.hosted_page.uri.split("#", 1)[0]
    out.print(f"   {amount} to merchant account {merchant_account_id} (signed, idempotent)")
    out.print(f"   payment {created.id}: {created.status}")
    out.print(f"   hosted page: {page}#payment_id=…&resource_token=…&return_uri=…")

    # 9. The hosted page and the mock bank, walked with HTTP requests.
    heading(out, 9, "Pay on the hosted page (choose the mock bank, log in as test_executed)")
    result = await complete_payment(fake.http_client(), created.hosted_page.uri)
    out.print(f"   returned to {result.redirect_url}")

    # 10. Poll until settled (the session's sleeps move the emulator clock).
    heading(out, 10, "Wait with tl.payments.wait_for: executed, then settled")
    payment = await follow_payment(
        tl, created.id, timeout=60, report=lambda p: out.print(f"   {_when(p)}")
    )

    # 11. A partial refund, followed as the emulator clock moves.
    refunded = minor_money(REFUND_AMOUNT, "GBP")
    heading(out, 11, f"Refund {refunded} of it (a partial refund)")
    made = await tl.payments.create_refund(
        created.id, reference="Demo refund", amount_in_minor=REFUND_AMOUNT
    )
    out.print(f"   refund {made.id}")
    refund = await follow_refund(
        tl,
        created.id,
        made.id,
        timeout=60,
        clock=fake.clock,
        sleep=fake.clock.sleep,
        report=lambda r: out.print(f"   {_when(r)}"),
    )
    left = minor_money(PAYMENT_AMOUNT - REFUND_AMOUNT, "GBP")
    out.print(f"   {refunded} refunded; {left} left on the payment")
    return payment, refund


def _match_type(result: AccountHolderVerification) -> str:
    """``match``, ``partial_match``…, or the status when there is no match result."""
    match = getattr(result, "match_result", None)
    return str(match.type) if match is not None else result.status


def _when(item: Payment | Refund) -> str:
    """The status, with its time when the model has one (``executed_at``…)."""
    detail = status_detail(item)
    stamp = getattr(item, f"{item.status}_at", None)
    return f"{detail} at {stamp:%H:%M:%S} UTC" if stamp is not None else detail


async def _gather_balances(
    tl: Session, user: str, accounts: list[Account]
) -> list[AccountBalance | None]:
    balances: list[AccountBalance | None] = [None] * len(accounts)

    async def one(index: int, account_id: str) -> None:
        balances[index] = await tl.data.balance(account_id, user=user)

    async with anyio.create_task_group() as tg:
        for index, account in enumerate(accounts):
            tg.start_soon(one, index, account.account_id)
    return balances


def _transaction_counts(accounts: list[Account], per_account: list[list[Transaction]]) -> Table:
    table = Table(title="Transactions per account", title_justify="left")
    table.add_column("Account")
    table.add_column("Transactions", justify="right")
    table.add_column("Money in", justify="right", no_wrap=True)
    table.add_column("Money out", justify="right", no_wrap=True)
    for account, txns in zip(accounts, per_account, strict=True):
        money_in = sum((t.amount for t in txns if t.amount > 0), Decimal(0))
        money_out = sum((t.amount for t in txns if t.amount < 0), Decimal(0))
        table.add_row(
            account.display_name,
            str(len(txns)),
            money(money_in, account.currency),
            money(money_out, account.currency),
        )
    return table


def _category_totals(per_account: list[list[Transaction]]) -> Table:
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for txns in per_account:
        for t in txns:
            key = (str(t.transaction_category), t.currency)
            totals[key] += t.amount
            counts[key] += 1
    table = Table(
        title=f"Totals per category (accounts, {WINDOW_DAYS} days)", title_justify="left"
    )
    table.add_column("Category")
    table.add_column("Transactions", justify="right")
    table.add_column("Total", justify="right", no_wrap=True)
    for key in sorted(totals, key=lambda k: (-abs(totals[k]), k)):
        table.add_row(key[0], str(counts[key]), money(totals[key], key[1]))
    return table
