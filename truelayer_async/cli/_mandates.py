"""``mandates list|show``: your VRP mandates, and one mandate with how much of each
period's limit is used."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..models import MandateAuthorized
from ._errors import OK
from ._ledger_output import mandate_table, mandates_table
from ._output import console, write_json
from ._payments_session import payments_session

if TYPE_CHECKING:
    from ..services.mandates import MandatesService

__all__ = ["run_mandates"]


async def run_mandates(args: argparse.Namespace) -> int:
    """Run ``mandates ACTION``."""
    async with payments_session(args, signed=False) as tl:
        mandates: MandatesService = tl.mandates
        if args.scope:
            mandates = mandates.with_scopes(args.scope)
        if args.mandates_command == "list":
            found = [m async for m in mandates.list(user_id=args.user_id, limit=args.limit)]
            if args.format == "json":
                write_json(found)
            else:
                console().print(mandates_table(found, title=f"Mandates ({len(found)})"))
            return OK
        mandate = await mandates.get(args.id)
        # Only an authorized mandate has limits in use (TrueLayer answers 400 otherwise).
        usage = (
            await mandates.constraints(mandate.id or args.id)
            if isinstance(mandate, MandateAuthorized)
            else None
        )
    if args.format == "json":
        write_json({"mandate": mandate, "constraints": usage})
    else:
        console().print(mandate_table(mandate, usage))
    return OK
