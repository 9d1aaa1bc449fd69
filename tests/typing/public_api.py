"""The public API as a user's type checker sees it: checked by ``mypy --strict`` (never run).

``tests/typing/test_public_api.py`` runs mypy over this file; a wrong annotation in the
SDK makes one of the ``assert_type`` lines below fail.
"""

from __future__ import annotations

import sys

from truelayer_async import (
    AsyncDataService,
    AuthService,
    DataService,
    Environment,
    PendingResult,
    RawResponse,
    Session,
    Token,
    TokenType,
    VerificationService,
)
from truelayer_async import errors as e
from truelayer_async.models import Account, Card, Me, Provider, Transaction, VerificationResult

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # pragma: no cover
    from typing_extensions import assert_type


async def services(tl: Session) -> None:
    assert_type(tl.auth, AuthService)
    assert_type(tl.data, DataService)
    assert_type(tl.verification, VerificationService)
    assert_type(tl.environment, Environment)
    assert_type(tl.client_id, str)
    assert_type(tl.environment.payments_url, str)
    assert_type(tl.environment.webhook_jwks_url, str | None)


async def data(tl: Session) -> None:
    assert_type(await tl.data.me(user="u"), Me)
    assert_type(await tl.data.accounts(user="u"), list[Account])
    assert_type(await tl.data.card("c", user="u"), Card)
    assert_type(await tl.data.transactions("a", user="u", from_=None), list[Transaction])
    assert_type(await tl.data.validate_token(user="u"), bool)


async def mirrors(tl: Session) -> None:
    raw = await tl.data.with_raw_response.accounts(user="u")
    assert_type(raw, RawResponse[list[Account]])
    assert_type(raw.parsed, list[Account])
    assert_type(await tl.data.with_raw_response.me(), RawResponse[Me])
    assert_type(await tl.auth.with_raw_response.providers(), RawResponse[list[Provider]])
    assert_type(
        await tl.verification.with_raw_response.verify("Jane"), RawResponse[VerificationResult]
    )
    pending_mode = tl.data.with_async_mode(webhook_uri="https://hook.example/x")
    assert_type(pending_mode, AsyncDataService)
    pending = await pending_mode.transactions("a", user="u")
    assert_type(pending, PendingResult[list[Transaction]])
    assert_type(await pending.result(), list[Transaction])


async def token_types(tl: Session) -> None:
    # A TokenType or its value.
    assert_type(await tl.auth.valid_token("data", user="u"), Token)
    assert_type(await tl.auth.valid_token(TokenType.PAYMENTS), Token)
    assert_type(await tl.auth.refresh_token("payments"), Token)
    assert_type(await tl.auth.client_credentials(["payments"], "payments"), Token)


def errors(exc: e.ApiError) -> None:
    assert_type(exc.api, str | None)
    if isinstance(exc, e.PaymentsApiError):
        assert_type(exc.trace_id, str | None)
        assert_type(exc.should_retry, bool | None)


async def observability() -> None:
    from truelayer_async.correlation import client_correlation_id
    from truelayer_async.hooks import ResponseEvent, Telemetry
    from truelayer_async.otel import OpenTelemetry

    async def on_response(event: ResponseEvent) -> None:
        assert_type(event.status_code, int | None)
        assert_type(event.correlation_id, str | None)

    telemetry: Telemetry = OpenTelemetry(record_user_ids=False)
    Session("id", "secret", event_hooks={"response": [on_response]}, telemetry=telemetry)
    with client_correlation_id("req-1") as value:
        assert_type(value, str | None)


def correlation_on_errors(exc: e.TrueLayerError) -> None:
    assert_type(exc.client_correlation_id, str | None)
