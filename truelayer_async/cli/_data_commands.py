"""``accounts``, ``transactions`` and ``fetch-all``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

import anyio
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .. import errors as e
from ..models import Account, AccountBalance
from ..tokens import TokenType
from ._config import open_session, where_flags
from ._errors import AUTH, OK, PARTIAL, USAGE, CliError, ErrorContext, describe, hint_command
from ._output import (
    ACCOUNT_COLUMNS,
    TRANSACTION_COLUMNS,
    account_rows,
    accounts_json,
    accounts_table,
    console,
    table,
    transaction_rows,
    transactions_table,
    write_csv,
    write_json,
)

if TYPE_CHECKING:
    from .. import FetchAllResult
    from .. import Progress as FetchProgress
    from ..session import Session

__all__ = ["run_accounts", "run_fetch_all", "run_transactions"]


async def run_accounts(args: argparse.Namespace) -> int:
    """List the user's accounts, with balances unless ``--no-balance``."""
    async with open_session(args) as tl:
        accounts = await tl.data.accounts(user=args.user)
        balances: list[AccountBalance | None] = [None] * len(accounts)
        if not args.no_balance:
            balances = await _balances(tl, args.user, accounts)
    pairs = list(zip(accounts, balances, strict=True))
    if args.format == "json":
        write_json(accounts_json(pairs))
    elif args.format == "csv":
        write_csv(ACCOUNT_COLUMNS, account_rows(pairs))
    else:
        caption = (
            "ids shortened: `transactions --account` takes the prefix; "
            "--format json shows them whole"
        )
        console().print(
            accounts_table(pairs, title=f"Accounts ({len(accounts)})", caption=caption)
        )
    return OK


async def _balances(
    tl: Session, user: str | None, accounts: list[Account]
) -> list[AccountBalance | None]:
    balances: list[AccountBalance | None] = [None] * len(accounts)

    async def one(index: int, account_id: str) -> None:
        try:
            balances[index] = await tl.data.balance(account_id, user=user)
        except e.EndpointNotSupportedError:
            balances[index] = None

    async with anyio.create_task_group() as tg:
        for index, account in enumerate(accounts):
            tg.start_soon(one, index, account.account_id)
    return balances


async def run_transactions(args: argparse.Namespace) -> int:
    """List one account's transactions."""
    if args.from_ is not None and args.to is not None and args.from_ > args.to:
        raise CliError(f"--from ({args.from_}) is after --to ({args.to})", USAGE)
    wanted = args.account.strip().rstrip("…")  # a short id copied with its ellipsis
    if not wanted:
        raise CliError("--account must not be empty", USAGE)
    async with open_session(args) as tl:
        account_id = wanted
        try:
            txns = await tl.data.transactions(
                account_id, from_=args.from_, to=args.to, user=args.user
            )
        except e.AccountNotFoundError:
            resolved = await _account_by_prefix(tl, args.user, wanted)
            if resolved is None:
                raise
            account_id = resolved
            txns = await tl.data.transactions(
                account_id, from_=args.from_, to=args.to, user=args.user
            )
    if args.format == "json":
        write_json(txns)
    elif args.format == "csv":
        write_csv(TRANSACTION_COLUMNS, transaction_rows(txns))
    else:
        window = ""
        if args.from_ or args.to:
            window = f", {args.from_ or '…'} to {args.to or '…'}"
        console().print(
            transactions_table(txns, title=f"Transactions of {account_id} ({len(txns)}{window})")
        )
    return OK


async def _account_by_prefix(tl: Session, user: str | None, prefix: str) -> str | None:
    """The one account whose id starts with ``prefix`` (the tables show short ids)."""
    matches = [a.account_id for a in await tl.data.accounts(user=user)]
    matches = [account_id for account_id in matches if account_id.startswith(prefix)]
    if len(matches) > 1:
        raise CliError(
            f"--account {prefix!r} matches {len(matches)} accounts: give more characters",
            USAGE,
        )
    return matches[0] if matches else None


async def _store_users(tl: Session) -> list[str | None] | None:
    """Every user with a data token for this server and client, if the store can list
    its keys (``SqliteTokenStore.keys()``)."""
    keys = getattr(tl.token_store, "keys", None)
    if keys is None:
        return None
    listed: Any = keys()
    if hasattr(listed, "__await__"):
        listed = await listed
    namespace = tl._core.tokens.key(TokenType.DATA, None).namespace
    users: list[str | None] = []
    for key in listed:
        if key.namespace != namespace or key.token_type is not TokenType.DATA:
            continue
        if key.user not in users:
            users.append(key.user)
    return users


async def run_fetch_all(args: argparse.Namespace) -> int:
    """Fetch every user's data with ``fetch_all`` and report each user's outcome."""
    if args.from_ is not None and args.to is not None and args.from_ > args.to:
        raise CliError(f"--from ({args.from_}) is after --to ({args.to})", USAGE)
    if not 1 <= args.concurrency <= 64:
        raise CliError("--concurrency must be between 1 and 64", USAGE)
    users: list[str | None] | None = None
    if args.users is not None:
        users = [u.strip() for u in args.users.split(",") if u.strip()]
        if not users:
            raise CliError("--users is empty", USAGE)
    async with open_session(args) as tl:
        if users is None:
            users = await _store_users(tl)
            if users is None:
                raise CliError("this token store cannot list its users: pass --users a,b,c", USAGE)
            if not users:
                raise CliError(
                    f"no user has a token for {tl.environment.auth_url} in the store: "
                    f"run `{hint_command('login', where_flags(args), 'NAME')}` first",
                    AUTH,
                )
        results = await _fetch_with_progress(tl, users, args)
    failed = [r for r in results if not r.ok]
    if args.format == "json":
        write_json([_result_json(r, args) for r in results])
    else:
        console().print(_results_table(results, args))
    if failed:
        for result in failed:
            assert result.error is not None
            message, _ = describe(result.error, _context(args, result.user))
            print(f"truelayer-async: user {result.user!r} failed: {message}", file=sys.stderr)
        print(f"truelayer-async: {len(failed)} of {len(results)} users failed", file=sys.stderr)
        return PARTIAL
    return OK


async def _fetch_with_progress(
    tl: Session, users: list[str | None], args: argparse.Namespace
) -> list[FetchAllResult]:
    err = console(stderr=True)
    with Progress(
        TextColumn("fetching"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("users"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("users", total=len(users))

        def on_progress(p: FetchProgress) -> None:
            progress.update(task, completed=p.done)

        return await tl.data.fetch_all(
            users,
            from_=args.from_,
            to=args.to,
            concurrency=args.concurrency,
            on_progress=on_progress,
        )


def _context(args: argparse.Namespace, user: str | None) -> ErrorContext:
    return ErrorContext(user=user, flags=where_flags(args))


def _result_json(result: FetchAllResult, args: argparse.Namespace) -> dict[str, Any]:
    error = None
    if result.error is not None:
        message, code = describe(result.error, _context(args, result.user))
        error = {"type": type(result.error).__name__, "message": message, "exit_code": code}
    return {
        "user": result.user,
        "ok": result.ok,
        "error": error,
        "accounts": [
            {
                **accounts_json([(a.account, a.balance)])[0],
                "transactions": [t for t in a.transactions],
            }
            for a in result.accounts
        ],
        "cards": [
            {"card": c.card, "balance": c.balance, "transactions": list(c.transactions)}
            for c in result.cards
        ],
    }


def _results_table(results: list[FetchAllResult], args: argparse.Namespace) -> Table:
    ok = sum(1 for r in results if r.ok)
    out = table(f"fetch-all: {ok} of {len(results)} users ok")
    out.add_column("User", no_wrap=True)
    out.add_column("Status")
    out.add_column("Accounts", justify="right", no_wrap=True)
    out.add_column("Cards", justify="right", no_wrap=True)
    out.add_column("Transactions", justify="right", no_wrap=True)
    for r in results:
        if r.error is not None:
            message, _ = describe(r.error, _context(args, r.user))
            status = Text.assemble(("failed", "red"), f": {message}")
        else:
            status = Text("ok", style="green")
        txns = sum(len(a.transactions) for a in r.accounts) + sum(
            len(c.transactions) for c in r.cards
        )
        out.add_row(
            "-" if r.user is None else r.user,
            status,
            str(len(r.accounts)),
            str(len(r.cards)),
            str(txns),
        )
    return out
