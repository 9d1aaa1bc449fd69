"""The Session of the Payments commands (``pay``, ``payouts``, ``mandates``,
``merchant-accounts``) and of ``verify``: client credentials only (no token store), and
the signing key when the command sends signed requests."""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._secret import Secret
from ._config import ENV_SIGNING_KEY_FILE, ENV_SIGNING_KEY_ID, credentials, environment
from ._errors import USAGE, CliError

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["payments_session", "signing_key"]

#: A signing key file is a PEM of a few hundred bytes; refuse to read anything huge.
_MAX_KEY_FILE = 64 * 1024


@asynccontextmanager
async def payments_session(
    args: argparse.Namespace, *, signed: bool, signed_what: str = "payments"
) -> AsyncIterator[Session]:
    """An open Session for the flags' client and environment; with ``signed`` it carries
    the signing key of ``--signing-key-id``/``--signing-key-file`` (or their variables),
    which must then be given (``signed_what`` names the requests in that error)."""
    from ..session import Session

    client_id, secret = credentials(args)
    keys: dict[str, Any] = {}
    if signed:
        key_id, pem = signing_key(args, what=signed_what)
        keys = {"signing_key_id": key_id, "signing_private_key": pem}
    async with Session(client_id, secret, environment=environment(args), **keys) as tl:
        yield tl


def signing_key(args: argparse.Namespace, *, what: str = "payments") -> tuple[str, Secret]:
    """The signing key id and the private key PEM, from the flags or the environment;
    ``what`` names the signed requests in the error when they are missing."""
    key_id = args.signing_key_id or os.environ.get(ENV_SIGNING_KEY_ID)
    key_file = args.signing_key_file or os.environ.get(ENV_SIGNING_KEY_FILE)
    missing = [
        f"--signing-key-id or ${ENV_SIGNING_KEY_ID}" if not key_id else "",
        f"--signing-key-file or ${ENV_SIGNING_KEY_FILE}" if not key_file else "",
    ]
    if not key_id or not key_file:
        raise CliError(
            f"{what} must be signed: give the key id TrueLayer Console shows and the "
            f"EC P-521 private key file ({' and '.join(m for m in missing if m)} missing)",
            USAGE,
        )
    path = Path(key_file).expanduser()
    try:
        if path.stat().st_size > _MAX_KEY_FILE:
            raise CliError(f"{path} is too large to be a signing key (a PEM file)", USAGE)
        pem = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
        raise CliError(f"cannot read the signing key file {path}: {reason}", USAGE) from None
    if "PRIVATE KEY-----" not in pem:
        raise CliError(f"{path} holds no PEM private key (-----BEGIN … PRIVATE KEY-----)", USAGE)
    return key_id, Secret(pem)
