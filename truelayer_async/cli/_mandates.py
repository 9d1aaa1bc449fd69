"""``mandates list|show|create|revoke``: your VRP mandates, one mandate with how much of
each period's limit is used, a new mandate (signed) with the hosted page link on which
the user authorises it, and revoking one (signed)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..models import MandateAuthorized
from ._errors import OK
from ._ledger_output import mandate_table, mandates_table
from ._mandate_inputs import mandate_constraints, mandate_input, mandate_user
from ._output import console, write_json
from ._payment_progress import minor_money
from ._payments_session import payments_session

if TYPE_CHECKING:
    from ..services.mandates import MandatesService
    from ..session import Session

__all__ = ["run_mandates"]


def _service(tl: Session, args: argparse.Namespace) -> MandatesService:
    mandates: MandatesService = tl.mandates
    return mandates.with_scopes(args.scope) if args.scope else mandates


async def run_mandates(args: argparse.Namespace) -> int:
    """Run ``mandates ACTION``."""
    action = args.mandates_command
    if action == "create":
        return await _create(args)
    if action == "revoke":
        return await _revoke(args)
    async with payments_session(args, signed=False) as tl:
        mandates = _service(tl, args)
        if action == "list":
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


async def _create(args: argparse.Namespace) -> int:
    mandate = mandate_input(args)  # bad flags stop here, before any request
    constraints = mandate_constraints(args)
    user = mandate_user(args)
    async with payments_session(args, signed=True) as tl:
        created = await _service(tl, args).create(
            mandate=mandate,
            currency=args.currency,
            user=user,
            constraints=constraints,
            idempotency_key=args.idempotency_key,
        )
        link = (
            tl.hosted_page.mandate_url(
                mandate_id=created.id,
                resource_token=created.resource_token,
                return_uri=args.return_uri,
            )
            if created.resource_token is not None
            else None
        )
    if args.format == "json":
        write_json(
            {
                "id": created.id,
                "status": created.status,
                "user": {"id": created.user_id},
                "hosted_page": None if link is None else {"uri": link},
            }
        )
        return OK
    per_payment = minor_money(constraints.maximum_individual_amount, args.currency)
    out = console()
    out.print(
        f"Mandate {created.id} created ({mandate.type}, up to {per_payment} a payment): "
        f"{created.status}."
    )
    if link is not None:
        # Plain print: the link must stay on one line to be copied.
        print(f"The user authorises it on this page:\n\n{link}\n", flush=True)
    return OK


async def _revoke(args: argparse.Namespace) -> int:
    async with payments_session(args, signed=True) as tl:
        mandates = _service(tl, args)
        await mandates.revoke(args.id, idempotency_key=args.idempotency_key)
        mandate = await mandates.get(args.id)
    if args.format == "json":
        write_json(mandate)
    else:
        console().print(f"Mandate {args.id} revoked.")
        console().print(mandate_table(mandate, None))
    return OK
