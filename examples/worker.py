"""A background worker that syncs every connected user on a schedule.

Each cycle fetches every active user's accounts and new transactions (deduplicated by
``normalised_provider_transaction_id``), a few users at a time. Expired access tokens
are refreshed by the SDK on the way. A user whose consent expired or was revoked raises
``ReauthorizationRequired`` (one never connected: ``NoTokenError``): the worker flags
them (in a real app: email them a link to reconnect) and stops syncing them; any other
error is retried on the next cycle. It exits 1 when no user is left to sync.

Where it runs is chosen by ``TRUELAYER_ENVIRONMENT``, never by which variables are set:

* ``emulator`` (the default): it connects three users, runs ``--cycles 2``, and between
  the cycles moves the emulator's clock past the access tokens' expiry and revokes one
  user's consent, so the second cycle shows both the refresh and the flagging::

      python examples/worker.py

* ``sandbox`` or ``production``: TrueLayer, with ``TRUELAYER_CLIENT_ID`` and
  ``TRUELAYER_CLIENT_SECRET``, for users connected beforehand with
  ``truelayer-async login --environment sandbox --user NAME`` (which saves their tokens
  in the store read here)::

      TRUELAYER_ENVIRONMENT=sandbox python examples/worker.py --users alice,bob \\
          --interval 3600 --cycles 0

Needs ``pip install "truelayer-async[examples]"``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import anyio
import attrs

import truelayer_async as tla
from truelayer_async.stores import SqliteTokenStore
from truelayer_async.testing import FakeTrueLayer, complete_consent


@attrs.define
class UserState:
    """What the worker remembers about one user (a database row in a real app)."""

    last_synced: date | None = None
    seen: set[str] = attrs.Factory(set)
    flagged: str | None = None  # why the user must reconnect


class Worker:
    def __init__(self, tl: tla.Session, users: list[str], *, parallel: int = 4) -> None:
        self.tl = tl
        self.env = tl.environment.name  # sandbox or production
        self.users = {user: UserState() for user in users}
        self._limiter = anyio.CapacityLimiter(parallel)

    async def sync_user(self, user: str, state: UserState) -> int:
        """Fetch the user's accounts and transactions since the last sync; count new ones."""
        today = date.today()
        since = (state.last_synced or today - timedelta(days=90)) - timedelta(days=1)
        new = 0
        for account in await self.tl.data.accounts(user=user):
            txns = await self.tl.data.transactions(
                account.account_id, from_=since, to=today, user=user
            )
            for txn in txns:
                key = txn.normalised_provider_transaction_id or txn.transaction_id
                if key not in state.seen:
                    state.seen.add(key)
                    new += 1
        state.last_synced = today
        return new

    async def run_cycle(self, number: int) -> None:
        synced: list[str] = []
        failed: list[str] = []

        async def one(user: str, state: UserState) -> None:
            async with self._limiter:
                try:
                    new = await self.sync_user(user, state)
                except tla.ReauthorizationRequired as exc:
                    state.flagged = exc.reason
                    print(f"  flagged {user}: must reconnect ({exc.reason})")
                    return
                except tla.NoTokenError:
                    state.flagged = "never connected"
                    login = f"truelayer-async login --environment {self.env} --user {user}"
                    print(f"  flagged {user}: never connected, run `{login}`")
                    return
                except tla.TrueLayerError as exc:
                    failed.append(user)
                    print(f"  {user}: {type(exc).__name__}, will retry next cycle")
                    return
            synced.append(user)
            print(f"  synced {user}: {new} new transactions")

        active = {u: s for u, s in self.users.items() if s.flagged is None}
        async with anyio.create_task_group() as tg:
            for user, state in active.items():
                tg.start_soon(one, user, state)
        flagged = [u for u, s in self.users.items() if s.flagged is not None]
        print(
            f"cycle {number}: {len(synced)} synced, {len(failed)} failed, "
            f"{len(flagged)} flagged{' (' + ', '.join(flagged) + ')' if flagged else ''}"
        )

    async def run(
        self, *, cycles: int, interval: float, between: Callable[[int], None] | None = None
    ) -> bool:
        """Run ``cycles`` cycles (0: forever), ``interval`` seconds apart; False when it
        stopped early because every user is flagged."""
        number = 0
        while cycles == 0 or number < cycles:
            number += 1
            await self.run_cycle(number)
            if all(state.flagged is not None for state in self.users.values()):
                print("no connected user left to sync", file=sys.stderr)
                return False
            if cycles and number >= cycles:
                break
            if between is not None:
                between(number)
            await anyio.sleep(interval)
        return True


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


async def run_on_emulator(args: argparse.Namespace) -> bool:
    """Connect alice, bob and carol at the mock bank; between cycles, two hours pass
    (every access token expires) and carol revokes her consent."""
    async with FakeTrueLayer() as fake, fake.session() as tl:
        users = ["alice", "bob", "carol"]
        for n, user in enumerate(users, start=1):
            # Click through the mock bank's consent pages over HTTP, as a browser would.
            link = tl.auth.auth_link(scopes=tla.DATA_SCOPES, pkce=True, providers="uk-cs-mock")
            page = await complete_consent(fake.http_client(), link.url, username=f"john{n}")
            code = tl.auth.parse_callback(page.redirect_url, expected_state=link.state)
            await tl.auth.exchange_code(code, user=user, code_verifier=link.code_verifier)
        print(f"connected {', '.join(users)} through the emulator's consent pages")

        def between(number: int) -> None:
            fake.clock.advance(2 * 3600)
            print(f"-- after cycle {number}: 2 hours pass (access tokens expire); carol revokes")
            fake.revoke("john3")

        worker = Worker(tl, users)
        ok = await worker.run(cycles=args.cycles, interval=args.interval, between=between)
        print(f"token refreshes: {fake.stats['refresh']}")
        return ok


async def run(target: str, args: argparse.Namespace) -> bool:
    print(f"target: {target}")
    if target == "emulator":
        return await run_on_emulator(args)
    async with real_session(target) as tl:
        return await Worker(tl, args.users).run(cycles=args.cycles, interval=args.interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", help="comma-separated users (sandbox and production)")
    parser.add_argument("--cycles", type=int, default=2, help="0 runs forever (default 2)")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between cycles")
    args = parser.parse_args(argv)
    target = choose_target(parser)
    args.users = [u.strip() for u in (args.users or "").split(",") if u.strip()]
    if target != "emulator" and not args.users:
        parser.error(f"--users is required on {target}")
    try:
        return 0 if anyio.run(run, target, args) else 1
    except tla.TrueLayerError as exc:
        sys.exit(f"{parser.prog}: error: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
