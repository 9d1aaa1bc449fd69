"""The ASGI endpoint in a Starlette app: statuses, handler ordering, and the emulator
delivering signed webhooks to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from truelayer_async import Session
from truelayer_async._error_mapping import Api
from truelayer_async.errors import TrueLayerError
from truelayer_async.testing import FakeTrueLayer
from truelayer_async.testing.webhook_samples import sample_event
from truelayer_async.webhooks import Event, PaymentExecuted, WebhookService

pytestmark = pytest.mark.anyio

URI = "https://merchant.example/hooks/truelayer"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Receiver:
    """A Starlette app with the endpoint routed at /hooks/truelayer."""

    def __init__(self, tl: Session, *, fail: bool = False) -> None:
        self.events: list[Event] = []
        self.fail = fail

        async def on_event(event: Event) -> None:
            if self.fail:
                raise RuntimeError("database down")
            self.events.append(event)

        endpoint = tl.webhooks.asgi_app(on_event)
        self.app = Starlette(routes=[Route("/hooks/truelayer", endpoint, methods=["POST"])])

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="https://merchant.example"
        )


@pytest.fixture
async def fake() -> AsyncIterator[FakeTrueLayer]:
    async with FakeTrueLayer() as fake:
        yield fake


@pytest.fixture
async def tl(fake: FakeTrueLayer) -> AsyncIterator[Session]:
    async with fake.session() as session:
        yield session


async def post(receiver: Receiver, headers: dict[str, str], body: bytes) -> httpx.Response:
    async with receiver.client() as client:
        return await client.post("/hooks/truelayer", headers=headers, content=body)


async def test_a_valid_webhook_is_handled_then_answered_200(
    fake: FakeTrueLayer, tl: Session
) -> None:
    receiver = Receiver(tl)
    headers, body = fake.signed_webhook(URI, sample_event("payment_executed"))
    response = await post(receiver, headers, body)
    assert response.status_code == 200
    assert len(receiver.events) == 1
    assert isinstance(receiver.events[0], PaymentExecuted)


@pytest.mark.parametrize("mode", ["forged", "tampered", "stale", "unknown_kid", "bad_jku"])
async def test_bad_signatures_get_401_and_never_reach_the_handler(
    fake: FakeTrueLayer, tl: Session, mode: Any
) -> None:
    receiver = Receiver(tl)
    headers, body = fake.signed_webhook(URI, sample_event("payment_executed"), signing=mode)
    response = await post(receiver, headers, body)
    assert response.status_code == 401
    assert receiver.events == []


async def test_a_failing_handler_answers_500_so_truelayer_retries(
    fake: FakeTrueLayer, tl: Session
) -> None:
    receiver = Receiver(tl, fail=True)
    headers, body = fake.signed_webhook(URI, sample_event("payment_executed"))
    response = await post(receiver, headers, body)
    assert response.status_code == 500


async def test_get_is_405(tl: Session) -> None:
    app = Starlette(routes=[Route("/h", tl.webhooks.asgi_app(lambda e: anyio.sleep(0)))])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://m.example"
    ) as client:
        assert (await client.get("/h")).status_code == 405


async def test_key_set_down_answers_503(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        headers, body = fake.signed_webhook(URI, sample_event("payment_executed"))

        async def down(url: str) -> Any:
            raise OSError("connection refused")

        tl.webhooks = WebhookService(tl, fetch=down)
        receiver = Receiver(tl)
        assert (await post(receiver, headers, body)).status_code == 503


async def test_a_huge_body_is_413(tl: Session) -> None:
    response = await post(Receiver(tl), {}, b"x" * ((1 << 20) + 1))
    assert response.status_code == 413


async def wait_for_outcome(record: Any) -> None:
    with anyio.fail_after(30):  # a hang guard, not a timing assertion
        while record.outcome == "pending":
            await anyio.sleep(0.01)


async def test_the_emulator_delivers_signed_webhooks_to_the_endpoint() -> None:
    box: dict[str, Receiver] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await box["receiver"].app(scope, receive, send)

    async with (
        FakeTrueLayer(
            webhook_transport=httpx.ASGITransport(app=app), webhook_retry_delays=(0.0, 0.0)
        ) as fake,
        fake.session() as tl,
    ):
        box["receiver"] = receiver = Receiver(tl)
        good = fake.send_webhook(URI, sample_event("payment_settled"))
        await wait_for_outcome(good)
        assert good.outcome == "delivered"
        assert [a.status for a in good.attempts] == [200]
        forged = fake.send_webhook(URI, sample_event("payment_settled"), signing="forged")
        await wait_for_outcome(forged)
        assert forged.outcome == "failed"
        assert [a.status for a in forged.attempts] == [401, 401, 401]
        assert [e.type for e in receiver.events] == ["payment_settled"]
        assert fake.count("/.well-known/jwks") == 1


async def test_the_control_api_sends_samples_and_rotates_keys() -> None:
    box: dict[str, Receiver] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await box["receiver"].app(scope, receive, send)

    async with (
        FakeTrueLayer(
            webhook_transport=httpx.ASGITransport(app=app), webhook_retry_delays=()
        ) as fake,
        fake.session() as tl,
    ):
        box["receiver"] = receiver = Receiver(tl)
        control = fake.control()
        await control.send_webhook(URI, "refund_failed", failure_reason="expired")
        await wait_for_outcome(fake.webhooks[0])  # the receiver has fetched the key set
        old_kid = fake.webhook_keys.kid
        new_kid = await control.rotate_webhook_key()
        assert new_kid != old_kid
        fake.clock.advance(61)  # past the re-fetch floor: the new kid triggers one fetch
        await control.send_webhook(URI, "mandate_revoked", signing="stale")
        await control.send_webhook(URI, payload=sample_event("payment_creditable"))
        records = await control.webhooks()
        for record in fake.webhooks:
            await wait_for_outcome(record)
        assert [r.signing for r in records] == ["valid", "stale", "valid"]
        assert [r.outcome for r in fake.webhooks] == ["delivered", "failed", "delivered"]
        assert [e.type for e in receiver.events] == ["refund_failed", "payment_creditable"]
        assert receiver.events[0].raw["failure_reason"] == "expired"
        keys = (await tl._core.requester().request("GET", fake.key_set_url, api=Api.AUTH)).json()
        assert {k["kid"] for k in keys["keys"]} == {old_kid, new_kid}
        assert fake.count("/.well-known/jwks") == 3  # first, rotation, and this one
        with pytest.raises(TrueLayerError, match="unknown webhook type"):
            await control.send_webhook(URI, "no_such_event")
