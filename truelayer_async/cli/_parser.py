"""The argument parser (stdlib argparse; importing it needs no optional package)."""

from __future__ import annotations

import argparse
from datetime import date

from ..testing._options import add_server_options
from ._config import (
    ENV_API_URL,
    ENV_AUTH_URL,
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_ENVIRONMENT,
    ENV_SIGNING_KEY_FILE,
    ENV_SIGNING_KEY_ID,
    ENV_STORE,
    LISTEN_PORT,
    LISTEN_URL,
    MERCHANT_TRANSACTION_DAYS,
)

__all__ = ["build_parser"]

DESCRIPTION = """\
Command-line companion of the truelayer_async SDK. Start with `truelayer-async demo`:
it runs the whole integration against a built-in emulator, with no credentials.
"""

EPILOG = f"""\
credentials come from {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} (or --client-id /
--client-secret); the server from --auth-url/--api-url, --environment, {ENV_AUTH_URL}/
{ENV_API_URL} or {ENV_ENVIRONMENT} (flags first; default: the sandbox); tokens are kept in
a SQLite file: --store, {ENV_STORE}, or ~/.config/truelayer-async/tokens.db.

exit codes: 0 ok, 1 failure, 2 usage or configuration, 3 authorisation needed or
refused (run login), 4 not found, 5 network, 6 some users failed (fetch-all),
10-13 verify: partial match, no match, match not possible, failed; 130 interrupted.
"""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _store_option(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--store",
        metavar="PATH",
        help=f"token store file (default: ${ENV_STORE} or ~/.config/truelayer-async/tokens.db)",
    )


def _environment_option(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--environment",
        choices=("sandbox", "production"),
        help=f"TrueLayer environment (default: ${ENV_ENVIRONMENT} or sandbox)",
    )


def _server_urls(advanced: argparse._ArgumentGroup) -> None:
    advanced.add_argument(
        "--auth-url",
        metavar="URL",
        help=f"use this auth server instead of --environment, e.g. a `fake-server` "
        f"(default: ${ENV_AUTH_URL})",
    )
    advanced.add_argument(
        "--api-url",
        metavar="URL",
        help=f"use this API base URL (default: ${ENV_API_URL}, else the auth URL)",
    )
    advanced.add_argument(
        "--debug", action="store_true", help="show a traceback for unexpected errors"
    )


def _common(*, user: bool, store: bool = True) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection")
    _environment_option(group)
    group.add_argument("--client-id", metavar="ID", help=f"default: ${ENV_CLIENT_ID}")
    group.add_argument(
        "--client-secret",
        metavar="SECRET",
        help=f"default: ${ENV_CLIENT_SECRET} (prefer the variable: flags show in `ps`)",
    )
    if store:
        _store_option(group)
    if user:
        group.add_argument(
            "--user",
            metavar="NAME",
            help="whose token to use or save (any name you choose; default: none)",
        )
    _server_urls(parent.add_argument_group("advanced"))
    return parent


def _where() -> argparse.ArgumentParser:
    """The server options alone (webhook commands need no credentials or store)."""
    parent = argparse.ArgumentParser(add_help=False)
    _environment_option(parent.add_argument_group("connection"))
    _server_urls(parent.add_argument_group("advanced"))
    return parent


def _timeout_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, default: float, what: str
) -> None:
    """``--timeout SECONDS``: ``what`` says what is waited for."""
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=default,
        metavar="SECONDS",
        help=f"{what} (default: {default:g})",
    )


def _format(parser: argparse.ArgumentParser, choices: tuple[str, ...]) -> None:
    parser.add_argument(
        "--format", choices=choices, default="table", help="output format (default: table)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``truelayer-async`` parser; ``args.command`` names the subcommand."""
    parser = argparse.ArgumentParser(
        prog="truelayer-async",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="run the whole integration against the built-in emulator",
        description="Connect a mock bank user through the emulator's consent pages, list "
        "accounts, balances, 90 days of transactions and cards, show a token refresh, then "
        "make a payment: create it, pay on the hosted page, wait until settled, refund part "
        "of it, verify the payer's name against their account, pay them back, run a "
        "sweeping mandate. Needs no credentials and no network.",
    )
    demo.add_argument("--user", default="demo", help="the token key to use (default: demo)")
    demo.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    login = sub.add_parser(
        "login",
        parents=[_common(user=True)],
        help="connect a bank account and save the token",
        description="Open TrueLayer's auth dialog, wait for the redirect on a loopback port, "
        "check the state, exchange the code (PKCE) and save the token in the store.",
    )
    login.add_argument(
        "--redirect-uri",
        default="http://127.0.0.1:8080/callback",
        help="loopback redirect URI registered in your TrueLayer console "
        "(default: http://127.0.0.1:8080/callback)",
    )
    login.add_argument(
        "--no-browser", action="store_true", help="print the link but do not open a browser"
    )
    _timeout_option(login, 300.0, "how long to wait for the redirect")
    login.add_argument(
        "--scopes",
        metavar="LIST",
        help="comma-separated scopes (default: accounts,balance,transactions,cards,info,"
        "offline_access)",
    )
    login.add_argument(
        "--providers",
        metavar="LIST",
        help="space- or comma-separated provider selectors (default: uk-cs-mock uk-ob-all "
        "uk-oauth-all; no uk-cs-mock in production)",
    )

    accounts = sub.add_parser(
        "accounts",
        parents=[_common(user=True)],
        help="list accounts and balances",
        description="List the connected accounts with their balances.",
    )
    _format(accounts, ("table", "json", "csv"))
    accounts.add_argument("--no-balance", action="store_true", help="skip the balance requests")

    txns = sub.add_parser(
        "transactions",
        parents=[_common(user=True)],
        help="list an account's transactions",
        description="List an account's booked transactions, newest first.",
    )
    txns.add_argument("--account", required=True, metavar="ID", help="the account id")
    txns.add_argument(
        "--from", dest="from_", type=_date, metavar="YYYY-MM-DD", help="first day (inclusive)"
    )
    txns.add_argument("--to", type=_date, metavar="YYYY-MM-DD", help="last day (inclusive)")
    _format(txns, ("table", "json", "csv"))

    fetch = sub.add_parser(
        "fetch-all",
        parents=[_common(user=False)],
        help="fetch many users' data concurrently",
        description="Fetch accounts, balances, transactions and cards of many users with "
        "bounded concurrency. One user's failure is reported without stopping the others.",
    )
    fetch.add_argument(
        "--users",
        metavar="A,B,C",
        help="comma-separated users (default: every user stored for this server and client; "
        "see `users`)",
    )
    fetch.add_argument(
        "--from", dest="from_", type=_date, metavar="YYYY-MM-DD", help="first day (inclusive)"
    )
    fetch.add_argument("--to", type=_date, metavar="YYYY-MM-DD", help="last day (inclusive)")
    fetch.add_argument(
        "--concurrency",
        type=_positive_int,
        default=8,
        metavar="N",
        help="requests in flight at most (1-64, default 8)",
    )
    _format(fetch, ("table", "json"))

    users = sub.add_parser(
        "users",
        help="list the users whose tokens are stored, per server",
        description="List every user with a stored bank connection, grouped by server and "
        "client: when the access token expires, whether a refresh token is kept, and whether "
        "the user must log in again. Reads the store only (no request, no credentials).",
    )
    _store_option(users.add_argument_group("connection"))
    _format(users, ("table", "json"))
    users.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    sub.add_parser(
        "logout",
        parents=[_common(user=True)],
        help="delete a user's connection at TrueLayer and forget the token",
        description="Delete the user's bank connection at TrueLayer (DELETE /api/delete) "
        "and remove the token from the store. If TrueLayer no longer accepts the connection "
        "(already revoked or expired), the token is still removed locally.",
    )

    _pay(sub)
    _verify(sub)
    _ledger(sub)

    fake = sub.add_parser(
        "fake-server",
        help="serve the TrueLayer emulator on loopback",
        description="Serve the local TrueLayer emulator (auth server, consent pages, Data "
        "API) until Ctrl-C. Needs the [testing] extra.",
    )
    fake.add_argument(
        "--host", default="127.0.0.1", help="loopback address to listen on (default: 127.0.0.1)"
    )
    fake.add_argument(
        "--port", type=int, default=8765, help="port (default: 8765; 0 picks a free one)"
    )
    fake.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        metavar="URI",
        help="also accept this redirect URI for the default client (repeatable)",
    )
    fake.add_argument(
        "--access-token-ttl",
        type=_positive_int,
        default=3600,
        metavar="SECONDS",
        help="access token lifetime (default: 3600)",
    )
    add_server_options(fake)
    fake.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    _webhooks(sub)
    return parser


def _pay(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pay = sub.add_parser(
        "pay",
        parents=[_common(user=False, store=False)],
        help="make a payment through the hosted payment page and follow it",
        description="Create a Payments v3 payment (signed, idempotent) with a hosted payment "
        "page, print the page's link (and open it), wait with tl.payments.wait_for while "
        "showing each status, and with --refund refund it once settled. Exits 0 when the "
        "payment is executed or settled, 1 when it (or the refund) failed.",
    )
    what = pay.add_argument_group("payment")
    what.add_argument(
        "--amount",
        required=True,
        help="minor units (1250) or a decimal with a point (12.50) in --currency",
    )
    what.add_argument("--currency", choices=("GBP", "EUR"), default="GBP", help="default: GBP")
    what.add_argument("--merchant-account-id", metavar="ID", help="pay into this merchant account")
    what.add_argument(
        "--reference",
        help="the payment reference (needed for an external account; at most 18 characters)",
    )
    what.add_argument(
        "--account-holder-name", metavar="NAME", help="pay into this external account's holder"
    )
    what.add_argument("--sort-code", metavar="NNNNNN", help="external UK account: sort code")
    what.add_argument(
        "--account-number", metavar="NNNNNNNN", help="external UK account: account number"
    )
    what.add_argument("--iban", help="external account: IBAN (instead of sort code and number)")
    what.add_argument(
        "--provider", metavar="ID", help="preselect this bank (default: the user picks)"
    )
    what.add_argument(
        "--payer-name", default="truelayer-async", metavar="NAME", help="the paying user's name"
    )
    what.add_argument("--payer-email", metavar="EMAIL", help="the paying user's email")
    flow = pay.add_argument_group("authorisation and waiting")
    flow.add_argument(
        "--return-uri",
        default="http://127.0.0.1:8080/payment-return",
        metavar="URI",
        help="where the hosted page sends the browser back (on your Console allow-list); a "
        "loopback http URI is served while waiting (default: "
        "http://127.0.0.1:8080/payment-return)",
    )
    flow.add_argument(
        "--no-browser", action="store_true", help="print the link but do not open a browser"
    )
    flow.add_argument(
        "--auto-authorize",
        metavar="USERNAME",
        help="emulator only: walk the hosted page and mock bank as this user "
        "(test_executed, test_authorisation_failed, test_execution_rejected)",
    )
    _timeout_option(flow, 600.0, "how long to wait for each status change")
    flow.add_argument(
        "--refund", action="store_true", help="refund the payment in full once settled"
    )
    flow.add_argument(
        "--refund-amount",
        metavar="AMOUNT",
        help="refund this much once settled (as --amount; implies --refund)",
    )
    flow.add_argument(
        "--refund-reference",
        default="CLI refund",
        metavar="TEXT",
        help="the refund's reference, at most 18 characters (default: CLI refund)",
    )
    _signing_options(pay)


def _signing_options(parser: argparse.ArgumentParser) -> None:
    """``--signing-key-id`` / ``--signing-key-file``, read by ``_payments_session.signing_key``."""
    keys = parser.add_argument_group("signing")
    keys.add_argument(
        "--signing-key-id",
        metavar="KID",
        help=f"the key id TrueLayer Console shows (default: ${ENV_SIGNING_KEY_ID})",
    )
    keys.add_argument(
        "--signing-key-file",
        metavar="PATH",
        help=f"the EC P-521 private key, PEM (default: ${ENV_SIGNING_KEY_FILE})",
    )


def _verify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    verify = sub.add_parser(
        "verify",
        parents=[_common(user=False, store=False)],
        help="check a name against a bank account (account holder verification)",
        description="Ask the account's bank whether NAME is its holder (Verification v3 "
        "account holder verification: signed, idempotent, client credentials with the "
        "verification scope), wait for the answer and print it. Exits 0 for a match, "
        "10 for a partial match (the bank's name is shown), 11 for no match, 12 when the "
        "bank could not match, 13 when the check failed.",
    )
    what = verify.add_argument_group("name and account")
    what.add_argument("--name", required=True, help="the name to check, as the user gave it")
    what.add_argument("--iban", help="the account's IBAN")
    what.add_argument("--sort-code", metavar="NNNNNN", help="UK account: sort code")
    what.add_argument("--account-number", metavar="NNNNNNNN", help="UK account: account number")
    _timeout_option(verify, 60.0, "how long to wait for the bank's answer")
    _signing_options(verify)


def _actions(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    dest: str,
    *,
    help: str,
    description: str,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    group = sub.add_parser(name, help=help, description=description)
    actions = group.add_subparsers(dest=dest, metavar="ACTION")
    actions.required = True
    return actions


def _ledger(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``merchant-accounts``, ``mandates`` and ``payouts``: client credentials (scope
    ``payments``; mandates ``recurring_payments:sweeping``); the signing key only for
    ``payouts create``, ``mandates create`` and ``mandates revoke``."""
    common = _common(user=False, store=False)
    accounts = _actions(
        sub,
        "merchant-accounts",
        "accounts_command",
        help="list your merchant accounts, show one, page through its transactions",
        description="Your TrueLayer merchant accounts (Payments v3): balances, sweeping and "
        "transactions. Uses the client credentials only (scope payments).",
    )
    listing = accounts.add_parser(
        "list", parents=[common], help="every merchant account with its balances"
    )
    _format(listing, ("table", "json"))
    show = accounts.add_parser(
        "show", parents=[common], help="one merchant account: identifiers, balances, sweeping"
    )
    show.add_argument("id", metavar="ID", help="the merchant account id")
    _format(show, ("table", "json"))
    txns = accounts.add_parser(
        "transactions",
        parents=[common],
        help="a merchant account's transactions, page by page with a progress bar",
        description="Fetch a merchant account's transactions one cursor page at a time "
        "(a progress bar on a terminal counts pages and transactions). The API allows "
        "31 days at most per request.",
    )
    txns.add_argument("id", metavar="ID", help="the merchant account id")
    txns.add_argument(
        "--from", dest="from_", type=_date, metavar="YYYY-MM-DD",
        help=f"first day, inclusive (default: {MERCHANT_TRANSACTION_DAYS - 1} days before --to)",
    )  # fmt: skip
    txns.add_argument(
        "--to", type=_date, metavar="YYYY-MM-DD", help="last day, inclusive (default: today)"
    )
    txns.add_argument("--type", choices=("payment", "payout"), help="only money in, or out")
    txns.add_argument("--limit", type=_positive_int, metavar="N", help="stop after N transactions")
    _format(txns, ("table", "json", "csv"))

    mandates = _actions(
        sub,
        "mandates",
        "mandates_command",
        help="list, show, create or revoke your VRP mandates",
        description="Your mandates (Payments v3 variable recurring payments). Uses the "
        "client credentials (scope recurring_payments:sweeping unless --scope); create and "
        "revoke are signed.",
    )
    every = mandates.add_parser("list", parents=[common], help="every mandate (cursor pages)")
    every.add_argument("--user-id", metavar="ID", help="only this user's mandates")
    every.add_argument("--limit", type=_positive_int, metavar="N", help="stop after N mandates")
    one = mandates.add_parser(
        "show", parents=[common], help="one mandate, with how much of each period's limit is used"
    )
    one.add_argument("id", metavar="ID", help="the mandate id")
    made = _mandate_create(mandates, common)
    gone = mandates.add_parser(
        "revoke",
        parents=[common],
        help="revoke a mandate (signed): no payment can be made on it any more",
        description="Revoke the mandate (POST /v3/mandates/{id}/revoke, signed and "
        "idempotent) and show it. A mandate that cannot be revoked (already revoked, or "
        "failed) is TrueLayer's 400 error (exit 1).",
    )
    gone.add_argument("id", metavar="ID", help="the mandate id")
    for parser in (made, gone):
        _idempotency_option(parser)
        _signing_options(parser)
    for parser in (every, one, made, gone):
        parser.add_argument(
            "--scope",
            metavar="SCOPE",
            help="client-credentials scope to ask for (default: recurring_payments:sweeping; "
            "e.g. recurring_payments:commercial or mandates)",
        )
        _format(parser, ("table", "json"))

    payouts = _actions(
        sub,
        "payouts",
        "payouts_command",
        help="show a payout, or make one",
        description="A payout (Payments v3) by id: amount, beneficiary, status; or a new "
        "one (signed). TrueLayer has no list of payouts: `merchant-accounts transactions` "
        "shows their ids.",
    )
    payout = payouts.add_parser("show", parents=[common], help="one payout and its status")
    payout.add_argument("id", metavar="ID", help="the payout id")
    _format(payout, ("table", "json"))
    _payout_create(payouts, common)


def _idempotency_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="send this Idempotency-Key (default: a new one): run the command again with "
        "the same key and TrueLayer answers with the first result, not a second one",
    )


def _account_options(group: argparse._ArgumentGroup, whose: str) -> None:
    group.add_argument(
        "--account-holder-name", metavar="NAME", help=f"{whose}: the account holder's name"
    )
    group.add_argument("--sort-code", metavar="NNNNNN", help=f"{whose}: UK sort code")
    group.add_argument("--account-number", metavar="NNNNNNNN", help=f"{whose}: account number")
    group.add_argument("--iban", help=f"{whose}: IBAN (instead of sort code and number)")


def _payout_create(
    payouts: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    create = payouts.add_parser(
        "create",
        parents=[common],
        help="pay out of a merchant account (signed), optionally waiting for the result",
        description="Create a payout (POST /v3/payouts, signed and idempotent) from a "
        "merchant account to an external account or back to a payment source, and show "
        "it; with --wait, follow it to executed (exit 0) or failed (exit 1).",
    )
    what = create.add_argument_group("payout")
    what.add_argument(
        "--merchant-account-id", required=True, metavar="ID", help="pay out of this account"
    )
    what.add_argument(
        "--amount",
        required=True,
        help="minor units (1250) or a decimal with a point (12.50) in --currency",
    )
    what.add_argument(
        "--currency", choices=("GBP", "EUR", "PLN"), default="GBP", help="default: GBP"
    )
    what.add_argument("--reference", help="required: the payout's reference (≤ 18 characters)")
    _account_options(what, "external account")
    what.add_argument(
        "--payment-source-id",
        metavar="ID",
        help="pay back to this payment source (with --user-id)",
    )
    what.add_argument("--user-id", metavar="ID", help="the payment source's user")
    create.add_argument(
        "--wait", action="store_true", help="wait until the payout is executed or failed"
    )
    _timeout_option(create, 60.0, "with --wait: how long to wait")
    _idempotency_option(create)
    _signing_options(create)
    _format(create, ("table", "json"))


def _mandate_create(
    mandates: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    create = mandates.add_parser(
        "create",
        parents=[common],
        help="create a VRP mandate (signed) and print the page on which the user authorises it",
        description="Create a variable recurring payments mandate (POST /v3/mandates, "
        "signed and idempotent) and print the hosted page link on which the user picks "
        "their bank and authorises it. `mandates show ID` then shows its status.",
    )
    what = create.add_argument_group("mandate")
    what.add_argument(
        "--type",
        choices=("sweeping", "commercial"),
        default="sweeping",
        help="default: sweeping (scope recurring_payments:sweeping; commercial asks for "
        "recurring_payments:commercial)",
    )
    what.add_argument(
        "--merchant-account-id", metavar="ID", help="payments go into this merchant account"
    )
    _account_options(what, "or into this external account")
    what.add_argument("--reference", help="the mandate's reference (≤ 18 characters)")
    what.add_argument("--currency", choices=("GBP", "EUR"), default="GBP", help="default: GBP")
    what.add_argument(
        "--max-per-payment",
        required=True,
        metavar="AMOUNT",
        help="the largest single payment, as --amount (1250 or 12.50)",
    )
    what.add_argument(
        "--period-limit",
        action="append",
        default=[],
        metavar="PERIOD=AMOUNT",
        help="the most paid per period (repeatable; at least one): day, week, fortnight, "
        "month, half_year or year, e.g. month=100.00",
    )
    what.add_argument(
        "--period-alignment",
        choices=("calendar", "consent"),
        default="calendar",
        help="periods follow the calendar or start when the user consents (default: calendar)",
    )
    what.add_argument(
        "--provider", metavar="ID", help="preselect this bank (default: the user picks)"
    )
    payer = create.add_argument_group("payer and hosted page")
    payer.add_argument("--user-id", metavar="ID", help="the payer's id from earlier payments")
    payer.add_argument(
        "--payer-name", default="truelayer-async", metavar="NAME", help="the payer's name"
    )
    payer.add_argument("--payer-email", metavar="EMAIL", help="the payer's email")
    payer.add_argument(
        "--return-uri",
        default="http://127.0.0.1:8080/mandate-return",
        metavar="URI",
        help="where the hosted page sends the user back (on your Console allow-list; "
        "default: http://127.0.0.1:8080/mandate-return)",
    )
    return create


def _webhooks(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhooks = sub.add_parser(
        "webhooks",
        help="receive, verify and forward webhooks; make the emulator send one",
        description="Try webhooks locally, in the spirit of the Stripe CLI: `listen` "
        "verifies and prints what arrives (and forwards it to your app); `trigger` makes "
        "the emulator send one.",
    )
    actions = webhooks.add_subparsers(dest="webhooks_command", metavar="ACTION")
    actions.required = True
    listen = actions.add_parser(
        "listen",
        parents=[_where()],
        help="receive webhooks, verify, print one line each, forward to your app",
        description="Serve a webhook receiver (any path) that verifies each webhook with "
        "the SDK (the environment's key set; the emulator's with --auth-url) and prints "
        "one line per event, or REJECTED and the reason. With --forward-to, the exact "
        "bytes and headers are POSTed to your app; the sender gets 2xx only when your app "
        "answered 2xx. Stop with Ctrl-C. Needs the [testing] extra (uvicorn).",
    )
    listen.add_argument(
        "--forward-to",
        metavar="URL",
        help="your app's webhook URL; use the same path on both sides (it is signed)",
    )
    listen.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    listen.add_argument(
        "--port",
        type=int,
        default=LISTEN_PORT,
        help=f"port (default: {LISTEN_PORT}; 0 picks a free one)",
    )
    listen.add_argument(
        "--tolerance",
        type=_positive_float,
        default=300.0,
        metavar="SECONDS",
        help="how old a webhook's timestamp may be (default: 300)",
    )
    trigger = actions.add_parser(
        "trigger",
        parents=[_where()],
        help="make the emulator send one signed webhook (emulator only)",
        description="Make the emulator (a `fake-server`, reached with --auth-url) send one "
        "webhook of type EVENT, built from its samples, and print the receiver's answer. "
        "TrueLayer itself has no such API, so the sandbox and production are refused.",
    )
    trigger.add_argument("event", nargs="?", metavar="EVENT", help="the event type to send")
    trigger.add_argument("--list", action="store_true", help="print the event types and exit")
    trigger.add_argument(
        "--to",
        default=LISTEN_URL,
        metavar="URL",
        help=f"where to send it (default: `webhooks listen`'s address, {LISTEN_URL})",
    )
    trigger.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a payload field (repeatable); VALUE is JSON if it parses, else text",
    )
    trigger.add_argument(
        "--signing",
        default="valid",
        metavar="MODE",
        help="valid (default), or a bad signature: forged, stale, unknown_kid, tampered, "
        "bad_jku, wrong_alg, unsigned",
    )
    trigger.add_argument(
        "--wait",
        type=_positive_float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for the receiver's answer (default: 10)",
    )
