"""A background worker that syncs every connected user on a schedule.

Each cycle fetches every active user's accounts and new transactions (deduplicated by
``normalised_provider_transaction_id``), a few users at a time. Expired access tokens
are refreshed by the SDK on the way. A user whose consent expired or was revoked raises
``ReauthorizationRequired``: the worker flags them (in a real app: email them a link to
reconnect) and stops syncing them; any other error is retried on the next cycle.

Against the emulator (default) it connects three users, runs ``--cycles 2``, and between
the cycles moves the emulator's clock past the access tokens' expiry and revokes one
user's consent, so the second cycle shows both the refresh and the flagging::

    python examples/worker.py
    python examples/worker.py --users alice,bob --interval 3600 --cycles 0   # real API
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date, timedelta

import anyio
import attrs
from _common import Backend, open_backend

import truelayer_async as tla


@attrs.define
class UserState:
    """What the worker remembers about one user (a database row in a real app)."""

    last_synced: date | None = None
    seen: set[str] = attrs.Factory(set)
    flagged: str | None = None  # why the user must reconnect


class Worker:
    def __init__(self, tl: tla.Session, users: list[str], *, parallel: int = 4) -> None:
        self.tl = tl
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
    ) -> None:
        """Run ``cycles`` cycles (0: forever), ``interval`` seconds apart."""
        number = 0
        while cycles == 0 or number < cycles:
            number += 1
            await self.run_cycle(number)
            if cycles and number >= cycles:
                break
            if between is not None:
                between(number)
            await anyio.sleep(interval)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", help="comma-separated users (real API)")
    parser.add_argument("--cycles", type=int, default=2, help="0 runs forever (default 2)")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between cycles")
    args = parser.parse_args(argv)

    async with open_backend() as backend:
        between: Callable[[int], None] | None = None
        if backend.is_emulator:
            users = ["alice", "bob", "carol"]
            for n, user in enumerate(users, start=1):
                await backend.connect(user, username=f"john{n}")
            print(f"connected {', '.join(users)} through the emulator's consent pages")
            between = make_time_pass(backend)
        elif args.users:
            users = [u.strip() for u in args.users.split(",") if u.strip()]
        else:
            parser.error("--users is required against the real API")

        worker = Worker(backend.tl, users)
        await worker.run(cycles=args.cycles, interval=args.interval, between=between)
        if backend.fake is not None:
            print(f"token refreshes: {backend.fake.stats['refresh']}")
    return 0


def make_time_pass(backend: Backend) -> Callable[[int], None]:
    """Between cycles: two hours pass (every access token expires) and carol revokes."""
    fake = backend.fake
    assert fake is not None

    def between(number: int) -> None:
        fake.clock.advance(2 * 3600)
        print(f"-- after cycle {number}: 2 hours pass (access tokens expire); carol revokes")
        fake.revoke("john3")

    return between


if __name__ == "__main__":
    sys.exit(anyio.run(main))
