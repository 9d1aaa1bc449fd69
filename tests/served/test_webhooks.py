"""Webhooks are POSTed to their ``webhook_uri`` in the background, and retried."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support.polling import wait_for
from tests.support.served import bearer, connect


class Receiver:
    """A local webhook receiver answering the queued statuses in turn (then 200)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        #: The first delivery waits for this, to prove that it does not hold up the caller.
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.release.wait(timeout=30)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/data"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def settled_webhook(http: httpx.Client) -> dict[str, Any]:
    """The first webhook, once delivered or given up on."""

    def settled() -> dict[str, Any] | None:
        hooks: list[dict[str, Any]] = http.get("/_emulator/webhooks").json()["webhooks"]
        return hooks[0] if hooks and hooks[0]["outcome"] != "pending" else None

    return wait_for(settled)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(500)
    yield receiver
    receiver.close()


def test_a_webhook_is_delivered_after_a_500_with_truelayers_headers(
    http: httpx.Client, receiver: Receiver
) -> None:
    tokens = connect(http)
    accepted = http.get(
        f"/data/v1/accounts?async=true&webhook_uri={quote(receiver.url, safe='')}",
        headers=bearer(tokens["access_token"]),
    )
    # The 202 came back while the receiver still held the first delivery.
    assert accepted.status_code == 202, accepted.text
    assert receiver.received == []
    receiver.release.set()

    hook = settled_webhook(http)
    assert hook["outcome"] == "delivered"
    assert hook["uri"] == receiver.url
    assert [(a["number"], a["status"], a["error"]) for a in hook["attempts"]] == [
        (1, 500, None),
        (2, 200, None),
    ]
    assert hook["attempts"][1]["timestamp"] >= hook["attempts"][0]["timestamp"]

    assert len(receiver.received) == 2
    headers, body = receiver.received[-1]
    assert headers["content-type"] == "application/json"
    sent_at = headers["x-tl-webhook-timestamp"]
    assert sent_at.endswith("Z") and datetime.fromisoformat(sent_at.replace("Z", "+00:00"))
    assert body == receiver.received[0][1] == hook["payload"]
    assert body["task_id"] == accepted.json()["task_id"]
    assert body["results_uri"] == accepted.json()["results_uri"]
    assert body["status"] == "Succeeded"
    assert body["credentials_id"] == accepted.headers["x-credentials-id"]
    # The results are there to fetch, as the webhook says.
    results = http.get(body["results_uri"], headers=bearer(tokens["access_token"]))
    assert results.json()["status"] == "Succeeded" and results.json()["results"]


def test_retries_are_bounded_and_every_attempt_recorded(http: httpx.Client) -> None:
    receiver = Receiver(500, 503, 500, 500)
    receiver.release.set()
    try:
        tokens = connect(http)
        http.post(
            "/data/v1/batch/transactions",
            headers=bearer(tokens["access_token"]),
            json={"webhook_uri": receiver.url},
        ).raise_for_status()

        hook = settled_webhook(http)
    finally:
        receiver.close()
    # --webhook-retry-delays 0.05,0.1: three attempts in all, then it gives up.
    assert hook["outcome"] == "failed"
    assert [a["status"] for a in hook["attempts"]] == [500, 503, 500]
    assert len(receiver.received) == 3


def test_an_unreachable_receiver_is_recorded_as_a_network_error(http: httpx.Client) -> None:
    receiver = Receiver()
    receiver.close()  # nothing listens there any more
    tokens = connect(http)
    http.get(
        f"/data/v1/info?async=true&webhook_uri={quote(receiver.url, safe='')}",
        headers=bearer(tokens["access_token"]),
    )

    hook = settled_webhook(http)
    assert hook["outcome"] == "failed"
    assert {(a["status"], a["error"]) for a in hook["attempts"]} == {(None, "ConnectError")}
