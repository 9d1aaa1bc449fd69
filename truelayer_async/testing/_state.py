"""The emulator's in-memory state and the OAuth rules that act on it.

Nothing here speaks HTTP: route modules parse requests, call into ``FakeState`` under
``state.lock`` and render what comes back. Rule violations raise ``OAuthError`` (token
endpoint) or ``TokenRejected`` (bearer checks).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import attrs

from ._catalog import find_provider
from ._clock import EmulatorClock
from ._constants import (
    CLIENT_CREDENTIALS_SCOPES,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SCOPES,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URIS,
    FAKE_AUTH_URL,
    LINK_SCOPES,
)
from ._data import BankData, generate
from ._fragments import EncodedTransactions
from ._personas import Persona
from ._records import WebhookRecord
from ._timefmt import from_epoch, token_expiry
from ._tokens import TokenSigner

__all__ = [
    "AuthCode",
    "AuthSession",
    "Client",
    "Connection",
    "FakeState",
    "OAuthError",
    "RefreshReuse",
    "Task",
    "TokenRejected",
]

DAY = 86_400.0
RefreshReuse = Literal["revoke", "reject", "grace"]


class OAuthError(Exception):
    """A token-endpoint error: ``{"error": ..., "error_description": ...}`` with ``status``."""

    def __init__(self, status: int, error: str, description: str | None = None) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description


class TokenRejected(Exception):
    """A bearer token was refused; ``kind`` says why.

    Kinds: ``missing``, ``invalid`` (not ours / not a user token), ``expired``,
    ``terminated`` (deleted, or revoked after code or refresh-token reuse), ``superseded``
    (a newer access token exists), ``consent_revoked``, ``consent_expired``.
    """

    def __init__(self, kind: str, description: str, *, credentials_id: str | None = None) -> None:
        super().__init__(description)
        self.kind = kind
        self.description = description
        self.credentials_id = credentials_id

    @property
    def is_consent(self) -> bool:
        """True for consent problems (403 ``access_denied``), false for 401 cases."""
        return self.kind in ("consent_revoked", "consent_expired")


@attrs.define
class Client:
    """A registered API client."""

    client_id: str
    client_secret: str = attrs.field(repr=False)
    redirect_uris: list[str]
    scopes: frozenset[str]
    #: Unregulated clients must send ``user.name`` and an email or phone to extend.
    regulated: bool = False
    #: The Console allow-list of Payments ``return_uri``s; ``None`` (the default): any
    #: absolute URI is accepted, as before the allow-list existed.
    return_uris: list[str] | None = None

    def allows_return_uri(self, uri: str) -> bool:
        """Whether ``uri`` may be a hosted page's or flow's ``return_uri``: exactly one of
        ``return_uris`` or of the redirect URIs (Console keeps one list for both), or
        anything while no allow-list is set."""
        return self.return_uris is None or uri in self.return_uris or uri in self.redirect_uris

    def allow_return_uris(self, uris: Iterable[str]) -> None:
        """Turn the allow-list on (if it is not) and add ``uris`` to it."""
        allowed = self.return_uris if self.return_uris is not None else []
        allowed.extend(u for u in uris if u not in allowed)
        self.return_uris = allowed


@attrs.define
class AuthSession:
    """One walk through the auth dialog."""

    session_id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    response_mode: str | None
    code_challenge: str | None
    offered: tuple[str, ...]
    provider_id: str | None
    language: str
    created_at: float
    step: str  # provider | login | consent | done
    persona: Persona | None = None
    login_error: str | None = None
    #: Set when the session re-authenticates an existing connection (extend).
    reauth_credentials_id: str | None = None


@attrs.define
class AuthCode:
    """An authorization code and what it is bound to."""

    code: str = attrs.field(repr=False)
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    persona: Persona
    provider_id: str
    created_at: float
    used: bool = False
    credentials_id: str | None = None
    reauth_credentials_id: str | None = None


@attrs.define
class Connection:
    """A user's connection (credentials) and its tokens.

    Treat instances returned by ``FakeTrueLayer`` as read-only.
    """

    credentials_id: str
    client_id: str
    persona: Persona
    provider_id: str
    scopes: tuple[str, ...]
    consent_id: str
    created_at: float
    consent_expires_at: float
    consent_updated_at: float
    access_token: str | None = attrs.field(default=None, repr=False)
    access_jti: str | None = None
    access_expires_at: float = 0.0
    refresh_token: str | None = attrs.field(default=None, repr=False)
    refresh_issued_at: float = 0.0
    refresh_used: bool = False
    previous_refresh_token: str | None = attrs.field(default=None, repr=False)
    #: How many refresh grants this connection was answered (each rotates its tokens).
    refreshes: int = 0
    #: Why every token of this connection is dead: deleted, code_reuse or refresh_reuse.
    terminated: str | None = None
    consent_revoked: bool = False
    last_batch: dict[str, Any] | None = None
    _data: BankData | None = attrs.field(default=None, repr=False)
    #: The bank data's transactions as JSON, each list encoded once (see ``_fragments``).
    encoded: EncodedTransactions = attrs.field(factory=EncodedTransactions, repr=False, eq=False)

    @property
    def username(self) -> str:
        return self.persona.username

    def data(self) -> BankData:
        """The persona's bank data, anchored on the day the connection was made."""
        if self._data is None:
            self._data = generate(self.persona, from_epoch(self.created_at))
        return self._data


@attrs.define
class Task:
    """An async Data API request (``?async=true``)."""

    task_id: str
    credentials_id: str
    created_at: float
    results: list[Any] | None
    error: tuple[int, str, str] | None
    completes_after_polls: int
    polls: int = 0


def _new_credentials_id() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def pkce_challenge(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without padding (RFC 7636 S256)."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class FakeState:
    """Clients, dialog sessions, codes, connections, tokens and async tasks."""

    def __init__(
        self,
        clock: EmulatorClock,
        *,
        access_token_ttl: int,
        code_ttl: float,
        consent_ttl: float,
        refresh_token_idle_ttl: float,
        refresh_token_reuse: RefreshReuse,
        async_running_polls: int,
        session_ttl: float = 1800.0,
    ) -> None:
        self.clock = clock
        self.access_token_ttl = access_token_ttl
        self.code_ttl = code_ttl
        self.consent_ttl = consent_ttl
        self.refresh_token_idle_ttl = refresh_token_idle_ttl
        self.refresh_token_reuse: RefreshReuse = refresh_token_reuse
        self.async_running_polls = async_running_polls
        self.session_ttl = session_ttl
        self.lock = threading.RLock()
        self.signer = TokenSigner()
        self.clients: dict[str, Client] = {}
        self.sessions: dict[str, AuthSession] = {}
        self.codes: dict[str, AuthCode] = {}
        self.connections: dict[str, Connection] = {}
        self.refresh_owner: dict[str, str] = {}
        self.client_tokens: dict[str, str] = {}  # jti -> client_id
        self.tasks: dict[str, Task] = {}
        self.webhooks: list[WebhookRecord] = []
        #: Called with each new webhook (the emulator delivers it from there).
        self.on_webhook: Callable[[WebhookRecord], None] = _ignore
        self.register_client(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URIS)

    # -- clients -------------------------------------------------------------------------

    def register_client(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: Iterable[str],
        scopes: Iterable[str] = DEFAULT_CLIENT_SCOPES,
        *,
        regulated: bool = False,
    ) -> Client:
        with self.lock:
            existing = self.clients.get(client_id)
            if existing is not None:
                if not secrets.compare_digest(existing.client_secret, client_secret):
                    raise ValueError(f"client {client_id!r} exists with a different secret")
                for uri in redirect_uris:
                    if uri not in existing.redirect_uris:
                        existing.redirect_uris.append(uri)
                return existing
            client = Client(
                client_id, client_secret, list(redirect_uris), frozenset(scopes), regulated
            )
            self.clients[client_id] = client
            return client

    def authenticate_client(self, client_id: str, client_secret: str) -> Client:
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(
            client.client_secret.encode(), client_secret.encode()
        ):
            raise OAuthError(400, "invalid_client", "Client authentication failed.")
        return client

    # -- dialog --------------------------------------------------------------------------

    def new_session(self, **fields: Any) -> AuthSession:
        session = AuthSession(
            session_id="auth-" + secrets.token_urlsafe(24), created_at=self.clock(), **fields
        )
        self.sessions[session.session_id] = session
        return session

    def live_session(self, session_id: str) -> AuthSession | None:
        session = self.sessions.get(session_id)
        if session is None or self.clock() - session.created_at > self.session_ttl:
            return None
        return session

    def issue_code(self, session: AuthSession) -> AuthCode:
        assert session.persona is not None and session.provider_id is not None
        code = AuthCode(
            code=secrets.token_urlsafe(32),
            client_id=session.client_id,
            redirect_uri=session.redirect_uri,
            scopes=session.scopes,
            code_challenge=session.code_challenge,
            persona=session.persona,
            provider_id=session.provider_id,
            created_at=self.clock(),
            reauth_credentials_id=session.reauth_credentials_id,
        )
        self.codes[code.code] = code
        return code

    # -- grants --------------------------------------------------------------------------

    def exchange_code(
        self, client: Client, code_value: str, redirect_uri: str, verifier: str | None, issuer: str
    ) -> dict[str, Any]:
        code = self.codes.get(code_value)
        if code is None:
            raise OAuthError(400, "invalid_grant", "The authorization code is not valid.")
        if code.used:
            # RFC 6749 §4.1.2: revoke what the first exchange produced.
            if code.credentials_id in self.connections:
                self.connections[code.credentials_id].terminated = "code_reuse"
            raise OAuthError(400, "invalid_grant", "The authorization code was already used.")
        if self.clock() - code.created_at > self.code_ttl:
            raise OAuthError(400, "invalid_grant", "The authorization code has expired.")
        if code.client_id != client.client_id:
            raise OAuthError(400, "invalid_grant", "The code was issued to another client.")
        if code.redirect_uri != redirect_uri:
            raise OAuthError(400, "invalid_grant", "redirect_uri does not match the auth link.")
        if code.code_challenge is None and verifier is not None:
            raise OAuthError(400, "invalid_grant", "code_verifier sent but no code_challenge was.")
        if code.code_challenge is not None:
            if verifier is None:
                raise OAuthError(400, "invalid_grant", "code_verifier is required (PKCE).")
            if not secrets.compare_digest(pkce_challenge(verifier), code.code_challenge):
                raise OAuthError(400, "invalid_grant", "code_verifier does not match.")
        code.used = True
        connection = self.connections.get(code.reauth_credentials_id or "")
        if connection is not None and connection.terminated is None:
            # Re-authentication of an existing connection (extend): renew its consent.
            now = self.clock()
            connection.consent_expires_at = now + self.consent_ttl
            connection.consent_updated_at = now
            connection.consent_revoked = False
        else:
            connection = self._new_connection(
                client.client_id, code.persona, code.provider_id, code.scopes
            )
        code.credentials_id = connection.credentials_id
        return self.issue_tokens(connection, issuer)

    def refresh(self, client: Client, refresh_token: str, issuer: str) -> dict[str, Any]:
        connection = self.use_refresh_token(client.client_id, refresh_token)
        tokens = self.issue_tokens(connection, issuer)
        connection.refreshes += 1
        return tokens

    def use_refresh_token(
        self, client_id: str, refresh_token: str, *, extending: bool = False
    ) -> Connection:
        """Validate a refresh token before rotation; raises ``OAuthError(invalid_grant)``.

        Presenting a rotated token applies the reuse policy. With ``extending`` (for
        connections/extend) idle and consent expiry are not checked.
        """
        credentials_id = self.refresh_owner.get(refresh_token)
        connection = self.connections.get(credentials_id or "")
        if connection is None:
            raise OAuthError(400, "invalid_grant", "The refresh token is not valid.")
        if connection.client_id != client_id:
            raise OAuthError(400, "invalid_grant", "The refresh token belongs to another client.")
        if connection.terminated is not None:
            raise OAuthError(400, "invalid_grant", "The connection was revoked.")
        if refresh_token != connection.refresh_token:
            grace = (
                self.refresh_token_reuse == "grace"
                and refresh_token == connection.previous_refresh_token
                and not connection.refresh_used
            )
            if not grace:
                if self.refresh_token_reuse == "revoke":
                    # RFC 9700 §4.14.2: reuse of a rotated token kills the whole family.
                    connection.terminated = "refresh_reuse"
                raise OAuthError(400, "invalid_grant", "The refresh token was already used.")
            connection.previous_refresh_token = None
        elif extending:
            return connection
        elif self.clock() - connection.refresh_issued_at > self.refresh_token_idle_ttl:
            raise OAuthError(400, "invalid_grant", "The refresh token has expired.")
        if extending:
            return connection
        if connection.consent_revoked:
            raise OAuthError(400, "invalid_grant", "The user revoked consent.")
        if self.clock() >= connection.consent_expires_at:
            raise OAuthError(400, "invalid_grant", "Consent expired.")
        return connection

    def client_credentials(self, client: Client, scope: str | None, issuer: str) -> dict[str, Any]:
        allowed = sorted(s for s in client.scopes if s in CLIENT_CREDENTIALS_SCOPES)
        if scope is None or not scope.strip():
            scopes = allowed
        else:
            scopes = scope.split()
            bad = [
                s for s in scopes if s not in CLIENT_CREDENTIALS_SCOPES or s not in client.scopes
            ]
            if bad:
                raise OAuthError(400, "invalid_scope", f"Scope not allowed: {' '.join(bad)}.")
        now = int(self.clock())
        claims = {
            "nbf": now,
            "iat": now,
            "exp": now + self.access_token_ttl,
            "iss": issuer,
            "aud": "data_api",
            "client_id": client.client_id,
            "sub": client.client_id,
            "scope": scopes,
        }
        token, jti = self.signer.mint(claims)
        self.client_tokens[jti] = client.client_id
        return {
            "access_token": token,
            "expires_in": self.access_token_ttl,
            "token_type": "Bearer",
            "scope": " ".join(scopes),
        }

    def create_connection(
        self,
        client_id: str,
        persona: Persona,
        scopes: Iterable[str],
        provider_id: str,
        issuer: str = FAKE_AUTH_URL,
    ) -> dict[str, Any]:
        """A new connection and its first tokens, without the dialog."""
        client = self.clients.get(client_id)
        if client is None:
            raise ValueError(f"unknown client {client_id!r}")
        wanted = tuple(scopes)
        bad = [s for s in wanted if s not in LINK_SCOPES or s not in client.scopes]
        if bad or not wanted:
            raise ValueError(f"scopes not allowed: {bad or wanted}")
        if find_provider(provider_id) is None:
            raise ValueError(f"unknown provider {provider_id!r}")
        connection = self._new_connection(client_id, persona, provider_id, wanted)
        return self.issue_tokens(connection, issuer)

    def _new_connection(
        self, client_id: str, persona: Persona, provider_id: str, scopes: tuple[str, ...]
    ) -> Connection:
        now = self.clock()
        connection = Connection(
            credentials_id=_new_credentials_id(),
            client_id=client_id,
            persona=persona,
            provider_id=provider_id,
            scopes=scopes,
            consent_id=str(uuid.uuid4()),
            created_at=now,
            consent_expires_at=now + self.consent_ttl,
            consent_updated_at=now,
        )
        self.connections[connection.credentials_id] = connection
        return connection

    def issue_tokens(
        self, connection: Connection, issuer: str, *, with_scope: bool = True
    ) -> dict[str, Any]:
        """A new access token (superseding the old one) and, with offline_access, a new
        refresh token (the old one stops working)."""
        now = int(self.clock())
        claims = {
            "nbf": now,
            "exp": now + self.access_token_ttl,
            "iss": issuer,
            "aud": "data_api",
            "client_id": connection.client_id,
            "sub": connection.credentials_id,
            "auth_time": int(connection.consent_updated_at),
            "idp": "local",
            "sid": "auth-" + connection.consent_id,
            "iat": now,
            "connector_id": connection.provider_id,
            "privacy_policy": "Feb2019",
            "consent_id": connection.consent_id,
            "scope": list(connection.scopes),
            "amr": ["pwd"],
        }
        token, jti = self.signer.mint(claims)
        connection.access_token = token
        connection.access_jti = jti
        connection.access_expires_at = now + self.access_token_ttl
        body: dict[str, Any] = {
            "access_token": token,
            "expires_in": self.access_token_ttl,
            "token_type": "Bearer",
        }
        if "offline_access" in connection.scopes:
            if connection.refresh_token is not None:
                connection.previous_refresh_token = connection.refresh_token
            refresh = secrets.token_hex(32).upper()
            connection.refresh_token = refresh
            connection.refresh_issued_at = self.clock()
            connection.refresh_used = False
            self.refresh_owner[refresh] = connection.credentials_id
            body["refresh_token"] = refresh
        if with_scope:
            body["scope"] = " ".join(connection.scopes)
        return body

    # -- bearer tokens -------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Connection:
        """The connection behind a ``Bearer`` header; raises ``TokenRejected``."""
        if not authorization or not authorization[:7].lower() == "bearer ":
            raise TokenRejected("missing", "Authorization header missing or not Bearer.")
        claims = self.signer.read(authorization[7:].strip())
        if claims is None:
            raise TokenRejected("invalid", "The access token is not valid.")
        if claims["exp"] <= self.clock():
            raise TokenRejected("expired", f"The token expired at '{token_expiry(claims['exp'])}'")
        connection = self.connections.get(str(claims.get("sub")))
        if connection is None or "consent_id" not in claims:
            raise TokenRejected("invalid", "The access token is not a user token.")
        cid = connection.credentials_id
        if connection.terminated is not None:
            raise TokenRejected("terminated", "The connection was revoked.", credentials_id=cid)
        if claims["jti"] != connection.access_jti:
            raise TokenRejected(
                "superseded", "A newer access token was issued.", credentials_id=cid
            )
        # The newest access token has now been used, so the grace window (if any) closes.
        connection.refresh_used = True
        if connection.consent_revoked:
            raise TokenRejected("consent_revoked", "The user revoked consent.", credentials_id=cid)
        if self.clock() >= connection.consent_expires_at:
            raise TokenRejected(
                "consent_expired", "Consent expired; the user must reconnect.", credentials_id=cid
            )
        return connection

    # -- control surface -----------------------------------------------------------------

    def find_connections(self, key: str) -> list[Connection]:
        """Connections with this credentials id, or of this username."""
        if key in self.connections:
            return [self.connections[key]]
        return [c for c in self.connections.values() if c.persona.username == key]

    def new_task(
        self,
        connection: Connection,
        results: list[Any] | None,
        error: tuple[int, str, str] | None,
        *,
        immediate: bool,
    ) -> Task:
        task = Task(
            task_id=str(uuid.uuid4()),
            credentials_id=connection.credentials_id,
            created_at=self.clock(),
            results=results,
            error=error,
            completes_after_polls=0 if immediate else self.async_running_polls,
        )
        self.tasks[task.task_id] = task
        return task


def _ignore(record: WebhookRecord) -> None:
    pass


def fields_of(body: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    """Names in ``names`` missing or empty in ``body``."""
    return [name for name in names if not body.get(name)]
