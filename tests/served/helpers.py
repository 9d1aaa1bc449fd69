"""Small plain-HTTP helpers for the served-emulator suite."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

T = TypeVar("T")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def connect(http: httpx.Client, username: str = "john", **extra: Any) -> dict[str, Any]:
    """``POST /_emulator/connections``; returns the token response."""
    response = http.post("/_emulator/connections", json={"username": username, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(http: httpx.Client, refresh_token: str) -> httpx.Response:
    return http.post(
        "/connect/token",
        data={
            "grant_type": "refresh_token",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "refresh_token": refresh_token,
        },
    )


def claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def server_now(http: httpx.Client) -> float:
    now: float = http.get("/_emulator/clock").json()["now"]
    return now


def wait_for(check: Callable[[], T | None], *, limit: float = 30.0, every: float = 0.05) -> T:
    """Poll ``check`` until it returns something; fail after ``limit`` seconds (a safety
    net against hanging, never an assertion about how long things take)."""
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(every)
