"""The signed Payments-family service tests' pieces (payments, payouts, mandates, Data
API v3): a Session with a real P-521 signing key whose sleep advances the fake clock (the
``key``, ``napping`` and ``tl`` fixtures, re-exported by those folders' conftests), and
helpers to answer requests and check what went on the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.signing_keys import pem_of
from tests.support.token_endpoint import REDIRECT
from truelayer_async import Session
from truelayer_async.signing import verify
from truelayer_async.testing import FakeClock

__all__ = [
    "API",
    "KID",
    "ClockSleep",
    "grant",
    "key",
    "napping",
    "problem",
    "signed_by",
    "tl",
]

API = "https://api.truelayer-sandbox.com/v3"
KID = "45fc75cf-5649-4134-84b3-192c2c78e990"


class ClockSleep:
    """An instant sleep that moves the fake clock on and records each delay."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds)


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP521R1())


@pytest.fixture
def napping(clock: FakeClock) -> ClockSleep:
    return ClockSleep(clock)


@pytest.fixture
async def tl(
    key: ec.EllipticCurvePrivateKey, clock: FakeClock, napping: ClockSleep
) -> AsyncIterator[Session]:
    async with Session(
        "client",
        "secret",
        redirect_uri=REDIRECT,
        clock=clock,
        sleep=napping,
        signing_key_id=KID,
        signing_private_key=pem_of(key),
    ) as session:
        yield session


def grant(n: int) -> httpx.Response:
    """The token endpoint's answer: client-credentials token ``cc-{n}``."""
    return httpx.Response(
        200, json={"access_token": f"cc-{n}", "expires_in": 3600, "token_type": "Bearer"}
    )


def signed_by(request: httpx.Request, key: ec.EllipticCurvePrivateKey) -> None:
    """Assert ``request`` carries a valid Tl-Signature over its bytes, key included."""
    header = verify(
        request.headers["Tl-Signature"],
        method=request.method,
        path=request.url.raw_path.decode().split("?")[0],
        body=request.content,
        headers=request.headers,
        public_key=key.public_key(),
        required_headers=["Idempotency-Key"],
    )
    assert header.kid == KID


def problem(status: int, slug: str, title: str) -> httpx.Response:
    """A Payments API problem+json answer."""
    body: dict[str, Any] = {
        "type": f"https://docs.truelayer.com/docs/payments-api-errors#{slug}",
        "title": title,
        "status": status,
        "trace_id": "trace-1",
    }
    return httpx.Response(
        status, json=body, headers={"Content-Type": "application/problem+json; charset=UTF-8"}
    )
