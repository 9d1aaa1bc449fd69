"""Fetch many users' accounts, balances and transactions at once, with ``fetch_all``.

* bounded concurrency: at most ``--concurrency`` requests in flight, whatever the number
  of users;
* per-user errors: a user whose consent was revoked, or whose bank is failing, gets an
  error in their own result; the others are not affected.

Against the emulator (default) it connects ``--count`` users headlessly, then revokes
one user's consent and connects one user whose bank locks every request, to show both
failures being reported. Against the real API (``TRUELAYER_CLIENT_ID``/``SECRET`` set),
pass the users you connected with ``truelayer-async login --user NAME``::

    python examples/batch_fetch.py
    python examples/batch_fetch.py --users alice,bob --concurrency 4
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import anyio
from _common import Backend, open_backend

import truelayer_async as tla


async def connect_demo_users(backend: Backend, count: int) -> list[str]:
    """Connect ``count`` healthy users, one revoked user and one whose bank fails."""
    assert backend.fake is not None
    users = [f"user-{i:02d}" for i in range(1, count + 1)]
    async with anyio.create_task_group() as tg:
        for i, user in enumerate(users, start=1):
            tg.start_soon(partial(backend.connect, user, username=f"john{i}"))
    # This user withdraws consent at their bank after connecting.
    await backend.connect("revoked-user", username="john99")
    backend.fake.revoke("john99")
    # This user's bank account is locked: every Data call fails.
    await backend.connect(
        "locked-user", username="error.account_temporarily_locked", password="error"
    )
    # A little latency makes the bounded concurrency visible in the timings.
    backend.fake.add_latency("/data/v1/*", 0.005)
    return [*users, "revoked-user", "locked-user"]


def summarise(result: Any) -> str:
    """One line for a ``FetchAllResult`` (``user``, ``accounts``, ``cards``, ``error``)."""
    if result.error is not None:
        return f"{result.user}: FAILED {type(result.error).__name__}: {result.error}"
    txns = sum(len(a.transactions) for a in result.accounts)
    card_txns = sum(len(c.transactions) for c in result.cards)
    balance = sum(
        (a.balance.current for a in result.accounts if a.balance is not None), Decimal(0)
    )
    return (
        f"{result.user}: ok, {len(result.accounts)} accounts (balance {balance:,}), "
        f"{txns} transactions, {len(result.cards)} cards ({card_txns} card transactions)"
    )


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", help="comma-separated users (real API)")
    parser.add_argument("--count", type=int, default=12, help="emulator users (default 12)")
    parser.add_argument("--concurrency", type=int, default=4, help="default 4")
    parser.add_argument("--days", type=int, default=90, help="transaction window (90)")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 98:
        parser.error("--count must be between 1 and 98 (the mock bank has john1 ... john100)")

    async with open_backend() as backend:
        if backend.is_emulator:
            users = await connect_demo_users(backend, args.count)
            print(f"connected {len(users)} users through the emulator's consent pages")
        elif args.users:
            users = [u.strip() for u in args.users.split(",") if u.strip()]
        else:
            parser.error("--users is required against the real API")

        def on_progress(p: Any) -> None:  # a Progress: done, total, user, ok
            mark = "ok" if p.ok else "failed"
            print(f"  [{p.done:>3}/{p.total}] {p.user} {mark}")

        today = date.today()
        started = time.perf_counter()
        results = await backend.tl.data.fetch_all(
            users,
            from_=today - timedelta(days=args.days),
            to=today,
            concurrency=args.concurrency,
            on_progress=on_progress,
        )
        elapsed = time.perf_counter() - started

    print()
    for result in results:  # in the order of `users`
        print(summarise(result))
    failed = [r for r in results if not r.ok]
    print()
    print(
        f"{len(results) - len(failed)} users ok, {len(failed)} failed, "
        f"concurrency {args.concurrency}, {elapsed:.2f} s"
    )
    for result in failed:
        if isinstance(result.error, tla.ReauthorizationRequired):
            print(f"  {result.user}: ask the user to reconnect (consent expired or revoked)")
        else:
            print(f"  {result.user}: retry later ({type(result.error).__name__})")
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main))
