"""``merchant-accounts list|show|transactions``: your merchant accounts, their balances
and sweeping, and their transactions fetched page by page under a progress bar."""

from __future__ import annotations

import argparse
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..models import MerchantAccountTransaction
from ._config import MERCHANT_TRANSACTION_DAYS
from ._errors import OK, USAGE, CliError
from ._ledger_output import (
    TRANSACTION_COLUMNS,
    identifiers,
    merchant_accounts_table,
    transaction_rows,
    transactions_table,
)
from ._output import console, table, write_csv, write_json
from ._payment_progress import minor_money
from ._payments_session import payments_session

if TYPE_CHECKING:
    from ..pagination import AsyncPaginator
    from ..session import Session

__all__ = ["run_merchant_accounts"]


async def run_merchant_accounts(args: argparse.Namespace) -> int:
    """Run ``merchant-accounts ACTION``."""
    async with payments_session(args, signed=False) as tl:
        if args.accounts_command == "list":
            return await _list(tl, args)
        if args.accounts_command == "show":
            return await _show(tl, args)
        return await _transactions(tl, args)


async def _list(tl: Session, args: argparse.Namespace) -> int:
    accounts = await tl.merchant_accounts.list()
    if args.format == "json":
        write_json(accounts)
    else:
        console().print(
            merchant_accounts_table(accounts, title=f"Merchant accounts ({len(accounts)})")
        )
    return OK


async def _show(tl: Session, args: argparse.Namespace) -> int:
    account = await tl.merchant_accounts.get(args.id)
    sweeping = await tl.merchant_accounts.get_sweeping(account.id)
    if args.format == "json":
        write_json({"merchant_account": account, "sweeping": sweeping})
        return OK
    out = table(f"Merchant account {account.id}")
    out.add_column("Field", no_wrap=True)
    out.add_column("Value")
    out.add_row("holder", account.account_holder_name)
    out.add_row("currency", account.currency)
    for ident in account.account_identifiers:
        out.add_row(ident.type, identifiers([ident]))
    out.add_row("available", minor_money(account.available_balance_in_minor, account.currency))
    out.add_row("current", minor_money(account.current_balance_in_minor, account.currency))
    if sweeping is None:
        out.add_row("sweeping", "not set up")
    else:
        above = minor_money(sweeping.max_amount_in_minor, sweeping.currency)
        to = identifiers([sweeping.destination])
        out.add_row("sweeping", f"{sweeping.frequency}, above {above} to {to}")
    console().print(out)
    return OK


def _window(args: argparse.Namespace) -> tuple[date, date]:
    """``--from``/``--to`` (both days included) as the API's [from, to) in dates."""
    last = args.to or datetime.now(timezone.utc).date()
    first = args.from_ or last - timedelta(days=MERCHANT_TRANSACTION_DAYS - 1)
    if first > last:
        raise CliError(f"--from ({first}) is after --to ({last})", USAGE)
    return first, last + timedelta(days=1)


async def _transactions(tl: Session, args: argparse.Namespace) -> int:
    start, end = _window(args)
    pages = tl.merchant_accounts.transactions(args.id, from_=start, to=end, type=args.type)
    found = await fetch_with_progress(pages, limit=args.limit)
    if args.format == "json":
        write_json(found)
    elif args.format == "csv":
        write_csv(TRANSACTION_COLUMNS, transaction_rows(found))
    else:
        last = end - timedelta(days=1)
        title = f"Transactions of {args.id} ({len(found)}, {start} to {last})"
        console().print(transactions_table(found, title=title))
    return OK


async def fetch_with_progress(
    pages: AsyncPaginator[MerchantAccountTransaction], *, limit: int | None
) -> list[MerchantAccountTransaction]:
    """Every item of every page (at most ``limit``), with a progress bar on stderr (on a
    terminal) that moves as each page arrives."""
    err = console(stderr=True)
    found: list[MerchantAccountTransaction] = []
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("fetching the first page", total=None)
        count = 0
        async for page in pages.pages():
            count += 1
            room = None if limit is None else limit - len(found)
            found.extend(page.items if room is None else page.items[:room])
            progress.update(
                task,
                completed=len(found),
                description=f"{count} page{'s' if count > 1 else ''}, {len(found)} transactions",
            )
            if limit is not None and len(found) >= limit:
                break
    return found
