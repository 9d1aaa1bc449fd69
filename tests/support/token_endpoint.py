"""The sandbox's token endpoint as the auth tests mock it: URLs, client, bodies, forms."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import httpx

__all__ = [
    "AUTH",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "REDIRECT",
    "TOKEN_URL",
    "form_of",
    "token_body",
    "token_response",
]

AUTH = "https://auth.truelayer-sandbox.com"
TOKEN_URL = f"{AUTH}/connect/token"
REDIRECT = "http://127.0.0.1:8080/callback"
CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "client-secret-value"


def token_body(
    access: str = "at-1",
    refresh: str | None = "rt-1",
    expires_in: Any = 3600,
    scope: str | None = "info accounts balance transactions offline_access",
    **extra: Any,
) -> dict[str, Any]:
    """A ``/connect/token`` success body; ``None`` leaves a field out."""
    body: dict[str, Any] = {
        "access_token": access,
        "expires_in": expires_in,
        "token_type": "Bearer",
    }
    if refresh is not None:
        body["refresh_token"] = refresh
    if scope is not None:
        body["scope"] = scope
    body.update(extra)
    return body


def token_response(**kwargs: Any) -> httpx.Response:
    """A 200 response carrying ``token_body(**kwargs)``."""
    return httpx.Response(200, json=token_body(**kwargs))


def form_of(request: httpx.Request) -> dict[str, str]:
    """The form fields a request sent (one value each); asserts it was a form."""
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}
