"""The narrow core every service is built on (the Session builds it; services never see
the Session).

A :class:`Core` holds the requester slot with its lifecycle and event-loop check, the
environment, the client's credentials, the token store, the clock, the sleep, the expiry
leeway and the :class:`TokenManager`. :meth:`Core.authorized_request` is the one path for
requests carrying a token, taken from a *token source*: a user's token
(:class:`UserToken`) or a client-credentials token (:class:`ClientToken`).
"""

from __future__ import annotations

import asyncio
import enum
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.lowlevel
import attrs

from . import errors as e
from ._error_mapping import Api, signature_refused
from ._http import (
    FormValue,
    RateGate,
    Requester,
    Response,
    aclose_client,
    create_client,
    default_transport,
)
from ._http_backend import DEFAULT_MAX_CONNECTIONS, proxy_in_environment, transport_for
from ._observe import ObservedStore, Observer
from ._raw import record
from ._request import AttemptHook
from ._retry import RetryMode
from ._secret import Secret
from ._signer import RequestSigner
from ._token_manager import TokenManager
from ._wakeups import Wakeups
from .config import Environment, RetryPolicy, Timeouts
from .services._scopes import check_scopes
from .tokens import PAYMENTS_SCOPES, Token, TokenRecord, TokenType, TokenTypeLike

if TYPE_CHECKING:
    import httpx

    from .stores import TokenStore

__all__ = ["ClientToken", "Core", "SignMode", "TokenSource", "UserToken"]

#: Seconds ``aclose()`` waits for token flights beyond the token timeout.
FLIGHT_DRAIN_MARGIN = 5.0


class State(enum.Enum):
    """Where a Session (its core) is in its life."""

    UNOPENED = "unopened"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


@attrs.frozen
class UserToken:
    """A token source: the token stored for ``user`` (a Data token unless told otherwise).

    After a 401 the token is refreshed (single flight) and the request replayed once.
    """

    user: str | None
    token_type: TokenType = TokenType.DATA


@attrs.frozen
class ClientToken:
    """A token source: the application's client-credentials token for ``scopes``.

    Fetched and cached by the core (Payments, payouts, mandates need no ``tl.auth``).
    """

    scopes: tuple[str, ...] = PAYMENTS_SCOPES
    token_type: TokenType = TokenType.PAYMENTS


TokenSource = UserToken | ClientToken

#: When a Payments request carries ``Tl-Signature``: ``"always"`` (TrueLayer requires
#: it), ``"with_client_token"`` (required only with the client-credentials token, not
#: with a resource token) or ``"never"``.
SignMode = Literal["never", "always", "with_client_token"]


class Core:
    """What services depend on. Built by :class:`~truelayer_async.Session`; internal."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: Secret,
        redirect_uri: str | None,
        environment: Environment,
        token_store: TokenStore,
        timeouts: Timeouts,
        retry_policy: RetryPolicy,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        leeway: float,
        http_client: httpx.AsyncClient | None = None,
        signer: RequestSigner | None = None,
        observer: Observer | None = None,
        http_backend: str = "httpx",
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        self.client_id = client_id
        #: Runs event hooks and feeds telemetry; ``None`` (nothing to pay) without either.
        self.observer = observer
        self.signer = signer
        #: Polls that a verified webhook about their resource ends early.
        self.wakeups = Wakeups()
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.environment = environment
        self.token_store = token_store
        #: What token operations go through: the store, timed when observed.
        self.store: TokenStore | ObservedStore = (
            token_store if observer is None else ObservedStore(token_store, observer)
        )
        self.timeouts = timeouts
        self.retry_policy = retry_policy
        self.clock = clock
        self.sleep = sleep
        self.leeway = leeway
        self._given_client = http_client
        self._http_backend = http_backend
        #: The pool size of the client the core builds (``None``: the user's own client).
        self.max_connections = None if http_client is not None else max_connections
        self._requester: Requester | None = None
        self.loop_token: anyio.lowlevel.EventLoopToken | None = None
        self._asyncio_loop: asyncio.AbstractEventLoop | None = None
        self.state = State.UNOPENED
        self.tokens = TokenManager(self)
        self._unwatch: Callable[[], None] | None = None  # stops the connection gauge

    # -- lifecycle ----------------------------------------------------------------------

    async def open(self) -> None:
        """Create the requester (and the client, unless one was given). Once only."""
        if self.state is State.OPEN:
            raise e.SessionClosedError("this Session is already open; enter it only once")
        if self.state is State.CLOSED:
            raise e.SessionClosedError("this Session is closed; create a new one")
        self.loop_token = anyio.lowlevel.current_token()
        # On asyncio the token wraps the running loop; keep it for check_loop's fast path.
        running = asyncio._get_running_loop()
        self._asyncio_loop = running if self.loop_token.native_token is running else None
        client, direct = self._given_client, None
        if client is None:
            client, direct = self._create_client()
        if self.observer is not None:
            self._unwatch = self.observer.watch_connections(client)
        self._requester = Requester(
            client,
            transport=direct,
            timeouts=self.timeouts,
            retry_policy=self.retry_policy,
            clock=self.clock,
            sleep=self.sleep,
            observer=self.observer,
        )
        self.state = State.OPEN

    def _create_client(self) -> tuple[httpx.AsyncClient, httpx.AsyncBaseTransport | None]:
        """The Session's own client, and the transport to send to directly (if any).

        None when a proxy is set in the environment on the default backend: httpx then
        builds the transports (its own and the proxies'), which only ``send`` picks."""
        pool = self.max_connections or DEFAULT_MAX_CONNECTIONS
        transport = transport_for(self._http_backend, pool)
        if transport is None and not proxy_in_environment():
            transport = default_transport(pool)
        client = create_client(self.timeouts, max_connections=pool, transport=transport)
        return client, transport

    async def aclose(self) -> None:
        """Drain token flights, then close the client the core created. Safe twice."""
        if self.state is not State.OPEN:
            if self.state is not State.CLOSING:  # a concurrent aclose() is draining
                self.state = State.CLOSED
            return
        self.check_loop()
        # Token operations in flight (a refresh whose answer is on its way) finish and
        # store their result first, within a bound; new calls are refused meanwhile.
        self.state = State.CLOSING
        try:
            await self.tokens.drain(self.timeouts.token + FLIGHT_DRAIN_MARGIN)
        finally:  # even if aclose() itself is cancelled while it waits
            self.state = State.CLOSED
            requester, self._requester = self._requester, None
            if self._unwatch is not None:
                self._unwatch()
            if requester is not None:
                requester.close()  # calls waiting to retry end with SessionClosedError
            if requester is not None and self._given_client is None:
                await aclose_client(requester.client)

    def check_loop(self) -> None:
        """``EventLoopMismatchError`` unless running on the loop that opened the core."""
        # Fast path (every request runs this): on asyncio, the running loop being the
        # loop this core opened in is what the token comparison below establishes,
        # at a tenth of its cost. Anything else (trio, another loop) takes the full check.
        # asyncio._get_running_loop is in asyncio.events.__all__; unlike the public
        # get_running_loop it returns None outside a loop instead of raising.
        if self._asyncio_loop is not None and asyncio._get_running_loop() is self._asyncio_loop:
            return
        if anyio.lowlevel.current_token() != self.loop_token:
            raise e.EventLoopMismatchError(
                "this Session was opened in a different event loop; a Session belongs to "
                "the loop that opened it, so create one Session per event loop"
            )

    def requester(self) -> Requester:
        """The open requester; raises if not open or on another loop."""
        if self.state is not State.OPEN or self._requester is None:
            if self.state is State.UNOPENED:
                raise e.SessionClosedError(
                    "this Session is not open: use `async with Session(...) as tl:`"
                )
            raise e.SessionClosedError("this Session is closed; create a new one")
        self.check_loop()
        return self._requester

    def flight_requester(self) -> Requester:
        """The requester for token flights: also while ``aclose()`` drains them."""
        if self.state is State.CLOSING and self._requester is not None:
            return self._requester
        return self.requester()

    def send(
        self, method: str, url: str, *, api: Api, operation: str = "", **options: Any
    ) -> Awaitable[Response]:
        """A request without a user token (``Requester.request`` options), recorded for
        ``with_raw_response``; ``operation`` names it (``truelayer.<api>.request``)."""
        work = self._send(method, url, api, operation, options)
        return self.observed(work, operation, method, api, None)

    async def _send(
        self, method: str, url: str, api: Api, operation: str, options: dict[str, Any]
    ) -> Response:
        response = await self.requester().request(
            method, url, api=api, operation=operation, **options
        )
        record(response)
        return response

    def observed(
        self,
        work: Awaitable[Response],
        operation: str,
        method: str,
        api: Api,
        user: str | None,
    ) -> Awaitable[Response]:
        """``work`` as it is, or inside its logical call's span when observed."""
        observer = self.observer
        if observer is None:
            return work
        name = operation or f"truelayer.{api.value}.request"
        return observer.call(name, method, api.value, user, work)

    # -- tokens -------------------------------------------------------------------------

    def client_form(self, grant_type: str) -> dict[str, FormValue]:
        """The token-endpoint form fields that authenticate this client."""
        return {
            "grant_type": grant_type,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }

    async def client_credentials(
        self,
        scopes: Iterable[str],
        token_type: TokenTypeLike = TokenType.PAYMENTS,
        *,
        replacing: Secret | None = None,
    ) -> Token:
        """An application token from the client-credentials grant, cached until it expires.

        Cached under ``(token_type, sorted scopes)``. Transient failures are retried
        (this grant has no side effects). ``replacing``: a token TrueLayer refused (401);
        a new one is fetched unless another task already replaced it.
        """
        scope_tuple = tuple(sorted(set(scopes)))
        if not scope_tuple:
            raise e.InvalidParameterError("scopes must not be empty")
        typed = TokenType(token_type)
        key = self.tokens.key(typed, None, scope_tuple)

        async def fetch(previous: TokenRecord | None) -> Token:
            form = self.client_form("client_credentials")
            form["scope"] = " ".join(scope_tuple)
            grant = await self.tokens.token_request(form, RetryMode.IDEMPOTENT)
            if grant.scopes is None:
                grant = attrs.evolve(grant, scopes=scope_tuple)
            return await self.tokens.save_grant(key, grant, typed, previous)

        if replacing is not None:
            return await self.tokens.renew(key, fetch, replacing)
        return await self.tokens.valid(key, fetch)

    async def token_for(self, source: TokenSource) -> Token:
        """The valid token of ``source`` (an expiring one is refreshed or renewed first)."""
        if type(source) is UserToken:
            return await self.tokens.valid(self.tokens.key(source.token_type, source.user))
        assert isinstance(source, ClientToken)
        return await self.client_credentials(source.scopes, source.token_type)

    def authorized_request(
        self,
        method: str,
        url: str,
        *,
        source: TokenSource,
        api: Api,
        operation: str = "",
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        retry_mode: RetryMode | None = None,
        rate_gate: RateGate | None = None,
        scopes: tuple[str, ...] = (),
        idempotency_key: str | None = None,
        on_attempt: Sequence[AttemptHook] = (),
    ) -> Awaitable[Response]:
        """Send with ``source``'s token; for a user's token, refresh and replay once on 401.

        ``operation`` names the logical call in logs, spans and event hooks (e.g.
        ``truelayer.data.accounts``); see :meth:`_authorized` for the rest. A plain
        function returning the call's coroutine: unobserved, it costs no extra frame.
        """
        work = self._authorized(
            method, url, source, api, operation, params, headers, json_body, retry_mode,
            rate_gate, scopes, idempotency_key, on_attempt,
        )  # fmt: skip
        if self.observer is None:
            return work
        user = source.user if type(source) is UserToken else None
        return self.observed(work, operation, method, api, user)

    async def _authorized(
        self,
        method: str,
        url: str,
        source: TokenSource,
        api: Api,
        operation: str = "",
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        retry_mode: RetryMode | None = None,
        rate_gate: RateGate | None = None,
        scopes: tuple[str, ...] = (),
        idempotency_key: str | None = None,
        on_attempt: Sequence[AttemptHook] = (),
    ) -> Response:
        """Send with ``source``'s token; for a user's token, refresh and replay once on 401.

        ``scopes`` are those the endpoint needs: when a user token's scopes are known and
        lack one, ``InsufficientScopeError`` is raised before anything is sent.

        Only the token the failed request used is invalidated: if another task already
        replaced it, the replay uses the newer token without a second refresh. A 401 on
        the replay raises ``UnauthenticatedError``. A client-credentials token refused
        with a 401 is replaced by a new grant and the request replayed once, unless the
        401 is about the request's signature (a new token cannot fix that).
        """
        token = await self.token_for(source)
        if scopes:
            check_scopes(token.scopes, scopes)
        requester = self.requester()

        # A plain function returning the coroutine: one coroutine frame fewer per request.
        def send(bearer_token: Secret) -> Awaitable[Response]:
            return requester.request(
                method,
                url,
                api=api,
                params=params,
                headers=headers,
                json_body=json_body,
                bearer=bearer_token,
                retry_mode=retry_mode,
                rate_gate=rate_gate,
                idempotency_key=idempotency_key,
                on_attempt=on_attempt,
                operation=operation,
            )

        try:
            response = await send(token.access_token)
        except e.ApiError as exc:
            if exc.status_code != 401 or signature_refused(exc):
                raise  # a refused signature is no token problem: no new token
        else:
            record(response)
            return response
        if type(source) is not UserToken:
            assert isinstance(source, ClientToken)
            # The cached token was refused (revoked, or expired early): one new one, one
            # replay; a second 401 is raised as it is (typed by the error table).
            token = await self.client_credentials(
                source.scopes, source.token_type, replacing=token.access_token
            )
            response = await send(token.access_token)
            record(response)
            return response
        key = self.tokens.key(source.token_type, source.user)
        token = await self.tokens.refresh(key, used=token.access_token)
        try:
            response = await send(token.access_token)
            record(response)
            return response
        except e.ApiError as exc:
            if exc.status_code != 401:
                raise
            unauthenticated = exc._retyped(e.UnauthenticatedError)
        raise unauthenticated

    # -- Payments v3 ----------------------------------------------------------------------

    def payments_request(
        self, method: str, path: str, *, operation: str = "", **options: Any
    ) -> Awaitable[Response]:
        """One Payments API v3 request (``path`` under ``environment.payments_url``).

        ``operation`` names the logical call in logs, spans and event hooks (default
        ``truelayer.payments.request``); the other options are :meth:`_payments`'s.
        """
        api: Api = options.get("api", Api.PAYMENTS)
        name = operation or f"truelayer.{api.value}.request"
        work = self._payments(method, path, operation=name, **options)
        return self.observed(work, name, method, api, None)

    async def _payments(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        scopes: tuple[str, ...] = PAYMENTS_SCOPES,
        resource_token: str | Secret | None = None,
        authenticated: bool = True,
        sign: SignMode = "never",
        idempotent: bool = False,
        idempotency_key: str | None = None,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        base_url: str | None = None,
        api: Api = Api.PAYMENTS,
    ) -> Response:
        """One Payments API v3 request (``path`` under ``environment.payments_url``, or
        under ``base_url`` for the v3-family APIs outside ``/v3``, such as Signup+).
        ``api`` is the API family answering (it picks the error classes).

        The bearer is ``resource_token`` when given, else (``authenticated``) the
        client-credentials token for ``scopes``, else none. A signed request raises
        ``ConfigurationError`` before anything is sent when the Session has no signing
        key. A signed or ``idempotent`` request carries ``Idempotency-Key``
        (``idempotency_key``, or a UUID4 made once for this call) on every attempt and
        is retried keyed: the same key and body bytes, a fresh signature each attempt.
        """
        use_client_token = resource_token is None and authenticated
        hooks: tuple[RequestSigner, ...] = ()
        if sign == "always" or (sign == "with_client_token" and use_client_token):
            if self.signer is None:
                raise e.ConfigurationError(
                    f"{method} /v3{path.split('?', 1)[0]} needs a Tl-Signature: create the "
                    "Session with signing_key_id= and signing_private_key= (the EC P-521 "
                    "key whose public half is registered in TrueLayer Console)"
                )
            hooks = (self.signer,)
            idempotent = True  # the signature must cover an Idempotency-Key
        if idempotency_key is not None:
            idempotent = True
        elif idempotent:
            idempotency_key = str(uuid.uuid4())
        url = (base_url or self.environment.payments_url) + path
        mode = RetryMode.KEYED if idempotent else None
        if use_client_token:
            return await self._authorized(
                method,
                url,
                ClientToken(scopes),
                api,
                params=params,
                headers=headers,
                json_body=json_body,
                retry_mode=mode,
                idempotency_key=idempotency_key,
                on_attempt=hooks,
                operation=operation,
            )
        response = await self.requester().request(
            method,
            url,
            api=api,
            params=params,
            headers=headers,
            json_body=json_body,
            bearer=None if resource_token is None else Secret.of(resource_token),
            retry_mode=mode,
            idempotency_key=idempotency_key,
            on_attempt=hooks,
            operation=operation,
        )
        record(response)
        return response
