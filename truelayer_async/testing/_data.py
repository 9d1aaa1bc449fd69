"""Deterministic synthetic bank data for a persona.

``generate(persona, anchor)`` builds the same data for the same username, password kind
and anchor day (the UTC day the connection was made), so a ``FakeClock`` with a fixed
``start`` gives byte-identical responses run after run.

Per persona (``john`` shown; other ``johnN`` differ in amounts, ids and merchants):

* a ``TRANSACTION`` current account: ~184 days of booked history up to the day before
  (salary, rent by standing order, direct debits, card purchases at real-looking
  merchants, ATM withdrawals, transfers to savings, and at least one of each of the 17
  ``transaction_category`` values in any 90-day window), 2-3 pending card payments, an
  overdraft, 3 standing orders (one inactive) and 5 direct debits (one inactive);
* a ``SAVINGS`` account: monthly transfers in, interest, an occasional withdrawal;
* no accounts for a card-only persona (password ``cards``);
* a ``CREDIT`` card (unless the persona has no cards): purchases as *positive* ``DEBIT``
  amounts and repayments as negative ``CREDIT`` amounts, like the spec's example (so
  clients must read ``transaction_type``, not the sign), plus 1-2 pending purchases.

Amounts are ``Decimal`` with exactly two places; running balances are exact.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import attrs

from ._personas import Persona

__all__ = [
    "Account",
    "BankData",
    "Card",
    "DirectDebit",
    "StandingOrder",
    "Transaction",
    "generate",
]

HISTORY_DAYS = 184
CURRENCY = "GBP"
SWIFT_BIC = "MOCKGB21"
BANK_CODE = "MOCK"
SHARED_IBAN_ACCOUNT = ("040004", "12345678")


@attrs.frozen
class Transaction:
    """One booked or pending transaction."""

    transaction_id: str
    normalised_provider_transaction_id: str
    provider_transaction_id: str
    timestamp: datetime
    description: str
    amount: Decimal
    transaction_type: str
    transaction_category: str
    transaction_classification: tuple[str, ...]
    merchant_name: str | None
    running_balance: Decimal | None
    meta: Mapping[str, str]
    pending: bool = False


@attrs.frozen
class StandingOrder:
    frequency: str
    status: str
    reference: str
    payee: str | None
    first_payment_date: date
    next_payment_date: date | None
    final_payment_date: date | None
    amount: Decimal


@attrs.frozen
class DirectDebit:
    direct_debit_id: str
    name: str
    status: str
    previous_payment: datetime
    previous_amount: Decimal
    mandate: str


@attrs.frozen
class Account:
    """A current or savings account and everything under it."""

    account_id: str
    provider_account_id: str
    account_type: str
    display_name: str
    sort_code: str
    number: str
    iban: str
    transactions: tuple[Transaction, ...]
    pending: tuple[Transaction, ...]
    current: Decimal
    overdraft: Decimal | None
    standing_orders: tuple[StandingOrder, ...] = ()
    direct_debits: tuple[DirectDebit, ...] = ()

    @property
    def available(self) -> Decimal:
        pending = sum((t.amount for t in self.pending), Decimal("0.00"))
        return self.current + pending + (self.overdraft or Decimal("0.00"))


@attrs.frozen
class Card:
    """A credit card."""

    account_id: str
    network: str
    card_type: str
    display_name: str
    partial_card_number: str
    name_on_card: str
    valid_from: str
    valid_to: str
    transactions: tuple[Transaction, ...]
    pending: tuple[Transaction, ...]
    current: Decimal
    credit_limit: Decimal
    last_statement_balance: Decimal
    last_statement_date: date
    payment_due: Decimal
    payment_due_date: date

    @property
    def available(self) -> Decimal:
        pending = sum((t.amount for t in self.pending), Decimal("0.00"))
        return self.credit_limit - self.current - pending


@attrs.frozen
class BankData:
    """Everything the mock bank knows about one persona."""

    holder_name: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    accounts: tuple[Account, ...]
    #: ``None`` when the provider does not support cards for this persona.
    cards: tuple[Card, ...] | None
    #: ``False`` for a card-only bank: ``/accounts…`` answers 501 (``accounts`` is empty).
    accounts_supported: bool = True

    def card(self, account_id: str) -> Card | None:
        return next((c for c in self.cards or () if c.account_id == account_id), None)


# -- helpers ---------------------------------------------------------------------------------


def _money(pennies: int) -> Decimal:
    return (Decimal(pennies) / 100).quantize(Decimal("0.01"))


def _hex(*parts: object, length: int = 32) -> str:
    text = "|".join(str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _iban(sort_code: str, number: str) -> str:
    """A GB IBAN with correct ISO 7064 mod-97 check digits."""
    bban = f"{BANK_CODE}{sort_code}{number}"
    digits = "".join(str(int(ch, 36)) for ch in bban + "GB00")
    check = 98 - int(digits) % 97
    return f"GB{check:02d}{bban}"


def _sort_code(raw: str) -> str:
    return f"{raw[0:2]}-{raw[2:4]}-{raw[4:6]}"


@attrs.define
class _Ledger:
    """Collects events for one account, then books them in time order."""

    seed: str
    kind: str
    events: list[tuple[datetime, int, dict[str, object]]] = attrs.Factory(list)

    def add(
        self,
        day: date,
        description: str,
        pennies: int,
        category: str,
        classification: tuple[str, ...] = (),
        merchant: str | None = None,
        provider_category: str = "DEB",
        **meta: str,
    ) -> None:
        booked = datetime.combine(day, time.min, tzinfo=timezone.utc)
        info: dict[str, object] = {
            "description": description,
            "category": category,
            "classification": classification,
            "merchant": merchant,
            "meta": {"provider_transaction_category": provider_category, **meta},
        }
        self.events.append((booked, pennies, info))

    def book(self, opening: int, *, card: bool = False) -> tuple[tuple[Transaction, ...], int]:
        """Book events oldest first; returns transactions newest first and the closing balance.

        For a card the balance is what is owed, so purchases (positive) increase it.
        """
        balance = opening
        booked: list[Transaction] = []
        ordered = sorted(self.events, key=lambda e: (e[0], str(e[2]["description"]), e[1]))
        for i, (when, pennies, info) in enumerate(ordered):
            key = (self.seed, self.kind, i)
            balance += pennies
            if card:
                kind = "DEBIT" if pennies > 0 else "CREDIT"
            else:
                kind = "CREDIT" if pennies > 0 else "DEBIT"
            classification = info["classification"]
            merchant = info["merchant"]
            meta = info["meta"]
            assert isinstance(classification, tuple)
            assert isinstance(meta, dict)
            booked.append(
                Transaction(
                    transaction_id=_hex(self.seed, self.kind, "txn", i),
                    normalised_provider_transaction_id=f"txn-{_hex(*key, length=16)}",
                    provider_transaction_id=f"{i + 1:06d}-{_hex(*key, 'p', length=8)}",
                    timestamp=when,
                    description=str(info["description"]),
                    amount=_money(pennies),
                    transaction_type=kind,
                    transaction_category=str(info["category"]),
                    transaction_classification=classification,
                    merchant_name=merchant if isinstance(merchant, str) else None,
                    running_balance=_money(balance),
                    meta=meta,
                )
            )
        booked.reverse()
        return tuple(booked), balance


_MERCHANTS: tuple[tuple[str, str, tuple[str, ...], int, int], ...] = (
    # description, merchant, classification, min pennies, max pennies
    ("TESCO STORES 2931", "Tesco", ("Shopping", "Groceries"), 450, 8500),
    ("SAINSBURYS SMRKT STORE 128", "Sainsburys", ("Shopping", "Groceries"), 320, 6400),
    ("PRET A MANGER LONDON", "Pret A Manger", ("Food & Dining", "Coffee shops"), 260, 1190),
    ("AMAZON UK MARKETPLACE", "Amazon", ("Shopping", "General"), 599, 4999),
    ("TFL TRAVEL CH", "Transport for London", ("Auto & Transport", "Public transport"), 175, 870),
    ("DELIVEROO", "Deliveroo", ("Food & Dining", "Restaurants"), 1250, 3480),
    ("BOOTS 1123 OXFORD ST", "Boots", ("Health & Fitness", "Pharmacy"), 199, 2450),
    ("SHELL WANDSWORTH", "Shell", ("Auto & Transport", "Gas & Fuel"), 2500, 6500),
    ("WAITROSE 112", "Waitrose", ("Shopping", "Groceries"), 800, 9200),
    ("UBER *TRIP", "Uber", ("Auto & Transport", "Taxi"), 690, 2340),
)

_DIRECT_DEBITS: tuple[tuple[str, int, tuple[str, ...], int], ...] = (
    # name, day of month, classification, pennies
    ("EDF ENERGY", 5, ("Bills and Utilities", "Utilities"), 6240),
    ("BT INTERNET", 8, ("Bills and Utilities", "Internet"), 3199),
    ("LAMBETH COUNCIL TAX", 15, ("Bills and Utilities", "Council tax"), 12800),
    ("PUREGYM", 20, ("Health & Fitness", "Gym"), 2499),
)

# One-off events that guarantee every transaction_category shows up every ~45 days.
_RARE: tuple[tuple[str, int, str, tuple[str, ...], str | None, str], ...] = (
    ("THAMES WATER", -3850, "BILL_PAYMENT", ("Bills and Utilities", "Utilities"), None, "BP"),
    ("CASH DEPOSIT BRANCH 0400", 10000, "CASH", (), None, "CSH"),
    ("TESCO CASHBACK", -2000, "CASHBACK", ("Uncategorized", "Cash & ATM"), "Tesco", "CBK"),
    ("CHEQUE 000123", 15000, "CHEQUE", (), None, "CHQ"),
    ("REVERSAL OF FEE", 250, "CORRECTION", (), None, "COR"),
    ("AMAZON REFUND", 1999, "CREDIT", ("Shopping", "General"), "Amazon", "CRE"),
    ("VANGUARD DIVIDEND", 1234, "DIVIDEND", ("Investments",), None, "DIV"),
    (
        "NON-STERLING TRANSACTION FEE",
        -75,
        "FEE_CHARGE",
        ("Fees & Charges", "Bank fee"),
        None,
        "FEE",
    ),
    ("OVERDRAFT INTEREST", -112, "INTEREST", ("Fees & Charges",), None, "INT"),
    ("PAYPAL *JSMITH", -1500, "OTHER", (), None, "OTH"),
    ("PAYPAL *EBAY", -999, "DEBIT", ("Shopping", "General"), "Ebay", "DEB"),
    ("POS 4471 XKQ", -320, "UNKNOWN", (), None, "UNK"),
)


def generate(persona: Persona, anchor: datetime) -> BankData:
    """Build the persona's bank data, with history ending the day before ``anchor``."""
    seed = f"{persona.username}|{'iban' if persona.distinct_ibans else 'doe'}"
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    today = anchor.astimezone(timezone.utc).date()
    days = [today - timedelta(days=offset) for offset in range(HISTORY_DAYS, 0, -1)]

    current = _current_account(persona, seed, rng, anchor, days)
    savings = _savings_account(persona, seed, rng, days)
    cards = (_credit_card(persona, seed, rng, anchor, days),) if persona.has_cards else None
    first = persona.holder_name.split()[0].lower()
    return BankData(
        holder_name=persona.holder_name,
        emails=(f"{first}.doe{persona.index or ''}@example.com",),
        phones=(f"+44 7700 900{100 + persona.index:03d}",),
        accounts=() if persona.card_only else (current, savings),
        cards=cards,
        accounts_supported=not persona.card_only,
    )


def _numbers(persona: Persona, seed: str, slot: int) -> tuple[str, str, str]:
    raw_sort = f"04{int(_hex(seed, 'sc', slot, length=6), 16) % 10000:04d}"
    number = f"{int(_hex(seed, 'no', slot, length=10), 16) % 100_000_000:08d}"
    iban = _iban(raw_sort, number) if persona.distinct_ibans else _iban(*SHARED_IBAN_ACCOUNT)
    return _sort_code(raw_sort), number, iban


def _current_account(
    persona: Persona, seed: str, rng: random.Random, anchor: datetime, days: list[date]
) -> Account:
    today = anchor.astimezone(timezone.utc).date()
    ledger = _Ledger(seed, "current")
    salary = rng.randint(260_000, 300_000)
    rent = rng.choice((95_000, 112_500, 87_500))
    rare_offsets = [rng.randrange(45) for _ in _RARE]
    for n, day in enumerate(days):
        if day.day == 25:
            ledger.add(day, "ACME LTD SALARY", salary, "CREDIT", (), "Acme Ltd", "BGC")
        if day.day == 1:
            ledger.add(
                day, "L LANDLORD RENT", -rent, "STANDING_ORDER", ("Home", "Rent"), None, "SO"
            )
        if day.day == 2:
            ledger.add(day, "TO SAVINGS 12345678", -20_000, "TRANSFER", ("Transfer",), None, "TFR")
        if day.day == 12:
            ledger.add(
                day,
                "NETFLIX.COM",
                -1099,
                "PURCHASE",
                ("Entertainment", "Movies & DVDs"),
                "Netflix",
            )
        for name, dom, classification, pennies in _DIRECT_DEBITS:
            if day.day == dom:
                ledger.add(day, name, -pennies, "DIRECT_DEBIT", classification, None, "DD")
        if n % 12 == 7:
            ledger.add(
                day,
                "CASH WITHDRAWAL LLOYDS BANK",
                -rng.choice((2000, 4000, 6000)),
                "ATM",
                ("Uncategorized", "Cash & ATM"),
                None,
                "ATM",
            )
        for _ in range(rng.choice((0, 1, 1, 1, 2))):
            desc, merchant, classification, lo, hi = rng.choice(_MERCHANTS)
            ledger.add(day, desc, -rng.randint(lo, hi), "PURCHASE", classification, merchant)
        for rare, offset in zip(_RARE, rare_offsets, strict=True):
            if n % 45 == offset:
                ledger.add(day, *rare)
    transactions, closing = ledger.book(rng.randint(250_000, 350_000))

    pending: list[Transaction] = []
    for i in range(2 + rng.randrange(2)):
        desc, merchant, classification, lo, hi = rng.choice(_MERCHANTS)
        moment = anchor - timedelta(
            hours=1 + 7 * i, minutes=13 * i, seconds=7, microseconds=655_000
        )
        pending.append(
            Transaction(
                transaction_id=_hex(seed, "pending", i),
                normalised_provider_transaction_id="txn-" + _hex(seed, "pending", i, length=16),
                provider_transaction_id=f"PND-{_hex(seed, 'pp', i, length=10)}",
                timestamp=moment,
                description=desc,
                amount=_money(-rng.randint(lo, hi)),
                transaction_type="DEBIT",
                transaction_category="PURCHASE",
                transaction_classification=classification,
                merchant_name=merchant,
                running_balance=None,
                meta={"provider_transaction_category": "DEB"},
                pending=True,
            )
        )

    sort_code, number, iban = _numbers(persona, seed, 0)
    provider_account_id = _hex(seed, "provider-account", 0, length=19)
    return Account(
        account_id=_hex(seed, "account", 0),
        provider_account_id=provider_account_id,
        account_type="TRANSACTION",
        display_name="Everyday Current",
        sort_code=sort_code,
        number=number,
        iban=iban,
        transactions=transactions,
        pending=tuple(pending),
        current=_money(closing),
        overdraft=Decimal("500.00"),
        standing_orders=_standing_orders(rent, today),
        direct_debits=_direct_debits(seed, today),
    )


def _next_month_day(today: date, dom: int) -> date:
    candidate = today.replace(day=dom)
    if candidate <= today:
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        candidate = date(year, month, dom)
    return candidate


def _standing_orders(rent: int, today: date) -> tuple[StandingOrder, ...]:
    next_rent = _next_month_day(today, 1)
    days_to_friday = (4 - today.weekday()) % 7 or 7
    return (
        StandingOrder(
            frequency="IntrvlMnthDay:01:01",
            status="Active",
            reference="RENT FLAT 2",
            payee="L LANDLORD",
            first_payment_date=date(today.year - 2, 1, 1),
            next_payment_date=next_rent,
            final_payment_date=None,
            amount=_money(rent),
        ),
        StandingOrder(
            frequency="IntrvlWkDay:01:05",
            status="Active",
            reference="POCKET MONEY",
            payee="J DOE JNR",
            first_payment_date=date(today.year - 1, 3, 3),
            next_payment_date=today + timedelta(days=days_to_friday),
            final_payment_date=None,
            amount=Decimal("10.00"),
        ),
        StandingOrder(
            frequency="IntrvlMnthDay:01:15",
            status="Inactive",
            reference="GYM OLD",
            payee=None,
            first_payment_date=date(today.year - 3, 1, 15),
            next_payment_date=None,
            final_payment_date=date(today.year - 2, 6, 15),
            amount=Decimal("35.50"),
        ),
    )


def _direct_debits(seed: str, today: date) -> tuple[DirectDebit, ...]:
    debits: list[DirectDebit] = []
    for i, (name, dom, _classification, pennies) in enumerate(_DIRECT_DEBITS):
        last = today.replace(day=dom) if today.day > dom else None
        if last is None:
            prev_month = today.replace(day=1) - timedelta(days=1)
            last = prev_month.replace(day=dom)
        debits.append(
            DirectDebit(
                direct_debit_id=_hex(seed, "dd", i),
                name=name,
                status="Active",
                previous_payment=datetime.combine(last, time.min, tzinfo=timezone.utc),
                previous_amount=_money(pennies),
                mandate=f"{100 + i}",
            )
        )
    debits.append(
        DirectDebit(
            direct_debit_id=_hex(seed, "dd", "old"),
            name="SKY DIGITAL",
            status="Inactive",
            previous_payment=datetime(today.year - 1, 2, 17, tzinfo=timezone.utc),
            previous_amount=Decimal("42.00"),
            mandate="99",
        )
    )
    return tuple(debits)


def _savings_account(persona: Persona, seed: str, rng: random.Random, days: list[date]) -> Account:
    ledger = _Ledger(seed, "savings")
    for n, day in enumerate(days):
        if day.day == 2:
            ledger.add(day, "FROM CURRENT ACCOUNT", 20_000, "TRANSFER", (), None, "TFR")
        if day.day == 28:
            ledger.add(
                day, "INTEREST (GROSS)", rng.randint(900, 1900), "INTEREST", (), None, "INT"
            )
        if n == 100:
            ledger.add(day, "TO CURRENT ACCOUNT", -50_000, "TRANSFER", ("Transfer",), None, "TFR")
    transactions, closing = ledger.book(rng.randint(400_000, 900_000))
    sort_code, number, iban = _numbers(persona, seed, 1)
    return Account(
        account_id=_hex(seed, "account", 1),
        provider_account_id=_hex(seed, "provider-account", 1, length=19),
        account_type="SAVINGS",
        display_name="Rainy Day Saver",
        sort_code=sort_code,
        number=number,
        iban=iban,
        transactions=transactions,
        pending=(),
        current=_money(closing),
        overdraft=None,
    )


def _credit_card(
    persona: Persona, seed: str, rng: random.Random, anchor: datetime, days: list[date]
) -> Card:
    ledger = _Ledger(seed, "card")
    last4 = f"{int(_hex(seed, 'card4', length=6), 16) % 10000:04d}"
    masked = f"4751********{last4}"
    owed = rng.randint(20_000, 60_000)
    for day in days:
        if day.day == 20:
            # Pay off most of the balance each month.
            ledger.add(day, "PAYMENT RECEIVED - THANK YOU", -30_000, "CREDIT", (), None, "PAY")
        if rng.random() < 0.35:
            desc, merchant, classification, lo, hi = rng.choice(_MERCHANTS)
            ledger.add(
                day,
                desc,
                rng.randint(lo, hi),
                "PURCHASE",
                classification,
                merchant,
                "PUR",
                cardNumber=masked,
                location=rng.choice(("INTERNET", "LONDON GB")),
            )
    transactions, closing = ledger.book(owed, card=True)
    today = anchor.astimezone(timezone.utc).date()
    pending = tuple(
        Transaction(
            transaction_id=_hex(seed, "card-pending", i),
            normalised_provider_transaction_id="txn-" + _hex(seed, "cp", i, length=16),
            provider_transaction_id=f"CPND-{_hex(seed, 'cpp', i, length=10)}",
            timestamp=anchor - timedelta(hours=2 + 5 * i, minutes=19, microseconds=880_000),
            description="AMAZON UK MARKETPLACE",
            amount=_money(rng.randint(999, 4999)),
            transaction_type="DEBIT",
            transaction_category="PURCHASE",
            transaction_classification=("Shopping", "General"),
            merchant_name="Amazon",
            running_balance=None,
            meta={"cardNumber": masked, "location": "INTERNET"},
            pending=True,
        )
        for i in range(1 + rng.randrange(2))
    )
    statement_day = today.replace(day=1) - timedelta(days=1)
    statement_balance = _money(closing + 4_321)
    return Card(
        account_id=_hex(seed, "card", length=40),
        network="VISA",
        card_type="CREDIT",
        display_name="Mock Credit Card",
        partial_card_number=last4,
        name_on_card=persona.holder_name.upper(),
        valid_from=f"{today.year - 2}-{today.month:02d}",
        valid_to=f"{today.year + 2}-{today.month:02d}",
        transactions=transactions,
        pending=pending,
        current=_money(closing),
        credit_limit=Decimal("3000.00"),
        last_statement_balance=statement_balance,
        last_statement_date=statement_day,
        payment_due=max(
            Decimal("25.00"), (statement_balance * Decimal("0.05")).quantize(Decimal("0.01"))
        ),
        payment_due_date=statement_day + timedelta(days=25),
    )
