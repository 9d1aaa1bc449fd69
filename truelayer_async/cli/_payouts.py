"""``payouts show``: one payout, its beneficiary and status (TrueLayer has no endpoint
listing payouts: their ids are in ``merchant-accounts transactions``)."""

from __future__ import annotations

import argparse

from ._errors import OK
from ._ledger_output import payout_table
from ._output import console, write_json
from ._payments_session import payments_session

__all__ = ["run_payouts"]


async def run_payouts(args: argparse.Namespace) -> int:
    """Run ``payouts ACTION``."""
    async with payments_session(args, signed=False) as tl:
        payout = await tl.payouts.get(args.id)
    if args.format == "json":
        write_json(payout)
    else:
        console().print(payout_table(payout))
    return OK
