"""Where the CLI finds its credentials, its environment and its token store."""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .._secret import Secret
from ..config import Environment
from ..errors import NoTokenError
from ..testing._environment import emulator_environment  # cheap: no Starlette
from ._errors import USAGE, CliError

if TYPE_CHECKING:
    from ..session import Session
    from ..stores import TokenStore

__all__ = [
    "ENV_API_URL",
    "ENV_AUTH_URL",
    "ENV_CLIENT_ID",
    "ENV_CLIENT_SECRET",
    "ENV_ENVIRONMENT",
    "ENV_SIGNING_KEY_FILE",
    "ENV_SIGNING_KEY_ID",
    "ENV_STORE",
    "LISTEN_PORT",
    "LISTEN_URL",
    "MERCHANT_TRANSACTION_DAYS",
    "WEBHOOK_PATH",
    "credentials",
    "default_providers",
    "default_store_path",
    "environment",
    "open_session",
    "open_store",
    "store_path",
    "where_flags",
]

ENV_CLIENT_ID = "TRUELAYER_CLIENT_ID"
ENV_CLIENT_SECRET = "TRUELAYER_CLIENT_SECRET"
ENV_ENVIRONMENT = "TRUELAYER_ENVIRONMENT"
ENV_STORE = "TRUELAYER_ASYNC_STORE"
ENV_AUTH_URL = "TRUELAYER_AUTH_URL"
ENV_API_URL = "TRUELAYER_API_URL"
#: The Payments signing key (``pay``): its Console key id and its private key PEM file.
ENV_SIGNING_KEY_ID = "TRUELAYER_SIGNING_KEY_ID"
ENV_SIGNING_KEY_FILE = "TRUELAYER_SIGNING_KEY_FILE"

#: Where ``webhooks listen`` listens and ``webhooks trigger`` sends by default.
LISTEN_PORT = 8790
WEBHOOK_PATH = "/webhooks/truelayer"
LISTEN_URL = f"http://127.0.0.1:{LISTEN_PORT}{WEBHOOK_PATH}"
#: The default window of `merchant-accounts transactions`: 30 days, today included.
MERCHANT_TRANSACTION_DAYS = 30

#: Flags that choose the server, the client or the store, repeated in every hint so that
#: a pasted hint reaches the same place (never --client-secret: hints are printed).
_WHERE_FLAGS = (
    ("environment", "--environment"),
    ("auth_url", "--auth-url"),
    ("api_url", "--api-url"),
    ("client_id", "--client-id"),
    ("store", "--store"),
)

#: Providers offered by the auth dialog: the mock bank only exists in the sandbox.
_PROVIDERS = {
    "sandbox": "uk-cs-mock uk-ob-all uk-oauth-all",
    "production": "uk-ob-all uk-oauth-all",
}


def default_store_path() -> Path:
    """``$TRUELAYER_ASYNC_STORE``, else ``$XDG_CONFIG_HOME`` (or ``~/.config``)
    ``/truelayer-async/tokens.db``."""
    override = os.environ.get(ENV_STORE)
    if override:
        return Path(override).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "truelayer-async" / "tokens.db"


def store_path(args: argparse.Namespace) -> Path:
    """The token store file: ``--store``, else the default."""
    given: str | None = getattr(args, "store", None)
    return Path(given).expanduser() if given else default_store_path()


def environment(args: argparse.Namespace) -> Environment:
    """Where to talk to. Flags beat variables: ``--auth-url``/``--api-url``, else
    ``--environment``, else ``$TRUELAYER_AUTH_URL``/``$TRUELAYER_API_URL``, else
    ``$TRUELAYER_ENVIRONMENT``, else the sandbox."""
    flag_env: str | None = getattr(args, "environment", None)
    auth_url: str | None = getattr(args, "auth_url", None)
    api_url: str | None = getattr(args, "api_url", None)
    if not auth_url and not flag_env:
        auth_url = os.environ.get(ENV_AUTH_URL) or None
    if not api_url and not flag_env:
        api_url = os.environ.get(ENV_API_URL) or None
    if api_url and not auth_url:
        raise CliError(
            f"--api-url needs --auth-url too (and {ENV_API_URL} needs {ENV_AUTH_URL})", USAGE
        )
    if auth_url:
        # Another server is an emulator (``fake-server``): its hosted pages and webhook
        # key set are at its API URL.
        return emulator_environment(auth_url, api_url or auth_url, name="custom")
    name = flag_env or os.environ.get(ENV_ENVIRONMENT) or "sandbox"
    if name == "production":
        return Environment.PRODUCTION
    if name == "sandbox":
        return Environment.SANDBOX
    raise CliError(f"{ENV_ENVIRONMENT} must be 'sandbox' or 'production', not {name!r}", USAGE)


def where_flags(args: argparse.Namespace | None) -> tuple[str, ...]:
    """The flags the user gave that choose the server, the client and the store, to be
    repeated in hints (see :func:`~._errors.hint_command`)."""
    words: list[str] = []
    for attribute, flag in _WHERE_FLAGS:
        value = None if args is None else getattr(args, attribute, None)
        if value:
            words += [flag, str(value)]
    return tuple(words)


def default_providers(env: Environment) -> str:
    """The auth link's ``providers``: the mock bank too, except in production."""
    return _PROVIDERS["production" if env.name == "production" else "sandbox"]


def credentials(args: argparse.Namespace) -> tuple[str, Secret]:
    """The client id and secret from ``--client-id``/``--client-secret`` or the environment."""
    client_id: str | None = getattr(args, "client_id", None) or os.environ.get(ENV_CLIENT_ID)
    secret: str | None = getattr(args, "client_secret", None) or os.environ.get(ENV_CLIENT_SECRET)
    if not client_id:
        raise CliError(f"no client id: set {ENV_CLIENT_ID} or pass --client-id", USAGE)
    if not secret:
        raise CliError(
            f"no client secret: set {ENV_CLIENT_SECRET} (preferred) or pass --client-secret",
            USAGE,
        )
    return client_id, Secret(secret)


def open_store(path: Path, *, create: bool) -> TokenStore:
    """The persistent token store at ``path``.

    With ``create=False`` a missing file means nothing was ever stored there, which is
    reported as :class:`NoTokenError` without creating the file.
    """
    if not create and not path.exists():
        raise NoTokenError(f"no token store at {path}")
    from ..stores import SqliteTokenStore

    store: TokenStore = SqliteTokenStore(path)
    return store


@asynccontextmanager
async def open_session(
    args: argparse.Namespace, *, create_store: bool = False, redirect_uri: str | None = None
) -> AsyncIterator[Session]:
    """An open Session for the CLI's credentials, environment and token store."""
    from ..session import Session

    client_id, secret = credentials(args)
    env = environment(args)
    store = open_store(store_path(args), create=create_store)
    async with Session(
        client_id, secret, redirect_uri=redirect_uri, environment=env, token_store=store
    ) as tl:
        yield tl
