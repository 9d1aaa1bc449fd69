"""``payouts show|create``: one payout, its beneficiary and status; a new payout out of a
merchant account (signed), optionally followed to ``executed`` or ``failed``. TrueLayer
has no endpoint listing payouts: their ids are in ``merchant-accounts transactions``."""

from __future__ import annotations

import argparse

from ..errors import WaitTimeoutError
from ..models import ExternalAccountBeneficiary, PaymentSourceBeneficiary, Payout
from ._errors import FAILURE, OK, USAGE, CliError
from ._ledger_output import payout_table
from ._output import console, write_json
from ._pay import account_identifier, external_account_given, parse_amount
from ._payment_progress import minor_money, status_detail
from ._payments_session import payments_session

__all__ = ["run_payouts"]


async def run_payouts(args: argparse.Namespace) -> int:
    """Run ``payouts ACTION``."""
    if args.payouts_command == "create":
        return await _create(args)
    async with payments_session(args, signed=False) as tl:
        payout = await tl.payouts.get(args.id)
    _print(args, payout)
    return OK


def _print(args: argparse.Namespace, payout: Payout) -> None:
    if args.format == "json":
        write_json(payout)
    else:
        console().print(payout_table(payout))


def _beneficiary(
    args: argparse.Namespace,
) -> ExternalAccountBeneficiary | PaymentSourceBeneficiary:
    """Where the money goes: back to a payment source, or to an external account."""
    if not args.reference:
        raise CliError("a payout needs --reference (at most 18 characters)", USAGE)
    if args.payment_source_id or args.user_id:
        if external_account_given(args):
            raise CliError(
                "give either --payment-source-id with --user-id, or an external account, not both",
                USAGE,
            )
        if not (args.payment_source_id and args.user_id):
            raise CliError("--payment-source-id and --user-id go together: give both", USAGE)
        return PaymentSourceBeneficiary(
            payment_source_id=args.payment_source_id,
            user_id=args.user_id,
            reference=args.reference,
        )
    if not args.account_holder_name:
        raise CliError(
            "who is paid? give --account-holder-name with --sort-code/--account-number or "
            "--iban, or --payment-source-id with --user-id",
            USAGE,
        )
    return ExternalAccountBeneficiary(
        account_holder_name=args.account_holder_name,
        account_identifier=account_identifier(args),
        reference=args.reference,
    )


async def _create(args: argparse.Namespace) -> int:
    amount = parse_amount(args.amount, flag="--amount")
    beneficiary = _beneficiary(args)  # bad flags stop here, before any request
    out = console()
    async with payments_session(args, signed=True) as tl:
        created = await tl.payouts.create(
            merchant_account_id=args.merchant_account_id,
            amount_in_minor=amount,
            currency=args.currency,
            beneficiary=beneficiary,
            idempotency_key=args.idempotency_key,
        )
        to = (
            beneficiary.account_holder_name
            if isinstance(beneficiary, ExternalAccountBeneficiary)
            else f"payment source {beneficiary.payment_source_id}"
        )
        shown = minor_money(amount, args.currency)
        if args.format != "json":
            out.print(f"Payout {created.id} created: {shown} to {to}.")
        try:
            payout = await (
                tl.payouts.wait_for(created.id, timeout=args.timeout)
                if args.wait
                else tl.payouts.get(created.id)
            )
        except WaitTimeoutError:
            raise CliError(
                f"gave up waiting after --timeout {args.timeout:g} s; check it later with "
                f"`payouts show {created.id}`",
                FAILURE,
            ) from None
    _print(args, payout)
    if payout.status == "failed":
        raise CliError(f"the payout {status_detail(payout)}", FAILURE)
    return OK
