"""``tl.payouts.wait_for`` is woken by a verified payout webhook, as ``tl.payments.wait_for``
is: the Session's sleep never returns on its own here, so only the webhook (delivered by
the emulator to ``tl.webhooks.asgi_app``) can end the wait."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from tests.support.emulator import START
from truelayer_async.models import (
    ExternalAccountBeneficiary,
    PayoutExecuted,
    SortCodeAccountNumber,
)
from truelayer_async.testing import FakeClock, FakeTrueLayer
from truelayer_async.webhooks import Event

pytestmark = pytest.mark.anyio

EXTERNAL = ExternalAccountBeneficiary(
    account_holder_name="Jane Roe",
    account_identifier=SortCodeAccountNumber(sort_code="040668", account_number="00000871"),
    reference="Withdrawal",
)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the webhook sender runs on asyncio
async def test_payouts_wait_for_is_woken_by_the_payout_webhook() -> None:
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
        created = await tl.payouts.create(
            merchant_account_id=fake.merchant_account_id("GBP"),
            amount_in_minor=1000,
            currency="GBP",
            beneficiary=EXTERNAL,
        )
        result: list[Any] = []

        async def wait() -> None:
            result.append(await tl.payouts.wait_for(created.id))

        async with anyio.create_task_group() as group:
            group.start_soon(wait)
            with anyio.fail_after(30):  # a hang guard, not a timing assertion
                while not slept:  # the wait is asleep after its first poll
                    await anyio.sleep(0.01)
                fake.advance(2 * fake.payment_timing.payout_delay)  # executes; webhook
                while not result:
                    await anyio.sleep(0.01)
    (executed,) = result
    assert isinstance(executed, PayoutExecuted) and executed.id == created.id
    assert slept == [1.0]  # one pause, cut short by the webhook
