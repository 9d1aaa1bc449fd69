"""Sending a request with the user's token, and replaying it once after a 401."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any

from .. import errors as e
from .._error_mapping import Api
from .._http import RateGate, Response
from .._retry import RetryMode
from .._secret import Secret
from ..tokens import TokenType
from ._scopes import check_scopes

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["authorized_request"]


async def authorized_request(
    session: Session,
    method: str,
    url: str,
    *,
    user: str | None,
    api: Api,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    json_body: Mapping[str, Any] | None = None,
    retry_mode: RetryMode | None = None,
    rate_gate: RateGate | None = None,
    scopes: tuple[str, ...] = (),
) -> Response:
    """Send with the user's DATA token; on 401 refresh that token (single flight) and replay once.

    ``scopes`` are those the endpoint needs: when the token's scopes are known and lack
    one, ``InsufficientScopeError`` is raised before anything is sent.

    Only the token the failed request used is invalidated: if another task already
    replaced it, the replay uses the newer token without a second refresh. A 401 on the
    replay raises ``UnauthenticatedError``.
    """
    tokens = session.auth.tokens
    # What session.auth.valid_token(TokenType.DATA, user=user) does, minus a layer: its
    # only other step, the client-credentials fallback, is for PAYMENTS tokens.
    token = await tokens.valid(tokens.key(TokenType.DATA, user))
    check_scopes(token.scopes, scopes)
    requester = session.requester()

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
        )

    try:
        return await send(token.access_token)
    except e.ApiError as exc:
        if exc.status_code != 401:
            raise
    token = await tokens.refresh(tokens.key(TokenType.DATA, user), used=token.access_token)
    try:
        return await send(token.access_token)
    except e.ApiError as exc:
        if exc.status_code != 401:
            raise
        unauthenticated = e.UnauthenticatedError(
            401,
            exc.error,
            exc.description,
            details=exc.details,
            correlation_id=exc.correlation_id,
        )
    raise unauthenticated
