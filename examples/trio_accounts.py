"""The same calls under trio: the SDK runs on anyio, so any anyio backend works.

Lists the user's accounts with balances (fetched concurrently in a task group) and the
last week of transactions of the first account. Against the emulator (default) it first
connects ``alice`` headlessly; against the real API pass ``--user NAME`` of a user
connected with ``truelayer-async login --user NAME``::

    python examples/trio_accounts.py
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta

import anyio
import sniffio
from _common import open_backend

from truelayer_async.models import AccountBalance


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", default="alice")
    args = parser.parse_args(argv)
    print(f"event loop: {sniffio.current_async_library()}")

    async with open_backend() as backend:
        tl = backend.tl
        if backend.is_emulator:
            await backend.connect(args.user)
        accounts = await tl.data.accounts(user=args.user)
        balances: dict[str, AccountBalance] = {}

        async def balance(account_id: str) -> None:
            balances[account_id] = await tl.data.balance(account_id, user=args.user)

        async with anyio.create_task_group() as tg:
            for account in accounts:
                tg.start_soon(balance, account.account_id)

        for account in accounts:
            b = balances[account.account_id]
            print(
                f"{account.display_name:<20} {b.current:>12,} {b.currency}  {account.account_id}"
            )

        if accounts:
            first = accounts[0]
            week = await tl.data.transactions(
                first.account_id,
                from_=date.today() - timedelta(days=7),
                to=date.today(),
                user=args.user,
            )
            print(f"{len(week)} transactions in the last 7 days on {first.display_name}")
            for txn in week[:5]:
                print(f"  {txn.timestamp:%Y-%m-%d} {txn.amount:>10} {txn.description}")
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main, backend="trio"))
