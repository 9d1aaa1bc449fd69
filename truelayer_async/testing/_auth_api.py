"""Auth-server endpoints: ``POST /connect/token``, ``DELETE /api/delete``,
``GET /api/providers``; and ``POST /connections/extend`` on the API host.

Token endpoint rules (truelayer-api.md §3.3-3.5; every error is 400
``{"error", "error_description"}``):

* form-encoded, multipart or JSON bodies; a repeated field → ``invalid_request``;
* no ``grant_type`` or a missing required field → ``invalid_request``; an unknown grant →
  ``unsupported_grant_type``; wrong client id or secret → ``invalid_client``;
* codes: single use, 5 minutes, bound to client, ``redirect_uri`` (exact) and PKCE
  challenge (a verifier without a challenge is refused too); a failed exchange does not
  use the code up; a *reused* code → ``invalid_grant`` and the connection it created is
  revoked (RFC 6749 §4.1.2);
* refresh tokens rotate on every refresh; by default presenting a rotated one revokes the
  whole connection (RFC 9700 §4.14.2). ``FakeTrueLayer(refresh_token_reuse=...)`` picks
  ``"revoke"`` (default), ``"reject"`` (refuse, keep the family) or ``"grace"`` (FAPI 2.0:
  the previous token works once more while its successor has not been used);
* a refresh token unused for 30 days, revoked consent or consent older than 90 days →
  ``invalid_grant``; ``client_credentials`` never returns a refresh token and refuses
  Data scopes with ``invalid_scope``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ._body import BodyError, read_fields, read_json_object
from ._catalog import PROVIDERS
from ._responses import auth_error, json_response, problem
from ._state import FakeState, OAuthError, TokenRejected
from ._timefmt import from_epoch, iso_milli_z

__all__ = ["issuer_of", "routes"]

_GRANT_FIELDS = {
    "authorization_code": ("client_id", "client_secret", "code", "redirect_uri"),
    "refresh_token": ("client_id", "client_secret", "refresh_token"),
    "client_credentials": ("client_id", "client_secret"),
}
_EXTEND_REQUIRED = (
    "user_has_reconfirmed_consent",
    "client_id",
    "client_secret",
    "user",
    "refresh_token",
    "redirect_uri",
)


def issuer_of(request: Request) -> str:
    """The issuer URL as seen by this request (scheme and host it was sent to)."""
    return str(request.base_url).rstrip("/")


def routes(state: FakeState) -> list[BaseRoute]:
    """Routes for the auth-server API and connections/extend."""

    async def token(request: Request) -> Response:
        try:
            fields = await read_fields(request)
        except BodyError as exc:
            return auth_error(400, "invalid_request", str(exc))
        with state.lock:
            try:
                body = _grant(state, fields, issuer_of(request))
            except OAuthError as exc:
                return auth_error(exc.status, exc.error, exc.description)
        return json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def delete(request: Request) -> Response:
        with state.lock:
            try:
                connection = state.authenticate(request.headers.get("authorization"))
            except TokenRejected as exc:
                if not exc.is_consent:
                    return auth_error(401, "unauthorized", exc.description)
                connection = state.connections[exc.credentials_id or ""]
            connection.terminated = "deleted"
        return Response(b"", 200)

    async def providers(request: Request) -> Response:
        kind = request.path_params.get("kind")
        if kind is not None and kind not in _LEGACY_KINDS:
            return auth_error(404, "not_found", f"Unknown provider type {kind!r}.")
        query = request.query_params
        items = list(PROVIDERS)
        if kind is not None:
            # The legacy form (TrueLayer's JavaScript client): one kind of provider.
            marks = _LEGACY_KINDS[kind]
            items = [p for p in items if any(m in s for s in p.selectors for m in marks)]
        client_id = query.get("clientId")
        if client_id is not None and client_id not in state.clients:
            items = []
        scopes = _spaced(query.getlist("scopes"))
        if scopes:
            items = [p for p in items if all(s in p.scopes for s in scopes)]
        countries = [c.lower() for c in _spaced(query.getlist("country"))]
        if countries:
            items = [p for p in items if p.country in countries]
        updated = iso_milli_z(from_epoch(state.clock()))
        return json_response([p.to_json(updated) for p in items])

    async def extend(request: Request) -> Response:
        try:
            body = await read_json_object(request)
        except BodyError as exc:
            return problem(
                400,
                title="One or more validation errors occurred.",
                instance="/connections/extend",
                errors={"body": [str(exc)]},
                type_="https://docs.truelayer.com/#connection-api-errors",
            )
        with state.lock:
            return _extend(state, request, body)

    return [
        Route("/connect/token", token, methods=["POST"]),
        Route("/api/delete", delete, methods=["DELETE"]),
        Route("/api/providers", providers, methods=["GET"]),
        Route("/api/providers/{kind:path}", providers, methods=["GET"]),
        Route("/connections/extend", extend, methods=["POST"]),
    ]


#: ``GET /api/providers/{type}`` (legacy): selector fragments of each provider type.
_LEGACY_KINDS: dict[str, tuple[str, ...]] = {
    "credentialssharing": ("-cs-",),
    "oauth": ("-oauth-", "-ob-"),
    "oauth/openbanking": ("-ob-",),
}


def _spaced(values: list[str]) -> list[str]:
    return [item for value in values for item in value.replace(",", " ").split()]


def _grant(state: FakeState, fields: dict[str, str], issuer: str) -> dict[str, Any]:
    grant_type = fields.get("grant_type")
    if not grant_type:
        raise OAuthError(400, "invalid_request", "grant_type is required.")
    required = _GRANT_FIELDS.get(grant_type)
    if required is None:
        raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}.")
    missing = [name for name in required if not fields.get(name)]
    if missing:
        raise OAuthError(400, "invalid_request", f"Missing field(s): {', '.join(missing)}.")
    client = state.authenticate_client(fields["client_id"], fields["client_secret"])
    if grant_type == "authorization_code":
        return state.exchange_code(
            client, fields["code"], fields["redirect_uri"], fields.get("code_verifier"), issuer
        )
    if grant_type == "refresh_token":
        return state.refresh(client, fields["refresh_token"], issuer)
    return state.client_credentials(client, fields.get("scope"), issuer)


def _extend(state: FakeState, request: Request, body: dict[str, Any]) -> Response:
    instance = "/connections/extend"
    type_ = "https://docs.truelayer.com/#connection-api-errors"
    errors: dict[str, list[str]] = {}
    for name in _EXTEND_REQUIRED:
        if body.get(name) in (None, ""):
            label = "".join(part.capitalize() for part in name.split("_"))
            errors[label] = [f"The {label} field is required."]
    for name in ("client_id", "client_secret", "refresh_token", "redirect_uri", "state"):
        if name in body and body[name] is not None and not isinstance(body[name], str):
            errors.setdefault(name, []).append(f"{name} must be a string.")
    user = body.get("user")
    if user is not None and not isinstance(user, dict):
        errors.setdefault("User", []).append("user must be an object.")
    if body.get("user_has_reconfirmed_consent") is False:
        errors["UserHasReconfirmedConsent"] = ["false is not supported yet."]
    if body.get("response_mode") not in (None, "form_post"):
        errors["ResponseMode"] = ["response_mode must be form_post if given."]
    if errors:
        return problem(
            400,
            title="One or more validation errors occurred.",
            instance=instance,
            errors=errors,
            type_=type_,
        )
    client = state.clients.get(body["client_id"])
    if client is None or client.client_secret != body["client_secret"]:
        return problem(
            401,
            title="Unauthorized",
            detail="Client credentials invalid.",
            instance=instance,
            type_=type_,
        )
    assert isinstance(user, dict)
    if not client.regulated and not (
        user.get("name") and (user.get("email") or user.get("phone"))
    ):
        return problem(
            400,
            title="One or more validation errors occurred.",
            instance=instance,
            errors={"User": ["Unregulated clients must send user.name and user.email or phone."]},
            type_=type_,
        )
    if body["redirect_uri"] not in client.redirect_uris:
        return problem(
            400,
            title="One or more validation errors occurred.",
            instance=instance,
            errors={"RedirectUri": ["redirect_uri is not registered for this client."]},
            type_=type_,
        )
    try:
        connection = state.use_refresh_token(
            client.client_id, body["refresh_token"], extending=True
        )
    except OAuthError:
        return problem(
            401,
            title="Unauthorized",
            detail="Refresh token missing or invalid.",
            instance=instance,
            type_=type_,
        )
    if connection.consent_revoked:
        return problem(
            422,
            title="No way to extend this connection",
            detail="This connection cannot be extended",
            instance=instance,
            type_=type_,
        )
    if connection.persona.eternal:
        # Rotation applies as for a refresh; consent runs again from now.
        now = state.clock()
        connection.consent_expires_at = now + state.consent_ttl
        connection.consent_updated_at = now
        tokens = state.issue_tokens(connection, issuer_of(request), with_scope=False)
        return json_response({"action_needed": "no_action_needed", **tokens})
    code_challenge = body.get("code_challenge")
    # Reconfirmation: the user only confirms consent again (no bank login).
    reconfirm = connection.persona.reconfirms
    session = state.new_session(
        client_id=client.client_id,
        redirect_uri=body["redirect_uri"],
        scopes=connection.scopes,
        state=body.get("state"),
        response_mode=body.get("response_mode"),
        code_challenge=code_challenge if isinstance(code_challenge, str) else None,
        offered=(connection.provider_id,),
        provider_id=connection.provider_id,
        language="en",
        step="consent" if reconfirm else "login",
        persona=connection.persona if reconfirm else None,
        reauth_credentials_id=connection.credentials_id,
    )
    link = issuer_of(request) + f"/dialog/{session.session_id}"
    action = "reconfirmation_of_consent_needed" if reconfirm else "authentication_needed"
    return json_response({"action_needed": action, "user_input_link": link})
