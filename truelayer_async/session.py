"""The Session: one AsyncClient, one event loop, and the services that share them."""

from __future__ import annotations

import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import anyio

from ._core import FLIGHT_DRAIN_MARGIN, Core, State
from ._http import Requester
from ._http_backend import HttpBackend, check_http_options
from ._observe import observer_for
from ._resource import AsyncResource
from ._secret import Secret
from ._signer import RequestSigner
from .config import Environment, RetryPolicy, Timeouts
from .errors import ConfigurationError
from .services.auth import AuthService
from .services.data import DataService
from .services.data_v3 import DataV3Service
from .services.hosted_page import HostedPageService
from .services.mandates import MandatesService
from .services.merchant_accounts import MerchantAccountsService
from .services.payment_links import PaymentLinksService
from .services.payment_providers import PaymentsProvidersService
from .services.payments import PaymentsService
from .services.payouts import PayoutsService
from .services.signup_plus import SignupPlusService
from .services.verification import VerificationService
from .stores import MemoryTokenStore, TokenStore
from .tokens import DEFAULT_LEEWAY
from .webhooks import WebhookService

if TYPE_CHECKING:
    import httpx

    from .hooks import EventHooks, Telemetry

__all__ = ["FLIGHT_DRAIN_MARGIN", "Session"]


class Session(AsyncResource):
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
        http_backend: what the client the Session creates sends requests through:
            ``"httpx"`` (default) or ``"aiohttp"`` (the ``aiohttp`` extra; asyncio only),
            which costs far less CPU per request and is recommended for batch work.
        max_connections: the most connections the Session's client opens at once; default
            64. Connections open only as requests need them; the httpx backend keeps at
            most 20 of them idle.
        timeout: a :class:`Timeouts`, or a number of seconds used as the total deadline of
            each logical call (retries included).
        max_retries: how many times a failed request is retried (default 2).
        retry_policy: the full retry policy; overrides ``max_retries``.
        clock: returns the time in unix seconds; used for token expiry and Retry-After.
        sleep: awaited between retries; defaults to ``anyio.sleep``.
        leeway: seconds before expiry at which a token counts as expired (default 60, or
            half the lifetime of short tokens).
        signing_key_id: the ``kid`` TrueLayer Console shows for your signing key; needed
            with ``signing_private_key`` for Payments requests that must be signed.
        signing_private_key: that key's EC P-521 private key in PEM (kept in a redacted
            :class:`Secret`; loaded and checked here, so a bad key fails now). Needs the
            ``crypto`` extra.
        mandate_scopes: the client-credentials scopes of every ``tl.mandates`` call
            (e.g. ``["recurring_payments:commercial"]``, or ``["mandates"]`` as TrueLayer's
            OpenAPI document says); by default ``recurring_payments:sweeping``, and for
            ``create`` the scope of the mandate's type.

        event_hooks: callbacks run on each ``"request"``, ``"response"``, ``"retry"``
            and ``"refresh"`` (a name to a list of callables, like httpx's
            ``event_hooks``; see :mod:`truelayer_async.hooks`).
        telemetry: where spans and metrics go, e.g.
            :class:`truelayer_async.otel.OpenTelemetry` (the ``otel`` extra). Without
            hooks or telemetry, nothing is observed and nothing extra is paid.

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
        http_backend: HttpBackend = "httpx",
        max_connections: int | None = None,
        timeout: float | Timeouts | None = None,
        max_retries: int = 2,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        leeway: float = DEFAULT_LEEWAY,
        signing_key_id: str | None = None,
        signing_private_key: str | Secret | None = None,
        mandate_scopes: Sequence[str] | None = None,
        event_hooks: EventHooks | None = None,
        telemetry: Telemetry | None = None,
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
        # Only redacted Secrets stay in these frames (a bad key raises from here).
        key = None if signing_private_key is None else Secret.of(signing_private_key)
        del signing_private_key
        signer = _signer_of(signing_key_id, key)
        pool = check_http_options(http_backend, http_client, max_connections)
        self._core = Core(
            client_id=client_id,
            client_secret=secret,
            redirect_uri=redirect_uri,
            environment=environment,
            token_store=token_store if token_store is not None else MemoryTokenStore(),
            timeouts=Timeouts.coerce(timeout),
            retry_policy=retry_policy or RetryPolicy(max_retries=max_retries),
            clock=clock or time.time,
            sleep=sleep or anyio.sleep,
            leeway=leeway,
            http_client=http_client,
            http_backend=http_backend,
            max_connections=pool,
            signer=signer,
            observer=observer_for(event_hooks, telemetry),
        )
        self.auth = AuthService(self._core)
        self.data = DataService(self._core)
        self.verification = VerificationService(self._core)
        self.webhooks = WebhookService(self._core)
        self.hosted_page = HostedPageService(self._core)
        self.mandates = MandatesService(self._core, scopes=mandate_scopes)
        self.payments = PaymentsService(self._core, read_mandate=self.mandates.get)
        self.payments_providers = PaymentsProvidersService(self._core)
        self.payment_links = PaymentLinksService(self._core)
        self.payouts = PayoutsService(self._core)
        self.merchant_accounts = MerchantAccountsService(self._core)
        self.data_v3 = DataV3Service(self._core)
        self.signup_plus = SignupPlusService(self._core)

    # The settings, read-only: the core holds them.

    @property
    def client_id(self) -> str:
        """Your TrueLayer client id (read-only)."""
        return self._core.client_id

    @property
    def client_secret(self) -> Secret:
        """The client secret (redacted) (read-only)."""
        return self._core.client_secret

    @property
    def redirect_uri(self) -> str | None:
        """The default redirect URI (read-only)."""
        return self._core.redirect_uri

    @property
    def environment(self) -> Environment:
        """The TrueLayer environment (read-only)."""
        return self._core.environment

    @property
    def token_store(self) -> TokenStore:
        """Where tokens live (read-only)."""
        return self._core.token_store

    @property
    def signing_key_id(self) -> str | None:
        """The ``kid`` of the key that signs Payments requests, if any (read-only)."""
        signer = self._core.signer
        return None if signer is None else signer.key_id

    @property
    def timeouts(self) -> Timeouts:
        """The timeouts (read-only)."""
        return self._core.timeouts

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy (read-only)."""
        return self._core.retry_policy

    @property
    def clock(self) -> Callable[[], float]:
        """The clock (unix seconds) (read-only)."""
        return self._core.clock

    @property
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        """The sleep awaited between retries (read-only)."""
        return self._core.sleep

    @property
    def leeway(self) -> float:
        """The token expiry leeway in seconds (read-only)."""
        return self._core.leeway

    def __repr__(self) -> str:
        return (
            f"Session(client_id={self.client_id!r}, environment={self.environment.name!r}, "
            f"state={self._core.state.value})"
        )

    @property
    def is_open(self) -> bool:
        """Whether the Session is open for requests."""
        return self._core.state is State.OPEN

    async def open(self) -> None:
        """Open the Session (``async with`` calls this). A Session opens once."""
        await self._core.open()

    async def aclose(self) -> None:
        """Close the Session and the AsyncClient it created. Safe to call twice.

        Token operations in flight (a refresh whose answer is on its way) finish and
        store their result first, for at most ``Timeouts.token`` + 5 s.
        """
        await self._core.aclose()

    def requester(self) -> Requester:
        """Deprecated (internal since 0.2): the open Session's requester."""
        warnings.warn(
            "Session.requester() is internal and will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._core.requester()


def _signer_of(key_id: str | None, private_key: Secret | None) -> RequestSigner | None:
    """The request signer for ``Session(signing_key_id=, signing_private_key=)``."""
    if key_id is None and private_key is None:
        return None
    if key_id is None or private_key is None:
        raise ConfigurationError(
            "signing_key_id and signing_private_key go together: give both or neither"
        )
    return RequestSigner(key_id, private_key)
