"""The mandate that ``mandates create``'s flags describe: type, beneficiary, provider,
payer and limits (checked here, before any request)."""

from __future__ import annotations

import argparse

from ..models import (
    CommercialMandate,
    MandateConstraintsInput,
    MandateExternalAccount,
    MandateMerchantAccount,
    PaymentUser,
    PeriodicLimitInput,
    PeriodicLimitsInput,
    PreselectedProviderId,
    SweepingMandate,
    UserSelectedProvider,
)
from ._errors import USAGE, CliError
from ._pay import (
    account_identifier,
    into_merchant_account,
    parse_amount,
    required_for_external_account,
)

__all__ = ["PERIODS", "mandate_constraints", "mandate_input", "mandate_user"]

#: The periods a limit can be set for, shortest first (TrueLayer's names).
PERIODS = ("day", "week", "fortnight", "month", "half_year", "year")


def mandate_input(args: argparse.Namespace) -> SweepingMandate | CommercialMandate:
    """The ``mandate`` object: ``--type``, where the money goes, ``--provider`` and
    ``--reference``."""
    if into_merchant_account(args):
        beneficiary: MandateMerchantAccount | MandateExternalAccount = MandateMerchantAccount(
            merchant_account_id=args.merchant_account_id
        )
    else:
        beneficiary = MandateExternalAccount(
            account_holder_name=required_for_external_account(
                args.account_holder_name, "--account-holder-name"
            ),
            account_identifier=account_identifier(args),
        )
    selection: UserSelectedProvider | PreselectedProviderId = (
        PreselectedProviderId(provider_id=args.provider)
        if args.provider
        else UserSelectedProvider()
    )
    kind = CommercialMandate if args.type == "commercial" else SweepingMandate
    return kind(provider_selection=selection, beneficiary=beneficiary, reference=args.reference)


def mandate_constraints(args: argparse.Namespace) -> MandateConstraintsInput:
    """``--max-per-payment`` and each ``--period-limit PERIOD=AMOUNT``."""
    if not args.period_limit:
        raise CliError(
            "a mandate needs at least one --period-limit PERIOD=AMOUNT "
            f"(PERIOD: {', '.join(PERIODS)}), e.g. --period-limit month=100.00",
            USAGE,
        )
    limits: dict[str, PeriodicLimitInput] = {}
    for given in args.period_limit:
        period, _, amount = given.partition("=")
        period = period.strip().replace("-", "_")
        if period not in PERIODS or not amount:
            raise CliError(
                f"--period-limit {given!r}: expected PERIOD=AMOUNT with PERIOD one of "
                f"{', '.join(PERIODS)}",
                USAGE,
            )
        if period in limits:
            raise CliError(f"--period-limit: {period} is given twice", USAGE)
        limits[period] = PeriodicLimitInput(
            maximum_amount=parse_amount(amount, flag="--period-limit"),
            period_alignment=args.period_alignment,
        )
    return MandateConstraintsInput(
        maximum_individual_amount=parse_amount(args.max_per_payment, flag="--max-per-payment"),
        periodic_limits=PeriodicLimitsInput(**limits),
    )


def mandate_user(args: argparse.Namespace) -> PaymentUser:
    """The payer: ``--user-id`` (to link to earlier payments), ``--payer-name`` and
    ``--payer-email``."""
    return PaymentUser(id=args.user_id, name=args.payer_name, email=args.payer_email)
