"""Shared by the examples: a Session on the local emulator (default) or on TrueLayer.

Every example runs top to bottom against the built-in emulator, with no setup. Set
``TRUELAYER_CLIENT_ID`` and ``TRUELAYER_CLIENT_SECRET`` (plus optionally
``TRUELAYER_ENVIRONMENT=sandbox|production`` and ``TRUELAYER_REDIRECT_URI``) to run them
against the real API instead. There is no headless consent at a real bank, so connect
users first with the command-line tool, which saves their tokens in the store the
examples read (``TRUELAYER_ASYNC_STORE`` or ``~/.config/truelayer-async/tokens.db``)::

    truelayer-async login --user alice
    python examples/batch_fetch.py --users alice,bob
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import truelayer_async as tla

if TYPE_CHECKING:
    from truelayer_async.testing import FakeTrueLayer

__all__ = ["Backend", "open_backend", "real_api_requested", "real_session", "store_path"]

#: The mock bank is only offered when asked for; the real sandbox needs it too.
PROVIDERS = "uk-cs-mock uk-ob-all uk-oauth-all"


def real_api_requested() -> bool:
    """Whether credentials for the real API are in the environment."""
    return bool(
        os.environ.get("TRUELAYER_CLIENT_ID") and os.environ.get("TRUELAYER_CLIENT_SECRET")
    )


def store_path() -> Path:
    """The token store shared with ``truelayer-async login``."""
    override = os.environ.get("TRUELAYER_ASYNC_STORE")
    if override:
        return Path(override).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "truelayer-async" / "tokens.db"


def real_session(**kwargs: Any) -> tla.Session:
    """A Session for the real API, configured from the environment."""
    from truelayer_async.stores import SqliteTokenStore

    name = os.environ.get("TRUELAYER_ENVIRONMENT", "sandbox")
    environment = tla.Environment.PRODUCTION if name == "production" else tla.Environment.SANDBOX
    kwargs.setdefault("redirect_uri", os.environ.get("TRUELAYER_REDIRECT_URI"))
    kwargs.setdefault("token_store", SqliteTokenStore(store_path()))
    return tla.Session(
        os.environ["TRUELAYER_CLIENT_ID"],
        os.environ["TRUELAYER_CLIENT_SECRET"],
        environment=environment,
        **kwargs,
    )


class Backend:
    """An open Session, and the emulator behind it when there is one (``fake``)."""

    def __init__(self, tl: tla.Session, fake: FakeTrueLayer | None) -> None:
        self.tl = tl
        self.fake = fake

    @property
    def is_emulator(self) -> bool:
        return self.fake is not None

    async def connect(self, user: str, *, username: str = "john", password: str = "doe") -> None:
        """Connect ``user`` without a browser: build the auth link, walk the emulator's
        consent pages with HTTP requests, check the state and exchange the code.

        ``username``/``password`` pick the mock bank's persona (``john1``/``doe``, ...,
        or ``error.<code>``/``error`` for a bank that fails every Data call).
        """
        if self.fake is None:
            raise RuntimeError(
                f"users cannot be connected headlessly at a real bank: "
                f"run `truelayer-async login --user {user}` first"
            )
        from truelayer_async.testing import complete_consent

        link = self.tl.auth.auth_link(scopes=tla.DATA_SCOPES, pkce=True, providers=PROVIDERS)
        result = await complete_consent(
            self.fake.http_client(), link.url, username=username, password=password
        )
        code = self.tl.auth.parse_callback(result.redirect_url, expected_state=link.state)
        await self.tl.auth.exchange_code(code, user=user, code_verifier=link.code_verifier)


@asynccontextmanager
async def open_backend(**session_kwargs: Any) -> AsyncIterator[Backend]:
    """A Backend on the real API if credentials are set, else on an in-process emulator."""
    if real_api_requested():
        async with real_session(**session_kwargs) as tl:
            yield Backend(tl, None)
        return
    from truelayer_async.testing import FakeTrueLayer

    async with FakeTrueLayer() as fake, fake.session(**session_kwargs) as tl:
        yield Backend(tl, fake)
