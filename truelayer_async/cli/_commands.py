"""Dispatch a parsed command line to its implementation."""

from __future__ import annotations

import argparse

import anyio

from ._errors import USAGE, CliError

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Run ``args.command``; returns the exit status (errors propagate)."""
    command = args.command
    if command == "demo":
        from ._demo import run_demo

        return anyio.run(run_demo, args)
    if command == "login":
        from ._login import run_login

        return anyio.run(run_login, args)
    if command == "accounts":
        from ._data_commands import run_accounts

        return anyio.run(run_accounts, args)
    if command == "transactions":
        from ._data_commands import run_transactions

        return anyio.run(run_transactions, args)
    if command == "fetch-all":
        from ._data_commands import run_fetch_all

        return anyio.run(run_fetch_all, args)
    if command == "users":
        from ._users import run_users

        return anyio.run(run_users, args)
    if command == "logout":
        from ._users import run_logout

        return anyio.run(run_logout, args)
    if command == "pay":
        from ._pay import run_pay

        return anyio.run(run_pay, args)
    if command == "verify":
        from ._verify import run_verify

        return anyio.run(run_verify, args)
    if command == "merchant-accounts":
        from ._merchant_accounts import run_merchant_accounts

        return anyio.run(run_merchant_accounts, args)
    if command == "mandates":
        from ._mandates import run_mandates

        return anyio.run(run_mandates, args)
    if command == "payouts":
        from ._payouts import run_payouts

        return anyio.run(run_payouts, args)
    if command == "fake-server":
        from ._fake_server import run_fake_server

        return run_fake_server(args)
    if command == "webhooks":
        return _run_webhooks(args)
    raise CliError(f"unknown command {command!r}", USAGE)


def _run_webhooks(args: argparse.Namespace) -> int:
    if args.webhooks_command == "listen":
        from ._webhooks_listen import run_listen

        return anyio.run(run_listen, args)
    from ._webhooks_trigger import run_trigger

    return anyio.run(run_trigger, args)
