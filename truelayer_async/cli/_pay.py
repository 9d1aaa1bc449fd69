"""``truelayer-async pay``: make one payment through the hosted payment page, follow it to
a final status, and optionally refund it.

Works against any environment: the sandbox, production, or an emulator reached with
``--auth-url``. With ``--auto-authorize USERNAME`` (emulator only) the hosted page and
the mock bank are walked over HTTP, for scripts and tests.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio
import anyio.to_thread

from ..errors import WaitTimeoutError
from ..models import (
    BankTransfer,
    ExternalAccountBeneficiary,
    HostedPageOptions,
    Iban,
    InstantPreferred,
    MerchantAccountBeneficiary,
    Payment,
    PaymentUser,
    PreselectedProvider,
    Refund,
    SortCodeAccountNumber,
    UserSelectedProvider,
)
from ._callback_server import CallbackServer, Page, _is_loopback
from ._config import environment
from ._errors import FAILURE, OK, USAGE, CliError
from ._login import _open_browser
from ._output import console
from ._payment_progress import follow_payment, follow_refund, minor_money, status_detail
from ._payments_session import payments_session

if TYPE_CHECKING:
    from ..session import Session

__all__ = [
    "account_identifier",
    "external_account_given",
    "into_merchant_account",
    "parse_amount",
    "required_for_external_account",
    "run_pay",
]

#: ``1250`` or ``12.50``: digits, then at most two decimals after a point.
_AMOUNT = re.compile(r"([0-9]{1,12})(?:\.([0-9]{1,2}))?")
#: How long the browser's return page is served for at most (the wait ends it first).
_SERVE_SECONDS = 24 * 3600.0


def parse_amount(text: str, *, flag: str) -> int:
    """``1250`` (minor units) or ``12.50`` (major units, two decimals at most) → 1250;
    ``flag`` names the option in the error."""
    found = _AMOUNT.fullmatch(text.strip())
    if found is None:
        raise CliError(
            f"{flag} {text!r}: give whole minor units (1250) or a decimal with at most "
            "two places (12.50)",
            USAGE,
        )
    whole, cents = found[1], found[2]
    amount = int(whole) if cents is None else int(whole) * 100 + int(cents.ljust(2, "0"))
    if amount < 1:
        raise CliError(f"{flag} {text!r} must be at least 0.01 (1 minor unit)", USAGE)
    return amount


def _payment_method(args: argparse.Namespace) -> BankTransfer:
    """The bank transfer the flags describe: into a merchant account or an external one."""
    if into_merchant_account(args):
        beneficiary: MerchantAccountBeneficiary | ExternalAccountBeneficiary = (
            MerchantAccountBeneficiary(
                merchant_account_id=args.merchant_account_id, reference=args.reference
            )
        )
    else:
        beneficiary = ExternalAccountBeneficiary(
            account_holder_name=required_for_external_account(
                args.account_holder_name, "--account-holder-name"
            ),
            account_identifier=account_identifier(args),
            reference=required_for_external_account(args.reference, "--reference"),
        )
    if args.provider:
        selection: UserSelectedProvider | PreselectedProvider = PreselectedProvider(
            provider_id=args.provider, scheme_selection=InstantPreferred()
        )
    else:
        selection = UserSelectedProvider()
    return BankTransfer(provider_selection=selection, beneficiary=beneficiary)


def into_merchant_account(args: argparse.Namespace) -> bool:
    """Whether the money goes into ``--merchant-account-id`` (True) or an external account
    (False); a usage error when the flags name neither or both (``pay``, ``mandates
    create``)."""
    external = external_account_given(args)
    if args.merchant_account_id and external:
        raise CliError("give either --merchant-account-id or an external account, not both", USAGE)
    if not args.merchant_account_id and not external:
        raise CliError(
            "where should the money go? give --merchant-account-id ID, or an external account: "
            "--account-holder-name and --sort-code/--account-number or --iban",
            USAGE,
        )
    return bool(args.merchant_account_id)


def external_account_given(args: argparse.Namespace) -> bool:
    """Whether any external-account flag is given (holder name, sort code, number, IBAN)."""
    return any((args.account_holder_name, args.sort_code, args.account_number, args.iban))


def account_identifier(args: argparse.Namespace) -> SortCodeAccountNumber | Iban:
    """The account of ``--iban``, or of ``--sort-code`` with ``--account-number``."""
    if args.iban and (args.sort_code or args.account_number):
        raise CliError("give --iban or --sort-code with --account-number, not both", USAGE)
    if args.iban:
        return Iban(iban=args.iban.replace(" ", ""))
    if args.sort_code and args.account_number:
        return SortCodeAccountNumber(
            sort_code=args.sort_code.replace("-", ""), account_number=args.account_number
        )
    if args.sort_code or args.account_number:
        raise CliError("--sort-code and --account-number go together: give both", USAGE)
    raise CliError("give the account: --sort-code and --account-number, or --iban", USAGE)


def required_for_external_account(value: str | None, flag: str) -> str:
    """``value``, or a usage error saying an external account needs ``flag``."""
    if not value:
        raise CliError(f"an external account needs {flag}", USAGE)
    return value


def _local_return(uri: str) -> bool:
    """Whether ``uri`` is a loopback ``http://host:port`` this command can serve."""
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (
        parts.scheme == "http"
        and bool(parts.hostname)
        and _is_loopback(parts.hostname or "")
        and port is not None
    )


def _destination(method: BankTransfer) -> str:
    beneficiary = method.beneficiary
    if isinstance(beneficiary, MerchantAccountBeneficiary):
        return f"merchant account {beneficiary.merchant_account_id}"
    return beneficiary.account_holder_name


async def run_pay(args: argparse.Namespace) -> int:
    """Create the payment, have it authorised, follow it, refund it if asked."""
    amount = parse_amount(args.amount, flag="--amount")
    refund_amount = (
        parse_amount(args.refund_amount, flag="--refund-amount") if args.refund_amount else None
    )
    env = environment(args)
    if args.auto_authorize and env.name != "custom":
        raise CliError(
            "--auto-authorize drives the emulator's mock bank: point --auth-url at a "
            "`truelayer-async fake-server` (it cannot authorise real payments)",
            USAGE,
        )
    method = _payment_method(args)
    refund = args.refund or refund_amount is not None
    if refund and not isinstance(method.beneficiary, MerchantAccountBeneficiary):
        raise CliError("--refund needs a payment into a merchant account", USAGE)
    user = PaymentUser(name=args.payer_name, email=args.payer_email)
    out = console()
    serve = not args.auto_authorize and _local_return(args.return_uri)
    server = CallbackServer(args.return_uri, flag="--return-uri") if serve else None
    async with AsyncExitStack() as stack:
        tl = await stack.enter_async_context(payments_session(args, signed=True))
        if server is not None:  # listen first: a busy port fails before any payment
            await stack.enter_async_context(server)
        created = await tl.payments.create(
            amount_in_minor=amount,
            currency=args.currency,
            payment_method=method,
            user=user,
            hosted_page=HostedPageOptions(return_uri=args.return_uri),
        )
        to = _destination(method)
        out.print(f"Payment {created.id} created: {minor_money(amount, args.currency)} to {to}.")
        if created.hosted_page is None:
            raise CliError("TrueLayer answered without a hosted page link", FAILURE)
        link = created.hosted_page.uri
        try:
            payment = await _authorise_and_follow(args, tl, created.id, link, server)
        except WaitTimeoutError as exc:
            raise CliError(
                f"gave up waiting: {exc} (each status change may take up to --timeout "
                f"{args.timeout:g} s); check it later with the payment id {created.id}",
                FAILURE,
            ) from None
        if payment.status == "failed":
            raise CliError(f"the payment {status_detail(payment)}", FAILURE)
        out.print(f"Payment {payment.status}.")
        if refund:
            await _refund(args, tl, created.id, refund_amount)
    return OK


async def _authorise_and_follow(
    args: argparse.Namespace,
    tl: Session,
    payment_id: str,
    link: str,
    server: CallbackServer | None,
) -> Payment:
    out = console()
    report = _reporter("payment")
    if args.auto_authorize:
        import httpx

        from ..testing.hosted_payment import PaymentPageError, complete_payment

        out.print(f"Authorising on the emulator's hosted page as {args.auto_authorize!r}...")
        try:
            async with httpx.AsyncClient(trust_env=False, timeout=30) as browser:
                result = await complete_payment(browser, link, username=args.auto_authorize)
        except PaymentPageError as exc:
            raise CliError(f"the hosted page refused: {exc}", FAILURE) from None
        out.print(f"The bank returned the browser to {result.redirect_url}")
        return await follow_payment(tl, payment_id, timeout=args.timeout, report=report)
    # Plain print: the link must stay on one line to be copied.
    print(f"Open this link to pay:\n\n{link}\n", flush=True)
    opened = False
    if not args.no_browser:
        opened = await anyio.to_thread.run_sync(_open_browser, link)
    how = "Opened it in your browser. " if opened else ""
    print(f"{how}Waiting for the payment (Ctrl-C to stop)...", flush=True)
    if server is None:
        return await follow_payment(tl, payment_id, timeout=args.timeout, report=report)
    found: list[Payment] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(_serve_return_page, server)
        found.append(await follow_payment(tl, payment_id, timeout=args.timeout, report=report))
        tg.cancel_scope.cancel()
    return found[0]


async def _serve_return_page(server: CallbackServer) -> None:
    """Answer the browser's return with a short page, while the payment is followed."""

    async def back(query: str) -> Page:
        return 200, "Payment submitted", "You can close this tab and return to the terminal."

    await server.wait(back, seconds=_SERVE_SECONDS, keys=frozenset({"payment_id"}))


def _reporter(what: str) -> Callable[[Payment | Refund], None]:
    out = console()

    def report(item: Payment | Refund) -> None:
        out.print(f"  {what} status: {status_detail(item)}  ({time.strftime('%H:%M:%S')})")

    return report


async def _refund(
    args: argparse.Namespace, tl: Session, payment_id: str, amount: int | None
) -> None:
    out = console()
    made = await tl.payments.create_refund(
        payment_id, reference=args.refund_reference, amount_in_minor=amount
    )
    shown = minor_money(amount, args.currency) if amount is not None else "in full"
    out.print(f"Refund {made.id} ({shown}) created.")
    refund = await follow_refund(
        tl,
        payment_id,
        made.id,
        timeout=args.timeout,
        clock=time.monotonic,
        sleep=anyio.sleep,
        report=_reporter("refund"),
    )
    if refund.status == "failed":
        raise CliError(f"the refund {status_detail(refund)}", FAILURE)
    out.print(f"Refund {refund.status}.")
