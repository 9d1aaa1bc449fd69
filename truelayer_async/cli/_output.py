"""Rendering: rich tables for people, JSON and CSV for programs.

JSON: money is a string holding the exact decimal (``"-61.28"``, never a float),
timestamps are ISO 8601 with their offset, field names are TrueLayer's wire names.
CSV: one header row, the same exact decimal text, ISO timestamps.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import unstructure
from ..models import Account, AccountBalance, Card, CardBalance, CardTransaction, Transaction

__all__ = [
    "account_rows",
    "accounts_table",
    "cards_table",
    "console",
    "heading",
    "jsonable",
    "money",
    "named",
    "short_id",
    "table",
    "transaction_rows",
    "transactions_table",
    "write_csv",
    "write_json",
]

_MIN_WIDTH = 132


def console(*, stderr: bool = False) -> Console:
    """A console for stdout (or stderr); at least 132 columns wide when not a terminal,
    so that piped tables are not squeezed. Markup is off: bank data such as ``[x]`` in a
    description is printed as it is (style with ``rich.text.Text`` instead)."""
    out = Console(stderr=stderr, highlight=False, markup=False, soft_wrap=True)
    if not out.is_terminal and out.width < _MIN_WIDTH:
        out.width = _MIN_WIDTH
    return out


def heading(out: Console, number: int, title: str) -> None:
    """A numbered step's heading in the demo's walk-through."""
    out.print()
    out.print(Text(f"{number}. {title}", style="bold"))


def jsonable(value: Any) -> Any:
    """Models, lists and dicts as JSON-ready values; Decimal -> exact string."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "__attrs_attrs__"):
        return jsonable(unstructure(value))
    return value


def write_json(data: Any, out: TextIO | None = None) -> None:
    """Pretty JSON on stdout."""
    target = out or sys.stdout
    json.dump(jsonable(data), target, indent=2, ensure_ascii=False)
    target.write("\n")
    target.flush()


def write_csv(
    columns: Sequence[str], rows: Iterable[Mapping[str, Any]], out: TextIO | None = None
) -> None:
    """CSV with a header row on stdout."""
    target = out or sys.stdout
    writer = csv.DictWriter(target, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    target.flush()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def money(value: Decimal | None, currency: str | None = None) -> str:
    """``1,234.50 GBP``: grouped, every digit kept."""
    if value is None:
        return "-"
    text = f"{value:,}"
    return f"{text} {currency}" if currency else text


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


#: Ids are 32 hex characters or more: tables show the first 8 (``--format json`` has
#: them whole, and ``transactions --account`` takes any unambiguous prefix).
SHORT_ID = 8


def short_id(value: str) -> str:
    """``45e5ac65…``: the first characters of a long id."""
    return value if len(value) <= SHORT_ID + 1 else value[:SHORT_ID] + "…"


def table(title: str, *, caption: str | None = None) -> Table:
    """A table that reads well from 80 columns up: money, dates and names never wrap
    (columns marked ``no_wrap``); free text wraps within its column."""
    return Table(
        title=title,
        title_justify="left",
        caption=caption,
        caption_justify="left",
    )


def named(name: str, detail: str | None) -> Text:
    """A name, with a dim detail (type, network) on a second line."""
    text = Text(name)
    if detail:
        text.append("\n" + detail, style="dim")
    return text


# -- accounts ----------------------------------------------------------------------------

ACCOUNT_COLUMNS = (
    "account_id",
    "display_name",
    "account_type",
    "currency",
    "sort_code",
    "number",
    "iban",
    "provider_id",
    "balance_current",
    "balance_available",
)


def account_rows(
    accounts: Sequence[tuple[Account, AccountBalance | None]],
) -> list[dict[str, Any]]:
    """Flat rows for CSV."""
    rows = []
    for account, balance in accounts:
        rows.append(
            {
                "account_id": account.account_id,
                "display_name": account.display_name,
                "account_type": account.account_type,
                "currency": account.currency,
                "sort_code": account.account_number.sort_code,
                "number": account.account_number.number,
                "iban": account.account_number.iban,
                "provider_id": account.provider.provider_id,
                "balance_current": None if balance is None else balance.current,
                "balance_available": None if balance is None else balance.available,
            }
        )
    return rows


def accounts_table(
    accounts: Sequence[tuple[Account, AccountBalance | None]],
    *,
    title: str = "Accounts",
    caption: str | None = None,
) -> Table:
    """Accounts with their balances (the type under the name, ids shortened)."""
    out = table(title, caption=caption)
    out.add_column("Account", no_wrap=True)
    out.add_column("Name")
    out.add_column("Sort code / number")
    out.add_column("Current", justify="right", no_wrap=True)
    out.add_column("Available", justify="right", no_wrap=True)
    for account, balance in accounts:
        number = account.account_number
        ident = " ".join(x for x in (number.sort_code, number.number) if x) or _iban(number.iban)
        currency = balance.currency if balance is not None else account.currency
        kind = None if account.account_type is None else _text(account.account_type).lower()
        out.add_row(
            short_id(account.account_id),
            named(account.display_name, kind),
            ident,
            money(None if balance is None else balance.current, currency),
            money(None if balance is None else balance.available, currency),
        )
    return out


def _iban(iban: str | None) -> str:
    """``GB29 NWBK 6016 …``: in groups of four, as printed on statements (wraps cleanly)."""
    if not iban:
        return "-"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def accounts_json(
    accounts: Sequence[tuple[Account, AccountBalance | None]],
) -> list[dict[str, Any]]:
    """Each account's wire fields plus ``balance`` (or ``null``)."""
    out = []
    for account, balance in accounts:
        item = jsonable(account)
        item["balance"] = None if balance is None else jsonable(balance)
        out.append(item)
    return out


# -- transactions ------------------------------------------------------------------------

TRANSACTION_COLUMNS = (
    "timestamp",
    "description",
    "amount",
    "currency",
    "transaction_type",
    "transaction_category",
    "merchant_name",
    "running_balance",
    "transaction_id",
    "normalised_provider_transaction_id",
)


def transaction_rows(
    transactions: Sequence[Transaction | CardTransaction],
) -> list[dict[str, Any]]:
    """Flat rows for CSV."""
    return [
        {
            "timestamp": t.timestamp,
            "description": t.description,
            "amount": t.amount,
            "currency": t.currency,
            "transaction_type": t.transaction_type,
            "transaction_category": t.transaction_category,
            "merchant_name": t.merchant_name,
            "running_balance": None if t.running_balance is None else t.running_balance.amount,
            "transaction_id": t.transaction_id,
            "normalised_provider_transaction_id": t.normalised_provider_transaction_id,
        }
        for t in transactions
    ]


def transactions_table(
    transactions: Sequence[Transaction | CardTransaction], *, title: str = "Transactions"
) -> Table:
    """Transactions, newest first as the API sends them."""
    out = table(title)
    out.add_column("Date", no_wrap=True)
    out.add_column("Description")
    out.add_column("Category", no_wrap=True)
    out.add_column("Amount", justify="right", no_wrap=True)
    out.add_column("Balance after", justify="right", no_wrap=True)
    for t in transactions:
        running = t.running_balance
        out.add_row(
            t.timestamp.date().isoformat(),
            t.merchant_name or t.description,
            _text(t.transaction_category),
            money(t.amount, t.currency),
            money(
                None if running is None else running.amount,
                None if running is None else running.currency,
            ),
        )
    return out


# -- cards -------------------------------------------------------------------------------


def cards_table(
    cards: Sequence[tuple[Card, CardBalance | None, int]], *, title: str = "Cards"
) -> Table:
    """Cards with their balance and how many transactions were fetched (the network and
    last digits under the name, ids shortened)."""
    out = table(title)
    out.add_column("Card", no_wrap=True)
    out.add_column("Name")
    out.add_column("Balance", justify="right", no_wrap=True)
    out.add_column("Credit limit", justify="right", no_wrap=True)
    out.add_column("Txns", justify="right", no_wrap=True)
    for card, balance, count in cards:
        currency = (balance.currency if balance else None) or card.currency
        digits = f"•••• {card.partial_card_number}" if card.partial_card_number else None
        detail = " ".join(x for x in (card.card_network, digits) if x) or None
        out.add_row(
            short_id(card.account_id),
            named(_text(card.display_name), detail),
            money(None if balance is None else balance.current, currency),
            money(None if balance is None else balance.credit_limit, currency),
            str(count),
        )
    return out
