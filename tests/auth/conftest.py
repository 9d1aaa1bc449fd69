"""Fixtures for auth tests: a Session on a fake clock, respx routes for /connect/token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import pytest_asyncio
import respx

from tests.conftest import FakeClock, RecordingSleep
from truelayer_async import Session

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
    return httpx.Response(200, json=token_body(**kwargs))


def form_of(request: httpx.Request) -> dict[str, str]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}


@pytest_asyncio.fixture
async def tl(clock: FakeClock, sleeps: RecordingSleep) -> AsyncIterator[Session]:
    async with Session(
        CLIENT_ID, CLIENT_SECRET, redirect_uri=REDIRECT, clock=clock, sleep=sleeps
    ) as session:
        yield session


@pytest.fixture
def token_route(respx_mock: respx.MockRouter) -> respx.Route:
    return respx_mock.post(TOKEN_URL)
