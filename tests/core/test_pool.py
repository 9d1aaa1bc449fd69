"""No connection is left checked out after retried failures (a real pool, a real server)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import uvicorn

from tests.support.doubles import RecordingSleep
from tests.support.processes import free_port
from truelayer_async import DataApiError, Environment, Session, TransportError
from truelayer_async._error_mapping import Api

Scope = dict[str, Any]


class FlakyApp:
    """Answers 503 with a body, hangs, or answers 200, as told."""

    def __init__(self) -> None:
        self.mode = "503"
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.requests += 1
        if self.mode == "hang":
            await anyio.sleep(1.5)
        status = 503 if self.mode == "503" else 200
        body = b'{"error":"temporarily_unavailable"}' if status == 503 else b'{"results":[]}'
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, FlakyApp]]:
    app = FlakyApp()
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(5)


def busy_connections(tl: Session) -> int:
    pool = tl._core.requester().client._transport._pool  # type: ignore[attr-defined]
    return sum(not conn.is_idle() for conn in pool.connections)


@pytest.mark.anyio
async def test_no_connection_leaks_after_retried_5xx_and_timeouts(
    server: tuple[str, FlakyApp], sleeps: RecordingSleep
) -> None:
    base, app = server
    app.requests = 0  # the server is shared by the module (and both backends' runs)
    env = Environment.custom(base)
    async with Session("id", "secret", environment=env, sleep=sleeps, timeout=0.5) as tl:
        requester = tl._core.requester()
        app.mode = "503"
        for _ in range(5):
            with pytest.raises(DataApiError):
                await requester.request("GET", f"{base}/data/v1/accounts", api=Api.DATA)
        assert app.requests == 15
        assert busy_connections(tl) == 0
        app.mode = "hang"
        with pytest.raises(TransportError):
            await requester.request("GET", f"{base}/data/v1/accounts", api=Api.DATA, max_retries=1)
        assert busy_connections(tl) == 0
        app.mode = "200"
        response = await requester.request("GET", f"{base}/data/v1/accounts", api=Api.DATA)
        assert response.json() == {"results": []}
        assert busy_connections(tl) == 0
        client = requester.client
    assert client.is_closed
