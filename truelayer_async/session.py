"""The Session: one AsyncClient, one event loop, and the services that share them."""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel

from ._http import Requester, aclose_client, create_client
from ._secret import Secret
from .config import Environment, RetryPolicy, Timeouts
from .errors import ConfigurationError, EventLoopMismatchError, SessionClosedError
from .services.auth import AuthService
from .services.data import DataService
from .services.verification import VerificationService
from .stores import MemoryTokenStore, TokenStore
from .tokens import DEFAULT_LEEWAY
from .webhooks import WebhookService

if TYPE_CHECKING:
    import httpx

__all__ = ["Session"]

#: Seconds ``aclose()`` waits for token flights beyond the token timeout.
FLIGHT_DRAIN_MARGIN = 5.0


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class Session:
    """A connection to TrueLayer for one application (client id), serving any number of users.

    Use it as an async context manager; it opens one ``httpx.AsyncClient`` that every
    service shares and closes it on exit::

        async with Session(client_id, client_secret, redirect_uri=...) as tl:
            link = tl.auth.auth_link(scopes=DATA_SCOPES, pkce=True)
            ...
            accounts = await tl.data.accounts(user="alice")

    Args:
        client_id: your TrueLayer client id.
        client_secret: your client secret (kept in a redacted :class:`Secret`).
        redirect_uri: the default redirect URI for auth links and code exchange.
        environment: ``Environment.SANDBOX`` (default), ``Environment.PRODUCTION`` or a
            custom one.
        token_store: where tokens live; defaults to a :class:`MemoryTokenStore`.
        http_client: an ``httpx.AsyncClient`` to use instead of creating one. It is left
            open on exit; it should not follow redirects.
        timeout: a :class:`Timeouts`, or a number of seconds used as the total deadline of
            each logical call (retries included).
        max_retries: how many times a failed request is retried (default 2).
        retry_policy: the full retry policy; overrides ``max_retries``.
        clock: returns the time in unix seconds; used for token expiry and Retry-After.
        sleep: awaited between retries; defaults to ``anyio.sleep``.
        leeway: seconds before expiry at which a token counts as expired (default 60, or
            half the lifetime of short tokens).

    A Session belongs to the event loop that opened it; using it from another loop raises
    :class:`EventLoopMismatchError`.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str | Secret,
        *,
        redirect_uri: str | None = None,
        environment: Environment = Environment.SANDBOX,
        token_store: TokenStore | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float | Timeouts | None = None,
        max_retries: int = 2,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        leeway: float = DEFAULT_LEEWAY,
    ) -> None:
        if not client_id or not isinstance(client_id, str):
            raise ConfigurationError("client_id must be a non-empty string")
        secret = Secret.of(client_secret)
        if not secret:
            raise ConfigurationError("client_secret must be a non-empty string")
        if not isinstance(environment, Environment):
            raise ConfigurationError("environment must be an Environment")
        if max_retries < 0:
            raise ConfigurationError("max_retries must be >= 0")
        self.client_id = client_id
        self.client_secret = secret
        self.redirect_uri = redirect_uri
        self.environment = environment
        self.token_store: TokenStore = (
            token_store if token_store is not None else MemoryTokenStore()
        )
        self.timeouts = Timeouts.coerce(timeout)
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.clock: Callable[[], float] = clock or time.time
        self.leeway = leeway
        self.sleep: Callable[[float], Awaitable[None]] = sleep or anyio.sleep
        self._given_client = http_client
        self._requester: Requester | None = None
        self._loop: anyio.lowlevel.EventLoopToken | None = None
        self._asyncio_loop: asyncio.AbstractEventLoop | None = None
        self._state = _State.UNOPENED
        self.auth = AuthService(self)
        self.data = DataService(self)
        self.verification = VerificationService(self)
        self.webhooks = WebhookService(self)

    def __repr__(self) -> str:
        return (
            f"Session(client_id={self.client_id!r}, environment={self.environment.name!r}, "
            f"state={self._state.value})"
        )

    @property
    def is_open(self) -> bool:
        """Whether the Session is open for requests."""
        return self._state is _State.OPEN

    async def open(self) -> None:
        """Open the Session (``async with`` calls this). A Session opens once."""
        if self._state is _State.OPEN:
            raise SessionClosedError("this Session is already open; enter it only once")
        if self._state is _State.CLOSED:
            raise SessionClosedError("this Session is closed; create a new one")
        self._loop = anyio.lowlevel.current_token()
        # On asyncio the token wraps the running loop; keep it for _check_loop's fast path.
        running = asyncio._get_running_loop()
        self._asyncio_loop = running if self._loop.native_token is running else None
        client = self._given_client or create_client(self.timeouts)
        self._requester = Requester(
            client,
            timeouts=self.timeouts,
            retry_policy=self.retry_policy,
            clock=self.clock,
            sleep=self.sleep,
        )
        self._state = _State.OPEN

    async def aclose(self) -> None:
        """Close the Session and the AsyncClient it created. Safe to call twice."""
        if self._state is not _State.OPEN:
            if self._state is not _State.CLOSING:  # a concurrent aclose() is draining
                self._state = _State.CLOSED
            return
        self._check_loop()
        # Token operations in flight (a refresh whose answer is on its way) finish and
        # store their result first, within a bound; new calls are refused meanwhile.
        self._state = _State.CLOSING
        await self.auth.tokens.drain(self.timeouts.token + FLIGHT_DRAIN_MARGIN)
        self._state = _State.CLOSED
        requester, self._requester = self._requester, None
        if requester is not None:
            requester.close()  # calls waiting to retry end with SessionClosedError
        if requester is not None and self._given_client is None:
            await aclose_client(requester.client)

    async def __aenter__(self) -> Session:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _check_loop(self) -> None:
        # Fast path (every request runs this): on asyncio, the running loop being the
        # loop this Session opened in is what the token comparison below establishes,
        # at a tenth of its cost. Anything else (trio, another loop) takes the full check.
        # asyncio._get_running_loop is in asyncio.events.__all__; unlike the public
        # get_running_loop it returns None outside a loop instead of raising.
        if self._asyncio_loop is not None and asyncio._get_running_loop() is self._asyncio_loop:
            return
        if anyio.lowlevel.current_token() != self._loop:
            raise EventLoopMismatchError(
                "this Session was opened in a different event loop; a Session belongs to "
                "the loop that opened it, so create one Session per event loop"
            )

    def requester(self) -> Requester:
        """The open Session's requester (internal); raises if closed or on another loop."""
        if self._state is not _State.OPEN or self._requester is None:
            if self._state is _State.UNOPENED:
                raise SessionClosedError(
                    "this Session is not open: use `async with Session(...) as tl:`"
                )
            raise SessionClosedError("this Session is closed; create a new one")
        self._check_loop()
        return self._requester

    def flight_requester(self) -> Requester:
        """The requester for token flights (internal): also while ``aclose()`` drains them."""
        if self._state is _State.CLOSING and self._requester is not None:
            return self._requester
        return self.requester()
