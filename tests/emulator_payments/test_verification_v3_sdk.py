"""``tl.verification`` (Verification v3) against the emulator, nothing mocked: in-process
and served over real HTTP, AHV through polling and through the signed webhook that
``tl.webhooks`` verifies and parses."""

from __future__ import annotations

from datetime import date
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from tests.support.emulator import START
from tests.support.webhook_receiver import RawReceiver
from truelayer_async import errors as e
from truelayer_async.models import (
    BankLookupResult,
    HolderMatch,
    HolderMatchNotPossible,
    HolderPartialMatch,
    Iban,
    SortCodeAccountNumber,
    VerificationCompleted,
    VerificationFailed,
    VerificationPending,
)
from truelayer_async.testing import FakeClock, FakeTrueLayer
from truelayer_async.webhooks import AccountHolderVerificationCompleted, Event

pytestmark = pytest.mark.anyio

UK = SortCodeAccountNumber(sort_code="040004", account_number="12345678")
FR = Iban(iban="FR1420041010050500013M02606")


async def test_ahv_through_polling_with_every_outcome(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        cases = [
            ("John Doe", UK, VerificationCompleted, HolderMatch()),
            (
                "Jon Doe",
                UK,
                VerificationCompleted,
                HolderPartialMatch(account_holder_name="John Doe"),
            ),
            (
                "John Doe",
                Iban(iban="GB33BUKB20201555550000"),
                VerificationCompleted,
                HolderMatchNotPossible(reason="Bank unable to match"),
            ),
            (
                "John Doe",
                SortCodeAccountNumber(sort_code="040004", account_number="00009999"),
                VerificationFailed,
                None,
            ),
        ]
        for name, account, kind, match in cases:
            request_id = await tl.verification.account_holder(
                name=name, account_identifier=account
            )
            assert await tl.verification.get_account_holder(request_id) == VerificationPending(
                id=request_id
            )
            result = await tl.verification.wait_for_account_holder(request_id, timeout=30)
            assert isinstance(result, kind) and result.id == request_id
            if isinstance(result, VerificationCompleted):
                assert result.match_result == match
            else:
                assert result == VerificationFailed(id=request_id, failure_reason="provider_error")


async def test_idempotency_and_errors_through_the_sdk(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        first = await tl.verification.account_holder(
            name="John Doe", account_identifier=UK, idempotency_key="order-1"
        )
        again = await tl.verification.account_holder(
            name="John Doe", account_identifier=UK, idempotency_key="order-1"
        )
        assert again == first
        with pytest.raises(e.IdempotencyKeyReuseError) as reuse:
            await tl.verification.account_holder(
                name="Jane Roe", account_identifier=UK, idempotency_key="order-1"
            )
        assert reuse.value.correlation_id and reuse.value.should_retry is False
        assert isinstance(reuse.value, e.VerificationIdempotencyKeyReuseError)
        with pytest.raises(e.VerificationApiError) as missing:
            await tl.verification.get_account_holder("550e8400-e29b-41d4-a716-446655440000")
        assert not isinstance(missing.value, e.PaymentsApiError)
        assert missing.value.status_code == 404 and missing.value.correlation_id
        assert missing.value.api == "verification" and missing.value.problem_type


async def test_fr_details_and_bank_lookup_through_the_sdk(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        details = await tl.verification.verify_account_details_fr(
            name="Jean Dupont", iban=FR, account_type="personal", date_of_birth=date(1980, 1, 1)
        )
        assert (details.name_match.type, details.name_match.match_score) == ("match", 100)
        assert details.account_status == "active"
        assert details.date_of_birth_match is not None
        assert details.date_of_birth_match.type == "match"
        assert await tl.verification.bank_lookup(UK) == BankLookupResult(
            bic="MONZGB2LXXX", name="MONZO BANK LIMITED"
        )


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the webhook sender runs on asyncio
async def test_ahv_through_the_webhook_in_process() -> None:
    events: list[Event] = []
    box: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await box["app"](scope, receive, send)

    async with (
        FakeTrueLayer(
            clock=FakeClock(START),
            webhook_transport=httpx.ASGITransport(app=app),
            webhook_retry_delays=(),
        ) as fake,
        fake.session() as tl,
    ):

        async def on_event(event: Event) -> None:
            events.append(event)

        box["app"] = Starlette(
            routes=[Route("/hooks", tl.webhooks.asgi_app(on_event), methods=["POST"])]
        )
        fake.set_webhook_uri("https://merchant.example/hooks")
        request_id = await tl.verification.account_holder(name="J Doe", account_identifier=UK)
        fake.advance(fake.payment_timing.verification_delay)
        with anyio.fail_after(30):  # a hang guard, not a timing assertion
            while not events:
                await anyio.sleep(0.01)
    (event,) = events
    assert isinstance(event, AccountHolderVerificationCompleted)
    assert event.account_holder_verification_id == request_id
    assert (event.match_result.type, event.match_result.account_holder_name) == (
        "partial_match",
        "John Doe",
    )


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_ahv_served_over_http_by_polling_and_by_webhook() -> None:
    receiver = RawReceiver()
    try:
        async with FakeTrueLayer(clock=FakeClock(START), webhook_retry_delays=()) as fake:
            with fake.serve_in_thread() as base_url:
                fake.set_webhook_uri(receiver.url)
                async with fake.session() as tl:
                    assert tl.environment.api_url.startswith(base_url)
                    request_id = await tl.verification.account_holder(
                        name="John Doe", account_identifier=FR
                    )
                    result = await tl.verification.wait_for_account_holder(request_id, timeout=30)
                    assert result == VerificationCompleted(
                        id=request_id, match_result=HolderMatch()
                    )
                    with anyio.fail_after(30):  # a hang guard, not a timing assertion
                        while not receiver.received:
                            await anyio.sleep(0.01)
                    headers, body, path = receiver.received[0]
                    event = await tl.webhooks.verify(headers, body, path=path)
        assert isinstance(event, AccountHolderVerificationCompleted)
        assert event.account_holder_verification_id == request_id
        assert event.match_result.type == "match"
    finally:
        receiver.close()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the webhook sender runs on asyncio
async def test_wait_for_account_holder_is_woken_by_the_webhook() -> None:
    # Issue #20: wait_for_account_holder is "satisfied by the webhook". The Session's sleep
    # never returns on its own here, so only the verified webhook can end the wait.
    box: dict[str, Any] = {}
    slept: list[float] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await box["app"](scope, receive, send)

    async def endless_sleep(seconds: float) -> None:
        slept.append(seconds)
        await anyio.sleep_forever()

    async def ignore(event: Event) -> None:
        return None

    async with (
        FakeTrueLayer(
            clock=FakeClock(START),
            webhook_transport=httpx.ASGITransport(app=app),
            webhook_retry_delays=(),
        ) as fake,
        fake.session(sleep=endless_sleep) as tl,
    ):
        box["app"] = Starlette(
            routes=[Route("/hooks", tl.webhooks.asgi_app(ignore), methods=["POST"])]
        )
        fake.set_webhook_uri("https://merchant.example/hooks")
        request_id = await tl.verification.account_holder(name="John Doe", account_identifier=UK)
        async with anyio.create_task_group() as group:
            result: list[Any] = []

            async def wait() -> None:
                result.append(await tl.verification.wait_for_account_holder(request_id))

            group.start_soon(wait)
            with anyio.fail_after(30):  # a hang guard, not a timing assertion
                while not slept:  # the wait is asleep after its first poll
                    await anyio.sleep(0.01)
                fake.advance(fake.payment_timing.verification_delay)  # completes; webhook
                while not result:
                    await anyio.sleep(0.01)
    (completed,) = result
    assert completed.status == "completed" and completed.match_result.type == "match"
    assert slept == [1.0]  # one pause, cut short by the webhook
