"""The auth link (``GET /``) and the mock auth dialog behind it.

Flow: ``GET /?response_type=code&client_id=…`` → 302 ``/dialog/{session_id}`` → provider
selection (skipped when ``provider_id`` was given) → mock bank login → consent →
302 ``redirect_uri?code=…&state=…`` (or an auto-submitting form for
``response_mode=form_post``; ``error=access_denied`` on Cancel). Forms POST to
``/dialog/{id}/provider``, ``/dialog/{id}/login`` and ``/dialog/{id}/consent``; the first
two answer 303 back to ``/dialog/{id}``.

Validation of the auth link: a missing ``client_id``/``redirect_uri`` shows an error page
(400 ``invalid_request``), an unknown client or an unregistered ``redirect_uri`` one with
401 ``unauthorized_client``; the dialog never redirects to an unverified URI. Every other
bad parameter also shows an error page, with status 400 and the RFC 6749 code
(``unsupported_response_type``, ``invalid_scope`` or ``invalid_request``) in
``#error-code``: TrueLayer's dialog shows an error screen for a broken link rather than
bouncing back, and a page makes the mistake obvious in tests.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import _html
from ._catalog import DEFAULT_SELECTORS, find_provider, offered_providers
from ._constants import LINK_SCOPES
from ._personas import login, refusal
from ._state import AuthSession, FakeState

__all__ = ["redirect_with", "routes"]

LANGUAGES = frozenset({"en", "es", "it", "fr", "de", "pl", "pt", "sv", "nl"})
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_LEGACY_SWITCHES = {
    "enable_mock": "uk-cs-mock",
    "enable_oauth_providers": "uk-oauth-all",
    "enable_open_banking_providers": "uk-ob-all",
    "enable_credentials_sharing_providers": "uk-cs-all",
}


class _LinkError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def _error(status: int, error: str, description: str) -> HTMLResponse:
    return HTMLResponse(_html.error_page(error, description), status)


def redirect_with(redirect_uri: str, params: dict[str, str]) -> str:
    """``redirect_uri`` with ``params`` appended to its query."""
    parts = urlsplit(redirect_uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


def routes(state: FakeState) -> list[BaseRoute]:
    """Routes for ``GET /`` and ``/dialog/...``."""

    async def authorize(request: Request) -> Response:
        with state.lock:
            try:
                session = _start_session(state, request)
            except _LinkError as exc:
                return _error(exc.status, exc.error, exc.description)
        return RedirectResponse(_dialog_url(request, session), 302)

    async def show(request: Request) -> Response:
        with state.lock:
            session = state.live_session(request.path_params["session_id"])
            if session is None:
                return _error(404, "invalid_request", "This auth session is unknown or expired.")
            return _render(request, session)

    async def choose_provider(request: Request) -> Response:
        form = await request.form()
        with state.lock:
            session = state.live_session(request.path_params["session_id"])
            if session is None:
                return _error(404, "invalid_request", "This auth session is unknown or expired.")
            if session.step != "provider":
                return _error(400, "invalid_request", "Unexpected step: choose_provider.")
            chosen = str(form.get("provider_id", ""))
            if chosen not in session.offered:
                return _error(400, "invalid_request", f"Provider {chosen!r} is not offered.")
            session.provider_id = chosen
            session.step = "login"
        return RedirectResponse(_dialog_url(request, session), 303)

    async def submit_login(request: Request) -> Response:
        form = await request.form()
        with state.lock:
            session = state.live_session(request.path_params["session_id"])
            if session is None:
                return _error(404, "invalid_request", "This auth session is unknown or expired.")
            if session.step != "login":
                return _error(400, "invalid_request", "Unexpected step: login.")
            username = str(form.get("username", "")).strip()
            password = str(form.get("password", ""))
            persona = login(username, password)
            expected = state.connections.get(session.reauth_credentials_id or "")
            if persona is None:
                session.login_error = refusal(username, password)
            elif expected is not None and persona.username != expected.persona.username:
                session.login_error = f"Please log in as {expected.persona.username}."
            else:
                session.persona = persona
                session.login_error = None
                session.step = "consent"
                return RedirectResponse(_dialog_url(request, session), 303)
            return _render(request, session, username=username)

    async def submit_consent(request: Request) -> Response:
        form = await request.form()
        with state.lock:
            session = state.live_session(request.path_params["session_id"])
            if session is None:
                return _error(404, "invalid_request", "This auth session is unknown or expired.")
            if session.step != "consent":
                return _error(400, "invalid_request", "Unexpected step: consent.")
            action = form.get("action")
            if action not in ("approve", "cancel"):
                return _error(400, "invalid_request", "action must be approve or cancel.")
            session.step = "done"
            if action == "approve":
                params = {"code": state.issue_code(session).code}
            else:
                params = {"error": "access_denied"}
            if session.state is not None:
                params["state"] = session.state
            if session.response_mode == "form_post":
                return HTMLResponse(_html.form_post_page(session.redirect_uri, params))
            return RedirectResponse(redirect_with(session.redirect_uri, params), 302)

    return [
        Route("/", authorize, methods=["GET"]),
        Route("/dialog/{session_id}", show, methods=["GET"]),
        Route("/dialog/{session_id}/provider", choose_provider, methods=["POST"]),
        Route("/dialog/{session_id}/login", submit_login, methods=["POST"]),
        Route("/dialog/{session_id}/consent", submit_consent, methods=["POST"]),
    ]


def _dialog_url(request: Request, session: AuthSession, suffix: str = "") -> str:
    return str(request.base_url).rstrip("/") + f"/dialog/{session.session_id}{suffix}"


def _render(request: Request, session: AuthSession, *, username: str = "") -> Response:
    if session.step == "done":
        return _error(400, "invalid_request", "This auth session is already complete.")
    if session.step == "provider":
        providers = [p for p in map(find_provider, session.offered) if p is not None]
        action = _dialog_url(request, session, "/provider")
        return HTMLResponse(_html.provider_page(action, providers, language=session.language))
    provider = find_provider(session.provider_id or "")
    assert provider is not None
    if session.step == "login":
        page = _html.login_page(
            _dialog_url(request, session, "/login"),
            provider,
            language=session.language,
            error=session.login_error,
            username=username,
        )
        return HTMLResponse(page)
    page = _html.consent_page(
        _dialog_url(request, session, "/consent"),
        session.client_id,
        session.scopes,
        provider,
        language=session.language,
    )
    return HTMLResponse(page)


def _start_session(state: FakeState, request: Request) -> AuthSession:
    query = request.query_params
    for name in set(query.keys()):
        if len(query.getlist(name)) > 1:
            raise _LinkError(400, "invalid_request", f"Parameter {name} is repeated.")
    client_id = query.get("client_id")
    redirect_uri = query.get("redirect_uri")
    if not client_id or not redirect_uri:
        raise _LinkError(400, "invalid_request", "client_id and redirect_uri are required.")
    client = state.clients.get(client_id)
    if client is None:
        raise _LinkError(401, "unauthorized_client", "Unknown client_id.")
    if redirect_uri not in client.redirect_uris:
        raise _LinkError(
            401, "unauthorized_client", "redirect_uri is not registered for this client."
        )

    if query.get("response_type") != "code":
        raise _LinkError(400, "unsupported_response_type", "response_type must be code.")
    scopes = tuple(dict.fromkeys(query.get("scope", "").split()))
    if not scopes:
        raise _LinkError(400, "invalid_scope", "scope is required.")
    unknown = [s for s in scopes if s not in LINK_SCOPES]
    if unknown:
        raise _LinkError(400, "invalid_scope", f"Unknown scope: {' '.join(unknown)}.")
    refused = [s for s in scopes if s not in client.scopes]
    if refused:
        raise _LinkError(400, "invalid_scope", f"Scope not allowed: {' '.join(refused)}.")
    response_mode = query.get("response_mode")
    if response_mode not in (None, "form_post"):
        raise _LinkError(400, "invalid_request", "response_mode must be form_post if given.")
    challenge = query.get("code_challenge")
    method = query.get("code_challenge_method")
    if method is not None and method != "S256":
        raise _LinkError(400, "invalid_request", "code_challenge_method must be S256.")
    if (challenge is None) != (method is None):
        raise _LinkError(
            400, "invalid_request", "code_challenge and code_challenge_method go together."
        )
    if challenge is not None and not _CHALLENGE.fullmatch(challenge):
        raise _LinkError(400, "invalid_request", "code_challenge must be 43 base64url chars.")
    language = query.get("language_id", "en")
    if language not in LANGUAGES:
        raise _LinkError(400, "invalid_request", f"Unsupported language_id {language!r}.")
    country_id = query.get("country_id")
    if country_id is not None and not _COUNTRY.fullmatch(country_id):
        raise _LinkError(400, "invalid_request", "country_id must be two letters.")
    country = None if country_id is None else country_id.lower().replace("gb", "uk")

    selectors = _selectors(query.get("providers"), {k: query.get(k) for k in _LEGACY_SWITCHES})
    disabled = set(query.get("disable_providers", "").split())
    offered = offered_providers(selectors, scopes=scopes, disabled=disabled, country=country)
    provider_id = query.get("provider_id")
    if provider_id is not None:
        provider = find_provider(provider_id)
        if provider is None or provider not in offered:
            raise _LinkError(
                400,
                "invalid_request",
                f"provider_id {provider_id!r} is not covered by providers "
                f"{' '.join(selectors)!r} (or is disabled, in another country, or lacks a "
                "requested scope).",
            )
    if not offered:
        raise _LinkError(400, "invalid_request", "No provider matches providers and scope.")
    return state.new_session(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=query.get("state"),
        response_mode=response_mode,
        code_challenge=challenge,
        offered=tuple(p.provider_id for p in offered),
        provider_id=provider_id,
        language=language,
        step="login" if provider_id else "provider",
    )


def _selectors(providers: str | None, legacy: dict[str, str | None]) -> tuple[str, ...]:
    if providers is not None and providers.strip():
        return tuple(providers.split())
    switched = [sel for name, sel in _LEGACY_SWITCHES.items() if legacy.get(name) == "true"]
    return tuple(switched) if switched else DEFAULT_SELECTORS
