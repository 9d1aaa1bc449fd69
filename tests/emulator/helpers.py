"""Calling the in-process emulator by hand: PKCE pairs, token requests and a
whole connect (the auth links come from ``tests.support.auth_links``)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

import httpx

from tests.support.auth_links import AUTH, auth_link
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    complete_consent,
)

API = "https://api.truelayer.fake"


def pkce_pair() -> tuple[str, str]:
    """``(verifier, S256 challenge)``."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def token_request(
    client: httpx.AsyncClient, base: str = AUTH, **fields: str
) -> httpx.Response:
    """``POST /connect/token`` form-encoded, with the default client's credentials."""
    body = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET, **fields}
    return await client.post(f"{base}/connect/token", data=body)


async def connect(
    client: httpx.AsyncClient,
    base: str = AUTH,
    *,
    username: str = "john",
    password: str = "doe",
    **link_params: str | None,
) -> dict[str, Any]:
    """Walk the dialog and exchange the code; returns the token response."""
    result = await complete_consent(
        client, auth_link(base, **link_params), username=username, password=password
    )
    assert result.code is not None, result
    response = await token_request(
        client,
        base,
        grant_type="authorization_code",
        code=result.code,
        redirect_uri=DEFAULT_REDIRECT_URI,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
