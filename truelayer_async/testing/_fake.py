"""``FakeTrueLayer``: the emulator application and its control surface."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import anyio
import httpx
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._resource import AsyncResource
from ..config import Environment
from . import (
    _auth_api,
    _control,
    _data_routes,
    _data_v3,
    _dialog,
    _payments,
    _signup_plus,
    _verification,
    _verification_v3,
    _webhook_keys,
)
from ._clock import EmulatorClock, FakeClock, LiveClock
from ._constants import (
    DATA_SCOPES,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SCOPES,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FAKE_API_URL,
    FAKE_AUTH_URL,
)
from ._environment import emulator_environment, key_set_url_at
from ._faults import Faults, Rule, fault_response, path_matches
from ._ledger_drivers import LedgerDrivers
from ._personas import default_password, login, refusal
from ._records import RequestRecord, WebhookRecord
from ._responses import data_headers
from ._server import serve_in_thread as _serve_in_thread
from ._state import Connection, FakeState, RefreshReuse
from ._webhook_keys import EmulatorSigningKeys, SigningMode
from ._webhooks import DEFAULT_RETRY_DELAYS, WebhookSender

if TYPE_CHECKING:
    from ..session import Session
    from ..tokens import Token
    from ._payments._records import Payment
    from .control import EmulatorControl

__all__ = ["FakeTrueLayer"]

DAY = 86_400
#: How often a served emulator with a ``LiveClock`` applies due payment transitions.
TICK_SECONDS = 0.2
#: zlib level of gzip-encoded responses (for clients that send ``Accept-Encoding: gzip``).
GZIP_LEVEL = 1


class FakeTrueLayer(LedgerDrivers, AsyncResource):
    """A local TrueLayer: auth server, auth dialog, Data API v1 and Verification v1.

    The object is an ASGI application holding all state in memory. Auth paths (``GET /``,
    ``/dialog/…``, ``POST /connect/token``, ``DELETE /api/delete``, ``GET /api/providers``)
    and API paths (``/data/v1/…``, ``POST /connections/extend``,
    ``POST /verification/v1/verify``) do not collide and the Host header is ignored, so
    one instance serves both base URLs of ``environment``.

    Use it in-process (``http_client()``, ``session()``) or over real HTTP
    (``serve_in_thread()``, ``python -m truelayer_async.testing``). Every time-based rule
    uses ``clock`` (a ``FakeClock`` unless given a ``LiveClock``; the served CLI uses a
    ``LiveClock``, i.e. real time): codes live ``code_ttl`` seconds (5 min), access tokens
    ``access_token_ttl`` (1 h), refresh tokens die after ``refresh_token_idle_ttl`` unused
    (30 days) and consent after ``consent_ttl`` (90 days). ``refresh_token_reuse`` is
    ``"revoke"`` (default: a rotated refresh token presented again revokes the whole
    connection), ``"reject"`` or ``"grace"`` (see ``_auth_api``). Async Data requests report
    ``Running`` for ``async_running_polls`` polls.

    Webhooks are recorded in ``webhooks``; with ``deliver_webhooks=True`` each is also
    POSTed to its URI in the background, retried after ``webhook_retry_delays`` seconds
    while the receiver does not answer 2xx (``webhook_transport``: an httpx transport to
    send them through, e.g. an ``ASGITransport`` in-process). The control API under
    ``/_emulator/`` (see ``control()``) drives all of this over HTTP.

    ``async with FakeTrueLayer() as fake:`` closes the clients it made on exit (same as
    ``await fake.aclose()``; the ``async with`` comes from the SDK's ``AsyncResource``).
    """

    def __init__(
        self,
        *,
        clock: EmulatorClock | None = None,
        access_token_ttl: int = 3600,
        code_ttl: float = 300.0,
        consent_ttl: float = 90.0 * DAY,
        refresh_token_idle_ttl: float = 30.0 * DAY,
        refresh_token_reuse: RefreshReuse = "revoke",
        async_running_polls: int = 1,
        deliver_webhooks: bool = False,
        webhook_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        webhook_timeout: float = 5.0,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if refresh_token_reuse not in ("revoke", "reject", "grace"):
            raise ValueError("refresh_token_reuse must be 'revoke', 'reject' or 'grace'")
        self.clock: EmulatorClock = clock if clock is not None else FakeClock()
        self._options: dict[str, Any] = {
            "access_token_ttl": access_token_ttl,
            "code_ttl": code_ttl,
            "consent_ttl": consent_ttl,
            "refresh_token_idle_ttl": refresh_token_idle_ttl,
            "refresh_token_reuse": refresh_token_reuse,
            "async_running_polls": async_running_polls,
        }
        self._webhook_sender = WebhookSender(
            self.clock,
            enabled=deliver_webhooks,
            retry_delays=webhook_retry_delays,
            timeout=webhook_timeout,
            transport=webhook_transport,
            keys=EmulatorSigningKeys(),
            jku=lambda: self.key_set_url,
        )
        self._faults = Faults()
        self._requests: list[RequestRecord] = []
        self._clients: list[httpx.AsyncClient] = []
        #: Set while the fake is served over HTTP (``serve_in_thread`` or the CLI).
        self.base_url: str | None = None
        self._control = _control.control_app(self)
        #: Delays of the Payments v3 state machine (seconds on ``clock``); change freely.
        self.payment_timing = _payments.Timing()
        self._signing_keys = _payments.SigningKeys()
        #: How long Data v3 transaction requests stay ``pending``; change freely.
        self.data_v3_timing = _data_v3.Timing()
        self._client_signing_key: tuple[str, str] | None = None
        self._webhook_uris: dict[str, str] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._state, self._app = self._build(FakeState(self.clock, **self._options))

    def _build(self, state: FakeState) -> tuple[FakeState, ASGIApp]:
        state.on_webhook = self._webhook_sender.submit
        self._payments = _payments.PaymentsApi(
            state,
            self._signing_keys,
            self.payment_timing,
            self._webhook_uris,
            self._send_payments_webhook,
        )
        self._ahv = _verification_v3.AhvStore(
            state.clock, self.payment_timing, self._send_payments_webhook
        )
        self._data_v3 = _data_v3.V3Store(self.clock, self.data_v3_timing)
        router = Router(
            routes=[
                *_dialog.routes(state),
                *_auth_api.routes(state),
                *_data_routes.routes(state),
                *_verification.routes(state),
                *_payments.routes(self._payments),
                *_verification_v3.routes(self._payments, self._ahv),
                *_data_v3.routes(self._payments, self._data_v3),
                *_signup_plus.routes(self._payments),
                *_webhook_keys.routes(self._webhook_sender.keys),
            ],
            default=_not_found,
        )
        # Level 1, as a busy API server would (nginx's default): a fraction of level 9's
        # CPU for a body ~20 % larger; the client sees the same JSON either way.
        return state, GZipMiddleware(router, compresslevel=GZIP_LEVEL)

    def reset(self) -> None:
        """Forget every connection, code, token, task, webhook, recorded request and fault
        (``POST /_emulator/reset``). A ``LiveClock`` drops its offset (back to real
        time); a ``FakeClock`` is left where it is. Registered clients, signing keys, webhook
        URIs and ``payment_timing`` stay."""
        self._webhook_sender.cancel_all()
        if isinstance(self.clock, LiveClock):
            self.clock.reset()
        with self._state.lock:
            fresh = FakeState(self.clock, **self._options)
            fresh.clients.update(self._state.clients)
            self._state, self._app = self._build(fresh)
        self._faults.clear()
        self._requests.clear()

    # -- ASGI --------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        self._start_ticker()
        if path.startswith(_control.PREFIX):
            await self._control(scope, receive, send)
            return
        body = await _read_body(receive)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        statuses: list[int] = []
        correlation_id = str(uuid.uuid4())

        recorded = False
        fault_name: str | None = None

        async def record_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-tl-correlation-id" for k, _ in headers):
                    headers.append((b"x-tl-correlation-id", correlation_id.encode()))
                message = {**message, "headers": headers}
            elif not message.get("more_body", False):
                # Record before the client can see the end of the response.
                record(fault_name)
            await send(message)

        def record(fault: str | None) -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            self._requests.append(
                RequestRecord(
                    method=method,
                    path=path,
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=statuses[0] if statuses else None,
                    timestamp=self.clock(),
                    headers={
                        k.decode("latin-1").lower(): v.decode("latin-1")
                        for k, v in scope.get("headers", [])
                    },
                    grant_type=_grant_type(scope, body) if path == "/connect/token" else None,
                    fault=fault,
                )
            )

        delay = self._faults.delay(method, path)
        if delay > 0:
            await anyio.sleep(delay)
        rule = self._faults.take("fail", method, path)
        if rule is not None:
            fault_name = "fail_next"
            base = self._normal_headers(path, scope)
            await fault_response(rule, path, base)(scope, replay, record_send)
            record("fail_next")
            return
        if self._faults.take("drop", method, path) is not None:

            async def swallow(message: Message) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])

            await self._app(scope, replay, swallow)
            record("drop")
            await _drop_connection(send)
            return
        try:
            await self._app(scope, replay, record_send)
        finally:
            record(None)

    def _normal_headers(self, path: str, scope: Scope) -> dict[str, str]:
        """Headers a normal response on ``path`` would carry, for injected faults."""
        if not path.startswith("/data/"):
            return {}
        credentials_id = None
        for key, value in scope.get("headers", []):
            if key.lower() == b"authorization" and value[:7].lower() == b"bearer ":
                claims = self._state.signer.read(value[7:].decode("latin-1").strip())
                sub = (claims or {}).get("sub")
                if sub in self._state.connections:
                    credentials_id = str(sub)
        return data_headers(credentials_id)

    # -- clients and connections ---------------------------------------------------------

    def register_client(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: Iterable[str],
        scopes: Iterable[str] = DEFAULT_CLIENT_SCOPES,
        *,
        regulated: bool = False,
    ) -> None:
        """Register a client, or add redirect URIs to an existing one (same secret)."""
        self._state.register_client(
            client_id, client_secret, redirect_uris, scopes, regulated=regulated
        )

    def create_connection(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        username: str = "john",
        password: str | None = None,
        scopes: Iterable[str] = DATA_SCOPES,
        provider_id: str = "mock",
    ) -> dict[str, Any]:
        """Skip the dialog: connect a persona and return the token response (a dict with
        ``access_token``, ``refresh_token``, ``scope``…), exactly as ``POST /connect/token``
        would after the code exchange. For raw HTTP tests; to give a Session a user, use
        :meth:`connect`. ``password`` defaults as in :meth:`connect`; a refused persona
        raises ``ValueError`` saying why."""
        if password is None:
            password = default_password(username)
        persona = login(username, password)
        if persona is None:
            raise ValueError(f"the mock bank refuses {username!r}: {refusal(username, password)}")
        with self._state.lock:
            return self._state.create_connection(
                client_id, persona, scopes, provider_id, self.environment.auth_url
            )

    async def connect(
        self,
        session: Session,
        *,
        user: str | None = None,
        username: str = "john",
        password: str | None = None,
        scopes: Iterable[str] | None = None,
        provider_id: str = "mock",
    ) -> Token:
        """Connect a mock user to ``session`` and store the token under ``user``.

        Runs the real journey against this fake: ``session.auth.auth_link(pkce=True)``,
        the dialog and mock bank pages (``complete_consent``), ``parse_callback`` and
        ``exchange_code``; so it works for ``fake.session()`` (in-process) and for a
        Session pointed at ``serve_in_thread()`` alike. The Session must be open::

            async with fake.session() as tl:
                await fake.connect(tl, user="alice", username="john")
                accounts = await tl.data.accounts(user="alice")

        ``username``/``password`` pick the persona (see ``PERSONAS``; the password defaults
        to ``doe``, or ``error`` for ``error.<code>`` personas); ``scopes`` default to every
        Data scope. Returns the stored :class:`~truelayer_async.Token`. Raises
        ``ConsentFlowError`` when the dialog or the mock bank refuses, and ``ValueError``
        when ``session`` does not talk to this fake.
        """
        from ._connect import connect_user  # imported late: the emulator does not need the SDK

        return await connect_user(
            self,
            session,
            user=user,
            username=username,
            password=password,
            scopes=scopes,
            provider_id=provider_id,
        )

    @property
    def connections(self) -> list[Connection]:
        """Every connection made so far, oldest first (treat them as read-only)."""
        return list(self._state.connections.values())

    def connection(self, key: str) -> Connection:
        """The connection with this credentials id, or behind this access or refresh token
        (old ones too), or the newest connection of this username. Raises ``LookupError``."""
        with self._state.lock:
            found = self._state.find_connections(key)
            if not found:
                # A token, current or old: access tokens name their connection in ``sub``.
                claims = self._state.signer.read(key)
                owner = self._state.refresh_owner.get(key) or str((claims or {}).get("sub"))
                if owner in self._state.connections:
                    found = [self._state.connections[owner]]
            if not found:
                raise LookupError(f"no connection for {key!r}")
            return found[-1]

    def credentials_id(self, token: str) -> str:
        """The credentials id behind an access or refresh token (old ones too)."""
        return self.connection(token).credentials_id

    def latest_access_token(self, key: str) -> str | None:
        """The only access token currently accepted for this connection (see ``connection``)."""
        return self.connection(key).access_token

    def latest_refresh_token(self, key: str) -> str | None:
        """The only refresh token currently accepted for this connection."""
        return self.connection(key).refresh_token

    def refresh_count(self, key: str) -> int:
        """How many refresh grants the emulator answered for the connection ``key`` names
        (a credentials id, or a username's newest connection; see ``connection``).
        Raises ``LookupError``."""
        return self.connection(key).refreshes

    def revoke(self, key: str) -> int:
        """Revoke consent (as the user would at the bank) for a credentials id or for every
        connection of a username: Data calls answer 403 ``access_denied``, refresh answers
        ``invalid_grant``. Returns how many connections were revoked; raises
        ``LookupError`` when none match."""
        with self._state.lock:
            found = self._state.find_connections(key)
            if not found:
                raise LookupError(f"no connection for {key!r}")
            for connection in found:
                connection.consent_revoked = True
                connection.consent_updated_at = self.clock()
            return len(found)

    @property
    def webhooks(self) -> list[WebhookRecord]:
        """Webhooks produced for async Data requests, oldest first, with their delivery
        attempts (``deliver_webhooks=True``; otherwise nothing is sent)."""
        return self._state.webhooks

    # -- fault injection -------------------------------------------------------------------

    def fail_next(
        self,
        path: str,
        status: int,
        error: str | None = None,
        *,
        times: int | None = 1,
        description: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests (``None``: all, until
        ``clear_faults``) with ``status`` instead of handling them.

        ``path`` is exact or a prefix ending in ``*``. The body is the API's own error shape
        (auth/Data JSON, problem+json for extend and Verification, an HTML page for the
        dialog) with ``error`` (default: a typical code for the status) and
        ``description``; ``body`` (dict/list → JSON, str/bytes → as is, with
        ``content_type``) replaces it. ``headers`` are added, e.g. ``{"Retry-After": "1"}``.
        """
        self._faults.add(
            Rule(
                "fail",
                path,
                method,
                times,
                status=status,
                error=error,
                description=description,
                headers=dict(headers or {}),
                body=body,
                content_type=content_type,
            )
        )

    def add_latency(
        self, path: str, seconds: float, *, times: int | None = None, method: str | None = None
    ) -> None:
        """Sleep ``seconds`` (real time, ``anyio.sleep``) before handling matching requests;
        ``times=None`` keeps doing so until ``clear_faults``."""
        self._faults.add(Rule("latency", path, method, times, seconds=seconds))

    def drop_response_after_commit(
        self, path: str, times: int = 1, *, method: str | None = None
    ) -> None:
        """Handle the next ``times`` matching requests fully (a refresh really rotates,
        a code really gets used) and then lose the response.

        In-process (``httpx.ASGITransport``) the app raises
        ``httpx.RemoteProtocolError("Server disconnected without sending a response.")``,
        which httpx hands to the caller with the request attached. Over a real server
        (uvicorn, as run by ``serve_in_thread`` or the CLI) the TCP connection is closed
        without a byte of response, which httpx reports as the same exception.
        """
        self._faults.add(Rule("drop", path, method, times))

    def add_fault_rule(self, rule: Rule) -> None:
        """Add a rule built elsewhere (the control API builds them from JSON)."""
        self._faults.add(rule)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._faults.clear()

    # -- request log ---------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request received, oldest first (clear it with ``requests.clear()``)."""
        return self._requests

    def count(
        self,
        path: str | None = None,
        *,
        method: str | None = None,
        grant_type: str | None = None,
        status: int | None = None,
    ) -> int:
        """How many recorded requests match (``path`` exact or prefix ending in ``*``)."""
        return sum(
            1
            for r in self._requests
            if (path is None or path_matches(path, r.path))
            and (method is None or r.method == method.upper())
            and (grant_type is None or r.grant_type == grant_type)
            and (status is None or r.status == status)
        )

    @property
    def token_requests(self) -> int:
        """How many ``POST /connect/token`` requests arrived (faulted ones included)."""
        return self.count("/connect/token", method="POST")

    @property
    def stats(self) -> dict[str, int]:
        """Counts of token requests: ``token`` (all), ``authorization_code``, ``refresh``,
        ``client_credentials``; and ``data`` (requests under ``/data/v1``)."""
        return {
            "token": self.token_requests,
            "authorization_code": self.count("/connect/token", grant_type="authorization_code"),
            "refresh": self.count("/connect/token", grant_type="refresh_token"),
            "client_credentials": self.count("/connect/token", grant_type="client_credentials"),
            "data": self.count("/data/v1/*"),
        }

    # -- ways to reach it ------------------------------------------------------------------

    @property
    def environment(self) -> Environment:
        """Where the SDK should send requests: the real base URL while served, otherwise
        ``https://auth.truelayer.fake`` and ``https://api.truelayer.fake`` (in-process)."""
        return emulator_environment(self.base_url or FAKE_AUTH_URL, self.base_url or FAKE_API_URL)

    def http_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` that reaches this fake: in-process through
        ``httpx.ASGITransport`` (or over the network while served), with
        ``follow_redirects=False`` and ``base_url`` = the API URL unless overridden. The
        fake keeps track of it and ``aclose()`` closes it."""
        if self.base_url is None:
            kwargs.setdefault("transport", httpx.ASGITransport(app=self))
        kwargs.setdefault("follow_redirects", False)
        kwargs.setdefault("base_url", self.environment.api_url)
        client = httpx.AsyncClient(**kwargs)
        self._clients.append(client)
        return client

    def session(self, **kwargs: Any) -> Session:
        """A ``truelayer_async.Session`` wired to this fake.

        Defaults: the default client id/secret (override with ``client_id=`` /
        ``client_secret=``), ``redirect_uri=DEFAULT_REDIRECT_URI``,
        ``environment=self.environment``, ``http_client=self.http_client()``,
        ``clock=self.clock``, ``signing_key_id``/``signing_private_key`` =
        ``client_signing_key`` and ``sleep=self.clock.sleep``: the SDK's own waits (a 429's
        ``Retry-After``, retry back-off) move the fake clock instead of taking real time.
        Pass ``sleep=anyio.sleep`` to wait for real. The Session does not close a client
        it was given; the fake does, in ``aclose()``.
        """
        from ..session import Session  # imported late: the emulator does not need the SDK

        client_id = kwargs.pop("client_id", DEFAULT_CLIENT_ID)
        client_secret = kwargs.pop("client_secret", DEFAULT_CLIENT_SECRET)
        kwargs.setdefault("redirect_uri", DEFAULT_REDIRECT_URI)
        kwargs.setdefault("environment", self.environment)
        kwargs.setdefault("clock", self.clock)
        kwargs.setdefault("sleep", self.clock.sleep)
        if "signing_key_id" not in kwargs and "signing_private_key" not in kwargs:
            kwargs["signing_key_id"], kwargs["signing_private_key"] = self.client_signing_key
        if "http_client" not in kwargs:
            kwargs["http_client"] = self.http_client()
        return Session(client_id, client_secret, **kwargs)

    # -- Payments v3 ----------------------------------------------------------------------

    def register_signing_key(
        self, key_id: str, public_pem: str, *, client_id: str = DEFAULT_CLIENT_ID
    ) -> None:
        """Accept ``Tl-Signature``s made with this EC P-521 key (``kid`` = ``key_id``) on
        ``client_id``'s Payments requests (``POST /_emulator/signing-keys``). Raises
        ``ValueError`` for anything but a P-521 public key in PEM."""
        self._signing_keys.register(client_id, key_id, public_pem)

    @property
    def client_signing_key(self) -> tuple[str, str]:
        """``(key_id, private_pem)``: a P-521 key made on first use and registered for the
        default client; ``session()`` signs with it unless told otherwise."""
        if self._client_signing_key is None:
            from cryptography.hazmat.primitives import serialization

            from ._webhook_keys import _new_key, _pem

            _, key = _new_key()
            key_id = f"client-{uuid.uuid4()}"
            public = key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            self.register_signing_key(key_id, public.decode())
            self._client_signing_key = (key_id, _pem(key))
        return self._client_signing_key

    def allow_return_uris(self, *uris: str, client_id: str = DEFAULT_CLIENT_ID) -> None:
        """Turn on ``client_id``'s Console allow-list of Payments return URIs and add
        ``uris`` to it (``POST /_emulator/return-uris``). Until then any ``return_uri`` is
        accepted; from then on a hosted page's, a flow's or a payment link's
        ``return_uri`` must be one of these or one of the client's redirect URIs (400
        ``Invalid Parameters`` from the API, an error page from a hosted page)."""
        with self._state.lock:
            client = self._state.clients.get(client_id)
            if client is None:
                raise ValueError(f"no client {client_id!r}: register_client first")
            client.allow_return_uris(uris)

    def set_webhook_uri(self, uri: str, *, client_id: str = DEFAULT_CLIENT_ID) -> None:
        """Where ``client_id``'s Payments webhooks go (one URI per client, as in Console);
        each is recorded in ``webhooks`` and POSTed there, signed
        (``POST /_emulator/webhook-uri``)."""
        self._webhook_uris[client_id] = uri

    def authorize_payment(
        self,
        payment_id: str,
        outcome: _payments.Outcome = "executed",
        *,
        execution_delay: float | None = None,
        settlement_delay: float | None = None,
    ) -> str:
        """Answer for the bank, as the mock bank page would: ``"executed"``,
        ``"authorization_failed"``, ``"execution_rejected"`` or ``"canceled"`` (the
        user's Cancel). The payment must be ``authorization_required`` or ``authorizing``;
        later steps follow on the clock (``payment_timing``, or the delays given). Returns
        the payment's status now. Raises ``LookupError``/``ValueError``."""
        with self._state.lock:
            payment = self._payment(payment_id)
            self._payments.store.decide(
                payment,
                outcome,
                execution_delay=execution_delay,
                settlement_delay=settlement_delay,
            )
            return payment.status

    def connect_data_v3(
        self,
        scopes: Sequence[str] = ("info", "accounts", "balance", "transactions"),
        *,
        username: str = "john",
        password: str | None = None,
        bulk_transactions: int = 0,
        client_id: str = DEFAULT_CLIENT_ID,
    ) -> str:
        """A Data v3 connection already authorised by a persona, as if the user had
        finished the hosted journey; returns its id (the ``Connection-Id``).
        ``bulk_transactions`` adds that many synthetic transactions to the first account,
        newest first (for paging tests). Raises ``ValueError`` for refused credentials."""
        persona = login(username, password or default_password(username))
        if persona is None:
            raise ValueError(refusal(username, password or default_password(username)))
        with self._state.lock:
            connection = self._data_v3.create(client_id, tuple(scopes), None)
            self._data_v3.authorise(connection, persona, bulk=bulk_transactions)
            return connection.id

    @property
    def payment_ids(self) -> list[str]:
        """The id of every payment made so far (API, hosted page or link), oldest first."""
        with self._state.lock:
            return list(self._payments.store.payments)

    def payment_status(self, payment_id: str) -> str:
        """A payment's status, after applying the transitions due on the clock."""
        with self._state.lock:
            return self._payment(payment_id).status

    def _payment(self, payment_id: str) -> Payment:
        payment = self._payments.store.find(payment_id)
        if payment is None:
            raise LookupError(f"no payment {payment_id!r}")
        return payment

    def fail_refund(self, payment_id: str, refund_id: str, reason: str = "returned") -> None:
        """Make a refund fail: a pending or authorized one fails when it would execute, an
        executed one fails now (the receiving bank returned it)."""
        with self._state.lock:
            payment = self._payments.store.find(payment_id)
            refund = (
                next((r for r in payment.refunds if r.id == refund_id), None) if payment else None
            )
            if payment is None or refund is None:
                raise LookupError(f"no refund {refund_id!r} of payment {payment_id!r}")
            if refund.status == "executed":
                self._payments.store.fail_refund(payment, refund, reason)
            else:
                refund.fail_with = reason

    @property
    def payment_processing_delay(self) -> float:
        """Real seconds an idempotent Payments request holds its key before it is handled
        (0): set it to send a second request while the first is in progress (409)."""
        return self._payments.processing_delay

    @payment_processing_delay.setter
    def payment_processing_delay(self, seconds: float) -> None:
        self._payments.processing_delay = seconds

    def advance(self, seconds: float) -> float:
        """Move the clock forward and apply what became due (payment, refund and payout
        transitions, link expiry, sweeps, with their webhooks). Returns the new time."""
        now = self.clock.advance(seconds)
        self._apply_due()
        return now

    def _apply_due(self) -> None:
        """Apply the payment, refund, payout and verification transitions due on the clock."""
        with self._state.lock:
            self._payments.store.tick()
            self._ahv.tick()

    def _start_ticker(self) -> None:
        """With a ``LiveClock`` on asyncio (served), apply due payment transitions in the
        background too, so webhooks go out without anyone polling."""
        if not isinstance(self.clock, LiveClock):
            return
        if self._ticker is not None and not self._ticker.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not asyncio (trio): transitions still apply on each read
            return
        self._ticker = loop.create_task(self._tick_forever())

    async def _tick_forever(self) -> None:
        while True:
            await anyio.sleep(TICK_SECONDS)
            self._apply_due()

    def _send_payments_webhook(self, client_id: str, payload: dict[str, Any]) -> None:
        uri = self._webhook_uris.get(client_id, "")
        record = WebhookRecord(uri, payload, signing="valid")
        self._state.webhooks.append(record)
        if uri:
            self._webhook_sender.submit(record, force=True)

    # -- signed webhooks (Payments v3 and later) -----------------------------------------

    @property
    def key_set_url(self) -> str:
        """The emulator's webhook key set (``jku``): ``{api_url}/.well-known/jwks``. A
        Session made by ``session()`` allow-lists exactly this URL."""
        return key_set_url_at(self.base_url or FAKE_API_URL)

    @property
    def webhook_keys(self) -> EmulatorSigningKeys:
        """The signing keys (``rotate()`` makes a new current key; old ones stay published)."""
        return self._webhook_sender.keys

    def signed_webhook(
        self, uri: str, payload: Mapping[str, Any], *, signing: SigningMode = "valid"
    ) -> tuple[dict[str, str], bytes]:
        """The headers and body the emulator would POST to ``uri`` now, signed per
        ``signing`` (``"valid"``, or ``"forged"``, ``"stale"``, ``"unknown_kid"``,
        ``"tampered"``, ``"bad_jku"``, ``"wrong_alg"``, ``"unsigned"``)."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        return self._webhook_sender.request(uri, body, self.clock(), signing)

    def send_webhook(
        self, uri: str, payload: Mapping[str, Any], *, signing: SigningMode = "valid"
    ) -> WebhookRecord:
        """Record a v3 webhook and deliver it to ``uri`` in the background (even with
        ``deliver_webhooks=False``), signed per ``signing``; attempts land on the record."""
        record = WebhookRecord(uri, dict(payload), signing=signing)
        with self._state.lock:
            self._state.webhooks.append(record)
        self._webhook_sender.submit(record, force=True)
        return record

    def control(self) -> EmulatorControl:
        """An :class:`~truelayer_async.testing.EmulatorControl` for this fake's control API,
        through ``http_client()`` (in-process, or over HTTP while served); ``aclose()``
        closes its client."""
        from .control import EmulatorControl

        return EmulatorControl(self.environment.api_url, http_client=self.http_client())

    async def aclose(self) -> None:
        """Close every client made by ``http_client()`` / ``session()`` / ``control()``
        and stop webhook deliveries still in progress."""
        self._webhook_sender.cancel_all()
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            with suppress(RuntimeError):  # its loop (a served thread's) may be closed
                ticker.get_loop().call_soon_threadsafe(ticker.cancel)
        clients, self._clients = self._clients, []
        for client in clients:
            await client.aclose()

    @contextmanager
    def serve_in_thread(
        self, host: str = "127.0.0.1", port: int = 0, *, timeout: float = 10.0
    ) -> Iterator[str]:
        """Serve over real HTTP (uvicorn on a background thread); yields the base URL.

        Only loopback hosts are accepted. While it runs, ``base_url`` is set, so
        ``environment`` and ``http_client()`` use the network.
        """
        with _serve_in_thread(self, host, port, timeout=timeout) as url:
            previous, self.base_url = self.base_url, url
            try:
                yield url
            finally:
                self.base_url = previous


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _grant_type(scope: Scope, body: bytes) -> str | None:
    content_type = ""
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-type":
            content_type = value.decode("latin-1").lower()
    try:
        if "json" in content_type:
            parsed = json.loads(body)
            value = parsed.get("grant_type") if isinstance(parsed, dict) else None
            return value if isinstance(value, str) else None
        return dict(parse_qsl(body.decode("utf-8"))).get("grant_type")
    except (ValueError, UnicodeDecodeError):
        return None


async def _drop_connection(send: Send) -> None:
    """Lose the response: close the socket under uvicorn, else raise what httpx raises."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(cycle, "disconnected"):
        transport.close()
        # Wait for uvicorn to notice, so it does not try to send a 500 of its own.
        with anyio.move_on_after(1.0):
            # uvicorn offers no event for this, so poll.
            while not getattr(cycle, "disconnected", True):  # noqa: ASYNC110
                await anyio.sleep(0.001)
        return
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        {"error": "not_found", "error_description": "No such endpoint in the emulator."}, 404
    )
    await response(scope, receive, send)
