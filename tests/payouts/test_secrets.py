"""Resource tokens of payouts and mandates never show: not in logs, reprs, exception
messages, URLs, or the locals of any SDK frame on an error's traceback."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx

from tests.secret_scan import assert_no_secret_anywhere, assert_no_secret_in_logs
from tests.support import payout_samples as samples
from tests.support.signed_payments import API, problem
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async._converter import structure
from truelayer_async.models import CreatedMandate, CreatedPayout

PAYOUT = f"{API}/payouts/{samples.PAYOUT_ID}"
MANDATE = f"{API}/mandates/{samples.MANDATE_ID}"

Call = Callable[[Session, str], Awaitable[Any]]
CALLS: dict[str, tuple[str, str, Call]] = {
    "payout flow start": (
        "POST",
        f"{PAYOUT}/authorization-flow",
        lambda tl, token: tl.payouts.start_authorization_flow(
            samples.PAYOUT_ID, resource_token=token, return_uri="https://shop.example/r"
        ),
    ),
    "payout flow get": (
        "GET",
        f"{PAYOUT}/authorization-flow",
        lambda tl, token: tl.payouts.get_authorization_flow(
            samples.PAYOUT_ID, resource_token=token
        ),
    ),
    "mandate get": (
        "GET",
        MANDATE,
        lambda tl, token: tl.mandates.get(samples.MANDATE_ID, resource_token=token),
    ),
    "mandate flow start": (
        "POST",
        f"{MANDATE}/authorization-flow",
        lambda tl, token: tl.mandates.start_authorization_flow(
            samples.MANDATE_ID, return_uri="https://shop.example/r", resource_token=token
        ),
    ),
    "mandate provider selection": (
        "POST",
        f"{MANDATE}/authorization-flow/actions/provider-selection",
        lambda tl, token: tl.mandates.submit_provider_selection(
            samples.MANDATE_ID, "ob-bank", resource_token=token
        ),
    ),
    "mandate consent": (
        "POST",
        f"{MANDATE}/authorization-flow/actions/consent",
        lambda tl, token: tl.mandates.submit_consent(samples.MANDATE_ID, resource_token=token),
    ),
    "mandate funds": (
        "GET",
        f"{MANDATE}/funds",
        lambda tl, token: tl.mandates.confirm_funds(
            samples.MANDATE_ID, amount_in_minor=1, currency="GBP", resource_token=token
        ),
    ),
}


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(CALLS))
async def test_a_resource_token_is_nowhere_on_an_error(
    tl: Session, sentinel: str, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    method, url, call = CALLS[name]
    caplog.set_level(logging.DEBUG)
    with respx.mock() as wire:
        route = wire.route(method=method, url=url).mock(
            return_value=problem(400, "invalid-parameters", "Invalid Parameters")
        )
        with pytest.raises(e.PaymentsApiError) as caught:
            await call(tl, sentinel)
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {sentinel}"  # it was used…
    assert sentinel not in str(request.url)  # …as a header only
    assert_no_secret_anywhere(caught.value, sentinel)
    assert_no_secret_in_logs(caplog.records, sentinel)


def test_created_resources_hide_their_token(sentinel: str) -> None:
    payout = structure(
        {**samples.CREATED_VERIFIED_PAYOUT, "resource_token": sentinel}, CreatedPayout
    )
    mandate = structure({**samples.CREATED_MANDATE, "resource_token": sentinel}, CreatedMandate)
    for created in (payout, mandate):
        assert sentinel not in repr(created) and sentinel not in str(created)
        assert created.resource_token is not None
        assert created.resource_token.get_secret_value() == sentinel


@pytest.mark.anyio
async def test_a_bad_resource_token_type_is_a_typed_error(tl: Session) -> None:
    with pytest.raises(e.InvalidParameterError, match="resource_token"):
        await tl.mandates.get(samples.MANDATE_ID, resource_token=42)  # type: ignore[arg-type]
    with respx.mock(assert_all_called=False) as wire:
        route = wire.route().mock(return_value=httpx.Response(500))
        with pytest.raises(e.InvalidParameterError, match="resource_token"):
            await tl.payouts.get_authorization_flow(
                samples.PAYOUT_ID,
                resource_token=None,  # type: ignore[arg-type]
            )
    assert not route.called
