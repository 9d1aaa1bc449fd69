"""The same calls under trio: the SDK runs on anyio, so any anyio backend works.

Lists a user's accounts with balances (fetched concurrently in a task group) and the last
week of transactions of the first account.

Where it runs is chosen by ``TRUELAYER_ENVIRONMENT``, never by which variables are set:

* ``emulator`` (the default): the built-in emulator, in this process; it first connects
  ``--user`` through the mock bank's consent pages, so it runs with no setup::

      python examples/trio_accounts.py

* ``sandbox`` or ``production``: TrueLayer, with ``TRUELAYER_CLIENT_ID`` and
  ``TRUELAYER_CLIENT_SECRET``, for a user connected beforehand with the command-line tool
  (it saves the token in the store read here)::

      truelayer-async login --environment sandbox --user alice
      TRUELAYER_ENVIRONMENT=sandbox python examples/trio_accounts.py --user alice

Needs ``pip install "truelayer-async[examples]"``.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, timedelta
from pathlib import Path

import anyio
import sniffio

import truelayer_async as tla
from truelayer_async.models import AccountBalance
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


async def show_accounts(tl: tla.Session, user: str) -> None:
    accounts = await tl.data.accounts(user=user)
    balances: dict[str, AccountBalance] = {}

    async def balance(account_id: str) -> None:
        balances[account_id] = await tl.data.balance(account_id, user=user)

    async with anyio.create_task_group() as tg:
        for account in accounts:
            tg.start_soon(balance, account.account_id)

    for account in accounts:
        b = balances[account.account_id]
        print(f"{account.display_name:<20} {b.current:>12,} {b.currency}  {account.account_id}")

    if accounts:
        first = accounts[0]
        today = date.today()
        week = await tl.data.transactions(
            first.account_id, from_=today - timedelta(days=7), to=today, user=user
        )
        print(f"{len(week)} transactions in the last 7 days on {first.display_name}")
        for txn in week[:5]:
            print(f"  {txn.timestamp:%Y-%m-%d} {txn.amount:>10} {txn.description}")


async def run(target: str, user: str) -> None:
    print(f"event loop: {sniffio.current_async_library()}, target: {target}")
    if target == "emulator":
        async with FakeTrueLayer() as fake, fake.session() as tl:
            # The emulator only: click through the mock bank's consent pages over HTTP.
            link = tl.auth.auth_link(scopes=tla.DATA_SCOPES, pkce=True, providers="uk-cs-mock")
            page = await complete_consent(fake.http_client(), link.url)
            code = tl.auth.parse_callback(page.redirect_url, expected_state=link.state)
            await tl.auth.exchange_code(code, user=user, code_verifier=link.code_verifier)
            await show_accounts(tl, user)
        return
    async with real_session(target) as tl:
        await show_accounts(tl, user)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", default="alice", help="whose accounts (default alice)")
    args = parser.parse_args(argv)
    target = choose_target(parser)
    try:
        anyio.run(run, target, args.user, backend="trio")
    except (tla.NoTokenError, tla.ReauthorizationRequired) as exc:
        why = "has no stored token" if isinstance(exc, tla.NoTokenError) else "must reconnect"
        login = f"truelayer-async login --environment {target} --user {args.user}"
        sys.exit(f"{parser.prog}: error: {args.user!r} {why}: run `{login}`")
    except tla.TrueLayerError as exc:
        sys.exit(f"{parser.prog}: error: {type(exc).__name__}: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
