"""The Session of the Payments commands (``pay``, ``payouts``, ``mandates``,
``merchant-accounts``) and of ``verify``: client credentials only (no token store), and
the signing key when the command sends signed requests."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ._config import credentials, environment

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["payments_session"]


@asynccontextmanager
async def payments_session(
    args: argparse.Namespace, *, signed: bool, signed_what: str = "payments"
) -> AsyncIterator[Session]:
    """An open Session for the flags' client and environment; with ``signed`` it carries
    the signing key of ``--signing-key-id``/``--signing-key-file`` (or their variables),
    which must then be given (``signed_what`` names the requests in that error)."""
    from ..session import Session
    from ._pay import signing_key

    client_id, secret = credentials(args)
    keys: dict[str, Any] = {}
    if signed:
        key_id, pem = signing_key(args, what=signed_what)
        keys = {"signing_key_id": key_id, "signing_private_key": pem}
    async with Session(client_id, secret, environment=environment(args), **keys) as tl:
        yield tl
