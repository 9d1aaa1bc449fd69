"""``truelayer-async``: the command-line tool (the ``[cli]`` extra).

Run ``truelayer-async --help`` or ``python -m truelayer_async --help``. The exit codes
are listed in :mod:`truelayer_async.cli._errors` and in ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from ._errors import FAILURE, INTERRUPTED, OK, USAGE, CliError, ErrorContext, describe, unwrap
from ._parser import build_parser

__all__ = ["main"]

MISSING_RICH = (
    "truelayer-async: the command-line tool needs the [cli] extra: "
    "pip install 'truelayer-async[cli]'"
)
_STORE_COMMANDS = ("login", "accounts", "transactions", "fetch-all", "users", "logout")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return exc.code if isinstance(exc.code, int) else USAGE
    if args.version:
        from .. import __version__

        print(f"truelayer-async {__version__}")
        return OK
    if args.command is None:
        parser.print_help(sys.stderr)
        return USAGE
    try:
        import rich  # noqa: F401
    except ImportError:
        print(MISSING_RICH, file=sys.stderr)
        return USAGE

    from ._commands import run

    try:
        return run(args)
    except KeyboardInterrupt:
        print("truelayer-async: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as Python's docs advise.
        _silence_stdout()
        return FAILURE
    except Exception as raised:
        return _report(raised, args)


def _report(raised: Exception, args: argparse.Namespace) -> int:
    """Print one line for ``raised`` on stderr (a traceback too with --debug)."""
    from ..errors import TrueLayerError

    exc = unwrap(raised)
    if isinstance(exc, KeyboardInterrupt):
        print("truelayer-async: interrupted", file=sys.stderr)
        return INTERRUPTED
    if getattr(args, "debug", False):
        traceback.print_exception(raised)
    from ._config import store_path, where_flags

    store = str(store_path(args)) if args.command in _STORE_COMMANDS else None
    ctx = ErrorContext(
        user=getattr(args, "user", None),
        account_id=getattr(args, "account", None),
        store=store,
        flags=where_flags(args),
    )
    message, code = describe(exc, ctx)
    if not isinstance(exc, (CliError, TrueLayerError)):
        message += " (run again with --debug for a traceback)"
        code = FAILURE
    print(f"truelayer-async: error: {message}", file=sys.stderr)
    return code


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
