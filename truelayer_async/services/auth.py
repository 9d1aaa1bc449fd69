"""``tl.auth``: auth links, the callback, every token grant, and credential management."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import attrs

from .. import errors as e
from .._auth_link import AuthLink, build_auth_link
from .._callback import CallbackParams, checked_callback
from .._converter import structure, structure_list
from .._error_mapping import Api
from .._http import Response
from .._pkce import code_challenge, validate_code_verifier
from .._raw import raw_method
from .._retry import RetryMode
from .._secret import Secret
from .._states import StateBook
from .._token_manager import TokenManager
from .._token_response import TokenGrant
from ..models import ExtendResult, Provider
from ..tokens import (
    DATA_SCOPES,
    PAYMENTS_SCOPES,
    Token,
    TokenRecord,
    TokenType,
    TokenTypeLike,
)

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["AuthService", "RawAuthService"]

#: How long a state issued by ``auth_link`` stays usable (OA-03: at most 10 minutes).
STATE_TTL = 600.0


def _valid_verifier(verifier: Secret) -> bool:
    try:
        validate_code_verifier(verifier.get_secret_value())
    except e.InvalidParameterError:
        return False
    return True


def _provider_country(code: str) -> str:
    code = code.lower()
    return "uk" if code == "gb" else code


class AuthService:
    """Everything about getting and keeping tokens. Reached as ``tl.auth``.

    User tokens are keyed by ``(user, token_type)``: pass the same ``user`` (any string that
    identifies the end user in your system; ``None`` for a single-user app) to
    ``exchange_code`` and later to every data call.
    """

    def __init__(self, core: Core) -> None:
        self._core = core
        self._states = StateBook(core.clock, STATE_TTL)
        self.with_raw_response = RawAuthService(self)

    @property
    def tokens(self) -> TokenManager:
        """Deprecated (internal since 0.2): the Session's token manager."""
        warnings.warn(
            "tl.auth.tokens is internal and will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._core.tokens

    @staticmethod
    def data_scopes() -> tuple[str, ...]:
        """The Data API scopes: ``DATA_SCOPES``."""
        return DATA_SCOPES

    @staticmethod
    def payments_scopes() -> tuple[str, ...]:
        """The Payments scopes: ``PAYMENTS_SCOPES``."""
        return PAYMENTS_SCOPES

    # -- the auth dialog ------------------------------------------------------------

    def auth_link(
        self,
        *,
        scopes: Iterable[str] | str,
        state: str | None = None,
        nonce: str | None = None,
        redirect_uri: str | None = None,
        providers: Iterable[str] | str | None = None,
        provider_id: str | None = None,
        disable_providers: Iterable[str] | str | None = None,
        response_mode: str | None = None,
        user_email: str | None = None,
        language_id: str | None = None,
        country_id: str | None = None,
        tracking_id: str | None = None,
        enable_mock: bool = False,
        pkce: bool = False,
    ) -> AuthLink:
        """Build the link that sends the user to TrueLayer's auth dialog.

        ``state`` defaults to 256 random bits followed by its issue time, signed with a
        key only this Session holds, so it expires after ``STATE_TTL`` (10 minutes)
        however many links are issued meanwhile. With ``pkce=True`` the link carries an S256
        ``code_challenge`` and ``link.code_verifier`` holds the verifier to pass to
        :meth:`exchange_code`. Keep ``link.state`` (and the verifier) server-side.

        Raises:
            InvalidParameterError: (a ``ValueError``) for empty scopes, a ``provider_id``
                that ``providers`` does not cover, an unknown ``language_id``, a
                ``country_id`` that is not two letters, a ``response_mode`` other than
                ``form_post``, or no redirect URI at all.
        """
        link = build_auth_link(
            self._core.environment.auth_url,
            self._core.client_id,
            scopes=scopes,
            redirect_uri=redirect_uri or self._core.redirect_uri,
            state=self._states.new() if state is None else state,
            nonce=nonce,
            providers=providers,
            provider_id=provider_id,
            disable_providers=disable_providers,
            response_mode=response_mode,
            user_email=user_email,
            language_id=language_id,
            country_id=country_id,
            tracking_id=tracking_id,
            enable_mock=enable_mock,
            pkce=pkce,
        )
        if state is not None:
            self._states.chosen(link.state)
        return link

    def parse_callback(self, params_or_url: CallbackParams, *, expected_state: str) -> str:
        """Check the redirect back from the dialog and return the authorisation code.

        ``params_or_url`` is the full callback URL, its query string, or the query/form
        parameters as a mapping. It must carry exactly one ``code`` and one ``state``; the
        state is compared in constant time with ``expected_state`` and can be used once
        per Session.

        Raises:
            AuthorizationDenied: the callback carries ``error=`` (e.g. ``access_denied``).
            StateMismatchError: the state is missing, wrong, duplicated, non-ASCII or reused.
            StateExpiredError: the state was issued by this Session's ``auth_link`` more
                than 10 minutes ago (states issued elsewhere are not timed; a state you
                chose yourself is timed while this Session remembers it, i.e. within
                its lifetime).
            IssuerMismatchError: the callback carries an ``iss`` that is not this
                environment's issuer (RFC 9207).
            AuthorizationCallbackError: there is no code, or more than one.
        """
        outcome = self._check_callback(params_or_url, expected_state)
        # The callback holds the code and the state: raise from a frame that holds neither.
        del params_or_url, expected_state
        if isinstance(outcome, e.TrueLayerError):
            raise outcome.with_traceback(None)
        return outcome

    def _check_callback(
        self, params_or_url: CallbackParams, expected_state: str
    ) -> str | e.TrueLayerError:
        outcome = checked_callback(params_or_url, expected_state, self._core.environment.issuer)
        if isinstance(outcome, e.TrueLayerError):
            return outcome
        code, state = outcome
        refused = self._states.accept(state)
        return code if refused is None else refused

    # -- grants -----------------------------------------------------------------------

    async def exchange_code(
        self,
        code: str | Secret,
        token_type: TokenTypeLike = TokenType.DATA,
        *,
        user: str | None = None,
        code_verifier: str | Secret | None = None,
        redirect_uri: str | None = None,
    ) -> Token:
        """Exchange an authorisation code for tokens and store them under ``(user, token_type)``.

        The token is stored before this returns. Codes are single-use, so a request that
        was sent but got no answer is not retried.

        Raises:
            CodeExchangeOutcomeUnknown: the request was sent but the answer was lost.
            AuthApiError: TrueLayer refused (``invalid_grant`` for a used/expired code).
            TokenPersistenceError: the store failed (the token is kept in memory).
        """
        redirect = redirect_uri or self._core.redirect_uri
        if not redirect:
            raise e.InvalidParameterError(
                "a redirect_uri is needed: pass the one of the auth link"
            )
        # Wrap at once: no frame on an error path keeps the raw code or verifier (SEC-03).
        secret_code = Secret.of(code)
        verifier = None if code_verifier is None else Secret.of(code_verifier)
        del code, code_verifier
        if not secret_code:
            raise e.InvalidParameterError("code must not be empty")
        key = self._core.tokens.key(TokenType(token_type), user)
        form = self._core.client_form("authorization_code")
        form["code"] = secret_code
        form["redirect_uri"] = redirect
        if verifier is not None:
            if not _valid_verifier(verifier):
                raise e.InvalidParameterError(
                    "a PKCE code_verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~"
                )
            form["code_verifier"] = verifier
        typed = TokenType(token_type)

        async def exchange(current: TokenRecord | None) -> Token:
            # Runs as a flight: once the code is sent, cancelling the caller cannot lose
            # the new connection's tokens.
            lost = False
            try:
                grant = await self._core.tokens.token_request(form, RetryMode.UNSENT_ONLY)
            except e.TransportError as exc:
                if not exc.request_sent:
                    raise
                lost = True
            if lost:
                raise e.CodeExchangeOutcomeUnknown(
                    "the code was sent but no answer arrived; codes are single-use, so it "
                    "was not retried: start the auth flow again"
                )
            return await self._core.tokens.save_new(key, grant, typed, current)

        return await self._core.tokens.spend(key, "code exchange", exchange)

    async def refresh_token(
        self, token_type: TokenTypeLike = TokenType.DATA, *, user: str | None = None
    ) -> Token:
        """Refresh the stored token now with its refresh token (rotation-safe, single flight).

        Raises:
            NoTokenError: nothing is stored for this key.
            ReauthorizationRequired: ``invalid_grant``; the record is marked invalid.
        """
        key = self._core.tokens.key(TokenType(token_type), user)
        return await self._core.tokens.refresh(key)

    async def client_credentials(
        self,
        scopes: Iterable[str] = PAYMENTS_SCOPES,
        token_type: TokenTypeLike = TokenType.PAYMENTS,
    ) -> Token:
        """An application token from the client-credentials grant, cached until it expires.

        Cached under ``(token_type, sorted scopes)``; scopes in another order share the
        cache. Transient failures are retried (this grant has no side effects).
        """
        return await self._core.client_credentials(scopes, token_type)

    async def valid_token(
        self, token_type: TokenTypeLike = TokenType.DATA, *, user: str | None = None
    ) -> Token:
        """The stored token for ``(user, token_type)``, refreshed first if it is expiring.

        A token counts as expired ``leeway`` seconds (60, or half the lifetime of short
        tokens) before ``expires_at``. Concurrent callers share one refresh. With
        ``TokenType.PAYMENTS`` and no user and no stored token, a client-credentials token
        is fetched.

        Raises:
            NoTokenError: nothing is stored for this key.
            ReauthorizationRequired: expired with no refresh token, or the refresh token
                was refused (the record is then marked invalid and later calls fail fast).
        """
        # The Enum call costs ~0.4 µs; skip it for an actual member (the usual case).
        typed = token_type if type(token_type) is TokenType else TokenType(token_type)
        tokens = self._core.tokens
        key = tokens.key(typed, user)
        if typed is TokenType.PAYMENTS and user is None and await tokens.read(key) is None:
            return await self.client_credentials()
        return await tokens.valid(key)

    async def import_token(
        self,
        *,
        refresh_token: str | Secret,
        access_token: str | Secret | None = None,
        expires_at: datetime | float | None = None,
        scopes: Iterable[str] = (),
        user: str | None = None,
        token_type: TokenTypeLike = TokenType.DATA,
        replace: bool = False,
    ) -> Token:
        """Adopt a connection made outside the SDK (migrating from raw HTTP calls or
        another client): store its tokens under ``(user, token_type)``.

        From then on the SDK refreshes and rotates them like its own. Without
        ``access_token`` (or ``expires_at``: unix seconds or an aware datetime) the token
        counts as expired, so the first call refreshes it. ``scopes`` (when known) let
        the Data API check scopes before sending. Nothing is sent to TrueLayer here.

        Raises:
            InvalidParameterError: an empty refresh token, or a token is already stored
                for this key and ``replace`` is false (the stored one may be newer).
            TokenPersistenceError: the store failed (the token is kept in memory).
        """
        refresh = Secret.of(refresh_token)
        access = Secret("") if access_token is None else Secret.of(access_token)
        del refresh_token, access_token  # only redacted Secrets stay in this frame
        if not refresh:
            raise e.InvalidParameterError("refresh_token must not be empty")
        typed = TokenType(token_type)
        now = self._core.clock()
        if expires_at is None:
            expires_at = now if not access else now + 3600
        when = (
            expires_at
            if isinstance(expires_at, datetime)
            else datetime.fromtimestamp(float(expires_at), timezone.utc)
        )
        if when.tzinfo is None:
            raise e.InvalidParameterError("expires_at must be timezone-aware")
        token = Token(
            access_token=access,
            refresh_token=refresh,
            token_type=typed,
            expires_at=when,
            expires_in=max(1, int(when.timestamp() - now)) if access else 1,
            scopes=tuple(scopes),
        )
        key = self._core.tokens.key(typed, user)
        tokens = self._core.tokens

        async def adopt(current: TokenRecord | None) -> Token:
            if current is not None and not replace:
                raise e.InvalidParameterError(
                    f"a {typed.value} token is already stored for user {user!r}; pass "
                    "replace=True to overwrite it"
                )
            version = (current.version if current is not None else 0) + 1
            await tokens.persist(key, TokenRecord(token=token, version=version, updated_at=now))
            return token

        return await tokens.spend(key, "token import", adopt)

    # -- credentials ------------------------------------------------------------------

    async def delete_credential(self, *, user: str | None = None) -> None:
        """Revoke the user's connection at TrueLayer (DELETE /api/delete), then forget it."""
        key = self._core.tokens.key(TokenType.DATA, user)
        token = await self._core.tokens.valid(key)
        s = self._core
        await s.send(
            "DELETE",
            f"{s.environment.auth_url}/api/delete",
            api=Api.AUTH,
            bearer=token.access_token,
            operation="truelayer.auth.delete_credential",
        )
        await s.tokens.forget(key)  # the store's record and this process's cached copy

    async def extend_connection(
        self,
        *,
        user: str | None = None,
        user_info: Mapping[str, str],
        redirect_uri: str | None = None,
        state: str | None = None,
        code_verifier: str | Secret | None = None,
        response_mode: str | None = None,
        user_has_reconfirmed_consent: bool = True,
    ) -> ExtendResult:
        """Extend the user's 90-day connection (POST {api}/connections/extend, UK only).

        ``user_info`` is TrueLayer's ``user`` object (``id``, ``name``, ``email``, ``phone``).
        On ``no_action_needed`` the new tokens are stored and the result carries no tokens;
        otherwise send the user to ``result.user_input_link``.
        """
        key = self._core.tokens.key(TokenType.DATA, user)
        redirect = redirect_uri or self._core.redirect_uri
        if not redirect:
            raise e.InvalidParameterError("a redirect_uri is needed")
        if response_mode is not None and response_mode != "form_post":
            raise e.InvalidParameterError("response_mode can only be 'form_post' (or None)")
        s = self._core
        body: dict[str, Any] = {
            "user_has_reconfirmed_consent": user_has_reconfirmed_consent,
            "client_id": s.client_id,
            "client_secret": s.client_secret,
            "redirect_uri": redirect,
            "user": dict(user_info),
        }
        if state is not None:
            body["state"] = state
        if code_verifier is not None:
            body["code_challenge"] = code_challenge(Secret.of(code_verifier).get_secret_value())
            del code_verifier
        if response_mode is not None:
            body["response_mode"] = response_mode

        async def extend(record: TokenRecord | None) -> ExtendResult:
            # Runs as a flight under the key's locks: it spends the refresh token, so it
            # never overlaps a refresh, and cancelling the caller cannot lose the new pair.
            if record is None:
                raise e.NoTokenError(f"no data token is stored for user {user!r}")
            if record.token.refresh_token is None:
                raise e.ReauthorizationRequired(
                    None,
                    "no_refresh_token",
                    "there is no refresh token to extend",
                    reason="no_refresh_token",
                )
            response = await s.flight_requester().request(
                "POST",
                f"{s.environment.api_url}/connections/extend",
                api=Api.AUTH,
                json_body={**body, "refresh_token": record.token.refresh_token},
                retry_mode=RetryMode.UNSENT_ONLY,
            )
            outcome = _extend_outcome(response, record.token.scopes)
            if isinstance(outcome, e.TrueLayerError):
                raise outcome.with_traceback(None)
            result, grant = outcome
            if grant is not None:
                await self._core.tokens.save_grant(key, grant, TokenType.DATA, record)
            return result

        return await self._core.tokens.spend(key, "connection extension", extend)

    async def providers(
        self,
        *,
        scopes: Iterable[str] | None = None,
        countries: Iterable[str] | None = None,
    ) -> list[Provider]:
        """The providers available to this client (GET /api/providers).

        ``countries`` are ISO 3166-1 alpha-2 codes; ``GB`` is sent as TrueLayer's ``uk``.
        """
        params = {"clientId": self._core.client_id}
        if scopes is not None:
            params["scopes"] = " ".join(scopes)
        if countries is not None:
            params["country"] = " ".join(_provider_country(c) for c in countries)
        s = self._core
        response = await s.send(
            "GET",
            f"{s.environment.auth_url}/api/providers",
            api=Api.AUTH,
            params=params,
            operation="truelayer.auth.providers",
        )
        return structure_list(response.json(), Provider, correlation_id=response.correlation_id)


class RawAuthService:
    """``tl.auth.with_raw_response``: the methods that make one API request, returning
    :class:`RawResponse` (token grants run as flights and have no raw form)."""

    def __init__(self, auth: AuthService) -> None:
        self.providers = raw_method(auth.providers)
        self.delete_credential = raw_method(auth.delete_credential)


def _extend_outcome(
    response: Response, scopes: tuple[str, ...]
) -> tuple[ExtendResult, TokenGrant | None] | e.TrueLayerError:
    """The extension's result without its tokens, and the tokens as a grant.

    The body holds the new pair in clear: it is decoded here and the verdict returned,
    so no frame left on an error's traceback holds a raw token (SEC-03).
    """
    try:
        data = response.json()
        result = structure(data, ExtendResult, correlation_id=response.correlation_id)
    except e.TrueLayerError as exc:
        return exc.with_traceback(None)
    if result.access_token is None:
        return result, None
    grant = TokenGrant(
        Secret(result.access_token),
        None if result.refresh_token is None else Secret(result.refresh_token),
        int(result.expires_in or 3600),
        scopes,
    )
    return attrs.evolve(result, access_token=None, refresh_token=None), grant
