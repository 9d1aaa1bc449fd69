"""Tables read well at 80 columns (and at 120): names, amounts and currencies are never cut.

Rendered from the emulator's data (several personas, one with its own IBANs and one with
no cards) and from a few larger values a real bank sends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import anyio
import attrs
import pytest
from rich.console import Console
from rich.table import Table

from tests.support.cli import run_cli
from truelayer_async import DATA_SCOPES, FetchAllResult
from truelayer_async.cli import _demo, _output
from truelayer_async.cli._data_commands import _results_table
from truelayer_async.cli._ledger_output import mandates_table, merchant_accounts_table
from truelayer_async.cli._output import accounts_table, cards_table, money, transactions_table
from truelayer_async.cli._parser import build_parser
from truelayer_async.cli._users import StoredUser, _users_table
from truelayer_async.errors import ReauthorizationRequired
from truelayer_async.models import (
    Account,
    AccountBalance,
    Card,
    CardBalance,
    MandateConstraintsInput,
    MandateMerchantAccount,
    PaymentUser,
    PeriodicLimitInput,
    PeriodicLimitsInput,
    SweepingMandate,
    Transaction,
    UserSelectedProvider,
)
from truelayer_async.testing import FakeTrueLayer, complete_consent

WIDTHS = (80, 120)
#: A shortened id: 8 characters and an ellipsis. No other ellipsis may appear.
SHORT = re.compile(r"[0-9A-Za-z_-]{8}…")


@attrs.frozen
class BankData:
    accounts: list[tuple[Account, AccountBalance | None]]
    transactions: list[Transaction]
    cards: list[tuple[Card, CardBalance | None, int]]


def fetch(username: str, password: str = "doe") -> BankData:
    """One persona's accounts, balances, 90 days of transactions and cards."""

    async def run() -> BankData:
        async with FakeTrueLayer() as fake, fake.session() as tl:
            link = tl.auth.auth_link(scopes=DATA_SCOPES, pkce=True, providers="uk-cs-mock")
            consent = await complete_consent(
                fake.http_client(), link.url, username=username, password=password
            )
            code = tl.auth.parse_callback(consent.redirect_url, expected_state=link.state)
            await tl.auth.exchange_code(code, code_verifier=link.code_verifier)
            now = fake.clock.utcnow()
            window = {"from_": (now - timedelta(days=90)).date(), "to": now.date()}
            accounts = await tl.data.accounts()
            pairs = [(a, await tl.data.balance(a.account_id)) for a in accounts]
            txns: list[Transaction] = []
            for account in accounts:
                txns += await tl.data.transactions(account.account_id, **window)
            cards: list[tuple[Card, CardBalance | None, int]] = []
            if username != "john2":  # john2's bank has no cards (501)
                for card in await tl.data.cards():
                    count = len(await tl.data.card_transactions(card.account_id, **window))
                    cards.append((card, await tl.data.card_balance(card.account_id), count))
            return BankData(pairs, txns, cards)

    return anyio.run(run)


@pytest.fixture(scope="module", params=[("john", "doe"), ("john2", "iban2")], ids=str)
def bank(request: pytest.FixtureRequest) -> BankData:
    username, password = request.param
    return fetch(username, password)


def render(table: Table, width: int) -> list[str]:
    console = Console(width=width, record=True, highlight=False, markup=False)
    console.print(table)
    return console.export_text().splitlines()


def assert_reads_well(lines: list[str], width: int, whole: list[str]) -> None:
    """No line is wider than ``width``; each of ``whole`` is on one line, uncut; the only
    ellipses are those of shortened ids."""
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= width, text
    for value in whole:
        assert any(value in line for line in lines), (value, text)
    assert "…" not in SHORT.sub("", text), text


def account_values(data: BankData) -> list[str]:
    values = []
    for account, balance in data.accounts:
        values.append(account.display_name)
        assert balance is not None
        values += [money(balance.current, balance.currency)]
        values += [money(balance.available, balance.currency)]
    return values


@pytest.mark.parametrize("width", WIDTHS)
def test_accounts_table(bank: BankData, width: int) -> None:
    lines = render(accounts_table(bank.accounts), width)
    assert_reads_well(lines, width, account_values(bank))
    for account, _ in bank.accounts:
        assert account.account_id[:8] + "…" in "\n".join(lines)


@pytest.mark.parametrize("width", WIDTHS)
def test_transactions_table(bank: BankData, width: int) -> None:
    lines = render(transactions_table(bank.transactions), width)
    whole = [money(t.amount, t.currency) for t in bank.transactions]
    whole += [str(t.transaction_category.value) for t in bank.transactions]
    assert_reads_well(lines, width, whole)
    words = " ".join(lines).split()
    for t in bank.transactions:  # descriptions may wrap, but lose no word
        assert set((t.merchant_name or t.description).split()) <= set(words)


@pytest.mark.parametrize("width", WIDTHS)
def test_cards_table(width: int) -> None:
    data = fetch("john")
    assert data.cards
    lines = render(cards_table(data.cards), width)
    whole = []
    for card, balance, _ in data.cards:
        assert card.display_name and balance is not None
        whole += [card.display_name, f"•••• {card.partial_card_number}"]
        whole += [money(balance.current, balance.currency)]
        whole += [money(balance.credit_limit, balance.currency)]
    assert_reads_well(lines, width, whole)


def bigger(data: BankData) -> Iterator[Any]:
    """The same data with seven-figure amounts, euro IBAN accounts and an AMEX card."""
    big = Decimal("-1234567.89")
    for account, balance in data.accounts:
        number = attrs.evolve(
            account.account_number, sort_code=None, number=None, iban="DE89370400440532013000"
        )
        account = attrs.evolve(account, currency="EUR", account_number=number)
        assert balance is not None
        yield account, attrs.evolve(balance, currency="EUR", current=big, available=-big)


@pytest.mark.parametrize("width", WIDTHS)
def test_large_values_still_fit(bank: BankData, width: int) -> None:
    accounts = list(bigger(bank))
    lines = render(accounts_table(accounts), width)
    assert_reads_well(lines, width, ["-1,234,567.89 EUR", "1,234,567.89 EUR", "DE89"])
    txns = [
        attrs.evolve(t, amount=Decimal("-98765.43"), currency="EUR") for t in bank.transactions
    ]
    lines = render(transactions_table(txns), width)
    assert_reads_well(lines, width, ["-98,765.43 EUR"])
    card = Card(
        account_id="c" * 32,
        card_network="AMEX",
        currency="GBP",
        display_name="Platinum Cashback",
        partial_card_number="1005",
    )
    when = datetime(2024, 1, 2, tzinfo=timezone.utc)
    balance = CardBalance(
        currency="GBP",
        current=Decimal("12345.67"),
        available=Decimal("0"),
        credit_limit=Decimal("25000.00"),
        update_timestamp=when,
    )
    lines = render(cards_table([(card, balance, 1234)]), width)
    assert_reads_well(
        lines, width, ["Platinum Cashback", "AMEX •••• 1005", "12,345.67 GBP", "25,000.00 GBP"]
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_demo_reads_well(
    width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole demo at this width: every table line fits, nothing is cut."""
    consoles: list[Console] = []

    def narrow(*, stderr: bool = False) -> Console:
        console = Console(width=width, record=True, highlight=False, markup=False)
        consoles.append(console)
        return console

    monkeypatch.setattr(_output, "console", narrow)
    monkeypatch.setattr(_demo, "console", narrow)
    result = run_cli(capsys, "demo")
    assert result.code == 0, result.err
    text = "".join(c.export_text() for c in consoles)
    table_lines = [line for line in text.splitlines() if line[:1] in "┏┃┡│└┌"]
    assert len(table_lines) > 40
    assert max(len(line) for line in table_lines) <= width
    for name in ("Everyday Current", "Rainy Day Saver", "Mock Credit Card", "STANDING_ORDER"):
        assert any(name in line for line in table_lines), (name, text)
    assert "…" not in SHORT.sub("", "\n".join(table_lines))


@pytest.mark.parametrize("width", WIDTHS)
def test_users_table(width: int) -> None:
    users = [
        StoredUser(
            server="https://auth.truelayer-sandbox.com",
            client_id="sandbox-truelayer-async",
            user=name,
            expires_at=datetime(2026, 12, 4, 19, 23, tzinfo=timezone.utc),
            refresh_token=True,
            login_again=reason,
        )
        for name, reason in [
            ("alice", None),
            ("bob.smith@example.com", "TrueLayer refused it (consent_revoked)"),
        ]
    ]
    flags = ("--environment", "sandbox")
    lines = render(_users_table(users[0].server, users[0].client_id, users, flags), width)
    assert_reads_well(lines, width, ["alice", "bob.smith@example.com", "2026-12-04 19:23 UTC"])


@pytest.mark.parametrize("width", WIDTHS)
def test_fetch_all_results_table(width: int) -> None:
    results = [
        FetchAllResult(user="alice"),
        FetchAllResult(
            user="carol.jones",
            error=ReauthorizationRequired(403, "access_denied", reason="consent_revoked"),
        ),
    ]
    args = build_parser().parse_args(["fetch-all", "--auth-url", "http://127.0.0.1:8765"])
    lines = render(_results_table(results, args), width)
    assert_reads_well(lines, width, ["alice", "carol.jones"])
    assert "127.0.0.1:8765" in "".join(lines)  # the hint, wrapped if need be


@pytest.mark.parametrize("width", WIDTHS)
def test_merchant_account_and_mandate_tables_read_well(width: int) -> None:
    """From the emulator's merchant accounts and mandates, with large balances."""

    async def run() -> tuple[list[Any], list[Any]]:
        async with FakeTrueLayer() as fake, fake.session() as tl:
            gbp = fake.merchant_account_id("GBP")
            for _ in range(2):
                await tl.mandates.create(
                    mandate=SweepingMandate(
                        provider_selection=UserSelectedProvider(),
                        beneficiary=MandateMerchantAccount(merchant_account_id=gbp),
                        reference="A LONG REFERENCE 1",
                    ),
                    currency="GBP",
                    user=PaymentUser(name="Jane Doe", email="jane@example.com"),
                    constraints=MandateConstraintsInput(
                        maximum_individual_amount=99_999_999,
                        periodic_limits=PeriodicLimitsInput(
                            year=PeriodicLimitInput(
                                maximum_amount=99_999_999, period_alignment="calendar"
                            )
                        ),
                    ),
                )
            accounts = await tl.merchant_accounts.list()
            mandates = [m async for m in tl.mandates.list()]
            return accounts, mandates

    accounts, mandates = anyio.run(run)
    lines = render(merchant_accounts_table(accounts, title="Merchant accounts"), width)
    assert_reads_well(lines, width, ["100,000.00 GBP", "100,000.00 PLN", "Acme Ltd"])
    lines = render(mandates_table(mandates, title="Mandates"), width)
    assert_reads_well(lines, width, ["authorization_required", "999,999.99 GBP", "sweeping"])
