"""The Payments webhooks the emulator sends for the journeys above, received by the
SDK's ASGI endpoint (``tl.webhooks.asgi_app``) in-process: verified, parsed into typed
events, each naming the right payment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from tests.e2e_payments.helpers import USER, create, external, merchant, settled_payment
from tests.support.emulator import START
from truelayer_async import Session
from truelayer_async.testing import FakeClock, FakeTrueLayer
from truelayer_async.webhooks import events as ev

pytestmark = pytest.mark.anyio

HOOKS = "https://merchant.example/hooks"


class Inbox:
    """The events the SDK's endpoint accepted, in arrival order."""

    def __init__(self, fake: FakeTrueLayer) -> None:
        self.fake = fake
        self.events: list[ev.Event] = []

    async def receive(self, event: ev.Event) -> None:
        self.events.append(event)

    async def settle(self) -> list[ev.Event]:
        """Wait for every delivery in flight; all of them must have been accepted."""
        with anyio.fail_after(30):  # a hang guard, not a timing assertion
            while any(w.outcome == "pending" for w in self.fake.webhooks):
                await anyio.sleep(0.01)
        assert [w.outcome for w in self.fake.webhooks] == ["delivered"] * len(self.fake.webhooks)
        assert len(self.events) == len(self.fake.webhooks)
        return self.events

    def of(self, kind: type[ev.Event]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


@pytest.fixture
def anyio_backend() -> str:
    """The emulator's webhook sender runs on asyncio."""
    return "asyncio"


@pytest.fixture
async def wired() -> AsyncIterator[tuple[FakeTrueLayer, Session, Inbox]]:
    box: dict[str, Any] = {}

    async def merchant_site(scope: Any, receive: Any, send: Any) -> None:
        await box["app"](scope, receive, send)

    async with FakeTrueLayer(
        clock=FakeClock(START),
        webhook_transport=httpx.ASGITransport(app=merchant_site),
        webhook_retry_delays=(),
    ) as fake:
        inbox = Inbox(fake)
        async with fake.session() as tl:
            box["app"] = Starlette(
                routes=[Route("/hooks", tl.webhooks.asgi_app(inbox.receive), methods=["POST"])]
            )
            fake.set_webhook_uri(HOOKS)
            yield fake, tl, inbox


async def test_a_settled_payment_and_its_refunds(
    wired: tuple[FakeTrueLayer, Session, Inbox],
) -> None:
    fake, tl, inbox = wired
    payment_id = await settled_payment(tl, fake, amount=1000)
    part = await tl.payments.create_refund(payment_id, reference="Part", amount_in_minor=300)
    fake.advance(5)
    rest = await tl.payments.create_refund(payment_id, reference="Rest")
    fake.fail_refund(payment_id, rest.id)
    fake.advance(5)
    events = await inbox.settle()
    assert [type(event) for event in events] == [
        ev.PaymentAuthorized,
        ev.PaymentExecuted,
        ev.PaymentSettled,
        ev.PaymentCreditable,
        ev.RefundExecuted,
        ev.RefundFailed,
    ]
    assert {event.payment_id for event in events} == {payment_id}  # type: ignore[attr-defined]
    [executed] = inbox.of(ev.RefundExecuted)
    [failed] = inbox.of(ev.RefundFailed)
    assert (executed.refund_id, failed.refund_id) == (part.id, rest.id)
    assert failed.failure_reason == "returned"
    assert len({event.event_id for event in events}) == len(events)


async def test_both_failure_kinds(wired: tuple[FakeTrueLayer, Session, Inbox]) -> None:
    fake, tl, inbox = wired
    refused = await create(tl, external())
    fake.authorize_payment(refused.id, "authorization_failed")
    rejected = await create(tl, merchant())
    fake.authorize_payment(rejected.id, "execution_rejected")
    fake.advance(5)
    await inbox.settle()
    failures = {
        e.payment_id: (e.failure_stage, e.failure_reason) for e in inbox.of(ev.PaymentFailed)
    }
    assert failures == {
        refused.id: ("authorizing", "authorization_failed"),
        rejected.id: ("authorized", "provider_rejected"),
    }
    assert [e.payment_id for e in inbox.of(ev.PaymentAuthorized)] == [rejected.id]


async def test_a_payment_link_paid(wired: tuple[FakeTrueLayer, Session, Inbox]) -> None:
    fake, tl, inbox = wired
    link = await tl.payment_links.create(
        amount_in_minor=300, currency="GBP", payment_method=merchant(), user=USER
    )
    async with fake.http_client() as browser:
        assert (await browser.get(link.uri)).status_code == 303
    (payment_id,) = fake.payment_ids
    fake.authorize_payment(payment_id, "executed")
    fake.advance(5)
    await inbox.settle()
    [created] = inbox.of(ev.PaymentLinkPaymentCreated)
    assert (created.payment_link_id, created.payment.id) == (link.id, payment_id)
    [disabled] = inbox.of(ev.PaymentLinkDisabled)
    assert (disabled.payment_link_id, disabled.disabled_reason) == (link.id, "fulfilled")
    assert [e.payment_id for e in inbox.of(ev.PaymentSettled)] == [payment_id]
