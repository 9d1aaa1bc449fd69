"""Signed v3 webhooks from the served emulator (a separate process), received by a plain
HTTP server and verified by the SDK, which fetches the emulator's key set over the wire."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import httpx
import pytest

from tests.support.polling import wait_for
from tests.support.served import Served
from tests.support.webhook_receiver import RawReceiver
from truelayer_async import Session
from truelayer_async.errors import WebhookSignatureError, WebhookTimestampError
from truelayer_async.testing import emulator_environment
from truelayer_async.webhooks import RefundExecuted


@pytest.fixture
def receiver() -> Iterator[RawReceiver]:
    receiver = RawReceiver()
    yield receiver
    receiver.close()


def test_served_emulator_webhooks_verify_over_the_wire(
    emulator: Served, http: httpx.Client, receiver: RawReceiver
) -> None:
    for signing in ("valid", "tampered", "stale"):
        sent = http.post(
            "/_emulator/webhooks",
            json={"uri": receiver.url, "type": "refund_executed", "signing": signing},
        )
        assert sent.status_code == 200, sent.text
    wait_for(lambda: len(receiver.received) == 3 or None)

    async def verify_all() -> list[object]:
        environment = emulator_environment(emulator.url)
        outcomes: list[object] = []
        async with Session("client", "secret", environment=environment) as tl:
            for headers, body, path in receiver.received:
                try:
                    outcomes.append(await tl.webhooks.verify(headers, body, path=path))
                except (WebhookSignatureError, WebhookTimestampError) as exc:
                    outcomes.append(type(exc))
        return outcomes

    outcomes = anyio.run(verify_all)
    by_kind = sorted(outcomes, key=lambda o: o.__name__ if isinstance(o, type) else "")
    assert isinstance(by_kind[0], RefundExecuted)
    assert set(by_kind[1:]) == {WebhookSignatureError, WebhookTimestampError}
    requests = http.get("/_emulator/requests").json()["requests"]
    assert sum(r["path"] == "/.well-known/jwks" for r in requests) == 1
