"""The reliability campaign's pieces (docs/reliability.md): sentinel secrets, the guard that
scans for them, a strict respx token endpoint, and small helpers.

* ``Secrets`` plants one sentinel in the client secret, every token, code, verifier and
  state; ``Guard`` scans every exception and repr it is handed for it.
* ``TokenServer`` is a strict respx token endpoint: it rotates refresh tokens, knows
  the newest one, and can fail in every way §4 lists.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, settings

from tests.secret_scan import assert_no_secret_anywhere
from tests.support.token_endpoint import form_of
from truelayer_async import Session, TokenType
from truelayer_async.tokens import TokenKey, TokenRecord

AUTH = "https://auth.truelayer-sandbox.com"
TOKEN_URL = f"{AUTH}/connect/token"
API = "https://api.truelayer-sandbox.com"
DATA = f"{API}/data/v1"
ACCOUNTS_URL = f"{DATA}/accounts"
REDIRECT = "https://app.example/callback"
CLIENT_ID = "reliability-client"

#: Hypothesis settings for this directory: fast, and derandomized under CI.
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- sentinel secrets ---------------------------------------------------------------------


@attrs.frozen
class Secrets:
    """Every credential of one test, each carrying the sentinel."""

    sentinel: str

    @property
    def client_secret(self) -> str:
        return f"{self.sentinel}-client-secret"

    @property
    def code(self) -> str:
        return f"{self.sentinel}-code"

    @property
    def verifier(self) -> str:
        return f"{self.sentinel}-verifier-0123456789"

    @property
    def state(self) -> str:
        return f"{self.sentinel}-state"

    def access(self, n: int) -> str:
        return f"{self.sentinel}-at-{n}"

    def refresh(self, n: int) -> str:
        return f"{self.sentinel}-rt-{n}"


class Guard:
    """Collects what a test hands it and proves the sentinel is in none of it."""

    def __init__(self, sentinel: str) -> None:
        self.sentinel = sentinel
        self.checked = 0

    def exc(self, exc: BaseException) -> None:
        """Message, args, attributes, chained causes and SDK traceback locals."""
        assert_no_secret_anywhere(exc, self.sentinel)
        self.checked += 1

    def obj(self, *objs: object) -> None:
        for obj in objs:
            for text in (repr(obj), str(obj), f"{obj!r}"):
                assert self.sentinel not in text, type(obj).__name__

    @contextmanager
    def raises(self, cls: type[BaseException] | tuple[type[BaseException], ...]) -> Iterator[Any]:
        """``pytest.raises`` that also scans the exception it caught."""
        with pytest.raises(cls) as info:
            yield info
        self.exc(info.value)


# -- a Session and a strict token endpoint -------------------------------------------------


def token_json(
    access: str | None, refresh: str | None, expires_in: Any = 3600, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"token_type": "Bearer", "expires_in": expires_in}
    if access is not None:
        body["access_token"] = access
    if refresh is not None:
        body["refresh_token"] = refresh
    body.update(extra)
    return body


class TokenServer:
    """A strict token endpoint for respx: rotates refresh tokens, detects reuse.

    ``script`` holds one-shot outcomes consumed before normal handling: an
    ``httpx.Response``, an exception to raise, ``"commit-then-drop"`` (rotate, then lose
    the response with ``ReadTimeout``) or a callable taking the request.
    """

    def __init__(self, secrets: Secrets, *, reuse: str = "revoke") -> None:
        self.secrets = secrets
        self.reuse = reuse
        self.generation = 0
        self.latest_refresh: str | None = None
        self.previous_refresh: str | None = None
        self.revoked = False
        self.script: list[Any] = []
        self.calls: list[dict[str, str]] = []

    @property
    def latest_access(self) -> str:
        return self.secrets.access(self.generation)

    def issue(self) -> httpx.Response:
        self.generation += 1
        self.previous_refresh = self.latest_refresh
        self.latest_refresh = self.secrets.refresh(self.generation)
        return httpx.Response(200, json=token_json(self.latest_access, self.latest_refresh))

    def handle(self, form: dict[str, str]) -> httpx.Response:
        grant = form.get("grant_type")
        if form.get("client_secret") != self.secrets.client_secret:
            return httpx.Response(401, json={"error": "invalid_client"})
        if grant == "authorization_code":
            self.revoked = False
            return self.issue()
        if grant == "client_credentials":
            return httpx.Response(200, json=token_json(f"{self.secrets.sentinel}-cc", None))
        presented = form.get("refresh_token")
        if self.revoked or presented is None:
            return httpx.Response(400, json={"error": "invalid_grant"})
        if presented == self.latest_refresh:
            return self.issue()
        if self.reuse == "grace" and presented == self.previous_refresh:
            self.previous_refresh = None
            return self.issue()
        self.revoked = self.reuse == "revoke"
        return httpx.Response(400, json={"error": "invalid_grant"})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = form_of(request)
        self.calls.append(form)
        if self.script:
            step = self.script.pop(0)
            if step == "commit-then-drop":
                self.handle(form)
                raise httpx.ReadTimeout("response lost", request=request)
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, httpx.Response):
                return step
            if callable(step):
                result: httpx.Response = step(request)
                return result
        return self.handle(form)

    def count(self, grant: str) -> int:
        return sum(1 for c in self.calls if c.get("grant_type") == grant)


def data_key(tl: Session, user: str | None = "u") -> TokenKey:
    return tl._core.tokens.key(TokenType.DATA, user)


async def stored(tl: Session, user: str | None = "u") -> TokenRecord | None:
    return await tl.token_store.get(data_key(tl, user))


def refresh_of(record: TokenRecord | None) -> str | None:
    assert record is not None
    token = record.token.refresh_token
    return None if token is None else token.get_secret_value()


async def connect(tl: Session, secrets: Secrets, user: str | None = "u") -> None:
    """Exchange the sentinel code (through a checked callback) for generation-1 tokens."""
    state = f"{secrets.state}-{uuid.uuid4().hex}"
    link = tl.auth.auth_link(scopes=["accounts", "offline_access"], pkce=True, state=state)
    code = tl.auth.parse_callback(
        f"{REDIRECT}?code={secrets.code}&state={link.state}", expected_state=link.state
    )
    await tl.auth.exchange_code(code, user=user, code_verifier=secrets.verifier)


def accounts_body() -> dict[str, Any]:
    return {
        "results": [
            {
                "account_id": "acc-1",
                "account_type": "TRANSACTION",
                "display_name": "Current",
                "currency": "GBP",
                "update_timestamp": "2024-01-01T00:00:00Z",
                "account_number": {"number": "12345678", "sort_code": "01-02-03"},
                "provider": {"provider_id": "mock"},
            }
        ],
        "status": "Succeeded",
    }
