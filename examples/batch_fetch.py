"""Fetch many users' accounts, balances and transactions at once, with ``fetch_all``.

* bounded concurrency: at most ``--concurrency`` requests in flight, whatever the number
  of users;
* per-user errors: a user whose consent was revoked, or whose bank is failing, gets an
  error in their own result; the others are not affected.

Where it runs is chosen by ``TRUELAYER_ENVIRONMENT``, never by which variables are set:

* ``emulator`` (the default): it connects ``--count`` users through the mock bank's
  consent pages, then revokes one user's consent and connects one user whose bank locks
  every request, to show both failures being reported::

      python examples/batch_fetch.py

* ``sandbox`` or ``production``: TrueLayer, with ``TRUELAYER_CLIENT_ID`` and
  ``TRUELAYER_CLIENT_SECRET``, for users connected beforehand with
  ``truelayer-async login --environment sandbox --user NAME`` (which saves their tokens
  in the store read here)::

      TRUELAYER_ENVIRONMENT=sandbox python examples/batch_fetch.py --users alice,bob

Exits 1 when no user could be fetched. Needs ``pip install "truelayer-async[examples]"``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import anyio

import truelayer_async as tla
from truelayer_async.stores import SqliteTokenStore
from truelayer_async.testing import FakeTrueLayer, complete_consent

TARGETS = ("emulator", "sandbox", "production")


def choose_target(parser: argparse.ArgumentParser) -> str:
    """``$TRUELAYER_ENVIRONMENT`` (default emulator); TrueLayer needs the credentials."""
    target = os.environ.get("TRUELAYER_ENVIRONMENT") or "emulator"
    if target not in TARGETS:
        parser.error(f"TRUELAYER_ENVIRONMENT must be one of {', '.join(TARGETS)}, not {target!r}")
    if target != "emulator" and not (
        os.environ.get("TRUELAYER_CLIENT_ID") and os.environ.get("TRUELAYER_CLIENT_SECRET")
    ):
        parser.error(f"{target} needs TRUELAYER_CLIENT_ID and TRUELAYER_CLIENT_SECRET")
    return target


def real_session(target: str) -> tla.Session:
    """A Session on TrueLayer that reads the token store of ``truelayer-async login``."""
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    store = os.environ.get("TRUELAYER_ASYNC_STORE") or config / "truelayer-async" / "tokens.db"
    return tla.Session(
        os.environ["TRUELAYER_CLIENT_ID"],
        os.environ["TRUELAYER_CLIENT_SECRET"],
        environment=getattr(tla.Environment, target.upper()),
        token_store=SqliteTokenStore(Path(store).expanduser()),
    )


async def connect_demo_users(tl: tla.Session, fake: FakeTrueLayer, count: int) -> list[str]:
    """The emulator only: connect ``count`` healthy users, one revoked user and one whose
    bank fails, by clicking through the mock bank's consent pages over HTTP."""

    async def connect(user: str, username: str, password: str = "doe") -> None:
        link = tl.auth.auth_link(scopes=tla.DATA_SCOPES, pkce=True, providers="uk-cs-mock")
        page = await complete_consent(
            fake.http_client(), link.url, username=username, password=password
        )
        code = tl.auth.parse_callback(page.redirect_url, expected_state=link.state)
        await tl.auth.exchange_code(code, user=user, code_verifier=link.code_verifier)

    users = [f"user-{i:02d}" for i in range(1, count + 1)]
    async with anyio.create_task_group() as tg:
        for i, user in enumerate(users, start=1):
            tg.start_soon(partial(connect, user, f"john{i}"))
    # This user withdraws consent at their bank after connecting.
    await connect("revoked-user", "john99")
    fake.revoke("john99")
    # This user's bank account is locked: every Data call fails.
    await connect("locked-user", "error.account_temporarily_locked", "error")
    # A little latency makes the bounded concurrency visible in the timings.
    fake.add_latency("/data/v1/*", 0.005)
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


def next_step(result: Any, env: str) -> str:
    """What to do about a failed user (``env``: sandbox or production)."""
    if isinstance(result.error, tla.NoTokenError):
        login = f"truelayer-async login --environment {env} --user {result.user}"
        return f"never connected: run `{login}`"
    if isinstance(result.error, tla.ReauthorizationRequired):
        return "ask the user to reconnect (consent expired or revoked)"
    return f"retry later ({type(result.error).__name__})"


async def fetch_and_report(tl: tla.Session, users: list[str], args: argparse.Namespace) -> int:
    def on_progress(p: Any) -> None:  # a Progress: done, total, user, ok
        mark = "ok" if p.ok else "failed"
        print(f"  [{p.done:>3}/{p.total}] {p.user} {mark}")

    today = date.today()
    started = time.perf_counter()
    results = await tl.data.fetch_all(
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
        print(f"  {result.user}: {next_step(result, tl.environment.name)}")
    return 1 if len(failed) == len(results) else 0


async def run(target: str, args: argparse.Namespace) -> int:
    print(f"target: {target}")
    if target == "emulator":
        async with FakeTrueLayer() as fake, fake.session() as tl:
            users = await connect_demo_users(tl, fake, args.count)
            print(f"connected {len(users)} users through the emulator's consent pages")
            return await fetch_and_report(tl, users, args)
    async with real_session(target) as tl:
        return await fetch_and_report(tl, args.users, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", help="comma-separated users (sandbox and production)")
    parser.add_argument("--count", type=int, default=12, help="emulator users (default 12)")
    parser.add_argument("--concurrency", type=int, default=4, help="default 4")
    parser.add_argument("--days", type=int, default=90, help="transaction window (90)")
    args = parser.parse_args(argv)
    target = choose_target(parser)
    if not 1 <= args.count <= 98:
        parser.error("--count must be between 1 and 98 (the mock bank has john1 ... john100)")
    args.users = [u.strip() for u in (args.users or "").split(",") if u.strip()]
    if target != "emulator" and not args.users:
        parser.error(f"--users is required on {target}")
    try:
        return anyio.run(run, target, args)
    except tla.TrueLayerError as exc:
        sys.exit(f"{parser.prog}: error: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
