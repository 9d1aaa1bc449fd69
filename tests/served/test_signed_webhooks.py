"""Signed v3 webhooks from the served emulator (a separate process), received by a plain
HTTP server and verified by the SDK, which fetches the emulator's key set over the wire."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx
import pytest

from tests.support.served import Served
from truelayer_async import Environment, Session
from truelayer_async.errors import WebhookSignatureError, WebhookTimestampError
from truelayer_async.webhooks import RefundExecuted

from .helpers import wait_for


class RawReceiver:
    """Keeps each POST's headers and exact body bytes; answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[list[tuple[str, str]], bytes, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((list(self.headers.items()), body, self.path))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/truelayer"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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
        environment = Environment.custom(emulator.url, name="fake")
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
