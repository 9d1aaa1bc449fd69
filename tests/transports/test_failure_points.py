"""The rule "a POST is retried only if it never left", one test per failure point, on
both backends.

The server counts arrivals, so "sent exactly once" is what the server saw, not what the
client believes.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.secret_scan import assert_no_secret_anywhere, assert_no_secret_in_logs
from tests.support.doubles import RecordingSleep
from tests.support.processes import free_port
from tests.support.wire_server import (
    WireServer,
    drop,
    full_backlog,
    hang,
    partial,
    reset,
    respond,
)
from tests.transports.conftest import in_use, session
from truelayer_async import Timeouts, TransportError, TransportTimeout, TrueLayerError
from truelayer_async._error_mapping import Api

pytestmark = pytest.mark.asyncio

FAST = Timeouts(connect=0.5, read=0.5, pool=0.5, token=0.5)
TOKEN = {
    "access_token": "at",
    "refresh_token": "rt",
    "expires_in": 3600,
    "token_type": "Bearer",
    "scope": "accounts",
}

# What the server does once the request arrived; every one may have been processed.
MAYBE_SENT = {
    "dropped before answering": drop,
    "reset before answering": reset,
    "read timeout": hang,
    "dropped mid-body": partial(drop),
    "reset mid-body": partial(reset),
    "read timeout mid-body": partial(hang),
}


async def test_a_refused_connection_is_retried_even_for_a_post(
    backend: str, sleeps: RecordingSleep
) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    async with session(base, backend, sleeps, timeout=FAST) as tl:
        with pytest.raises(TransportError) as info:
            await tl._core.requester().request(
                "POST", f"{base}/x", api=Api.DATA, json_body={"a": 1}
            )
        assert in_use(tl) == 0
    assert info.value.request_sent is False
    assert "ConnectError" in str(info.value)
    assert len(sleeps.delays) == 2  # three attempts


async def test_a_connect_timeout_is_retried_even_for_a_post(
    backend: str, sleeps: RecordingSleep
) -> None:
    with full_backlog() as port:
        base = f"http://127.0.0.1:{port}"
        async with session(base, backend, sleeps, timeout=Timeouts(connect=0.2)) as tl:
            with pytest.raises(TransportTimeout) as info:
                await tl._core.requester().request(
                    "POST", f"{base}/x", api=Api.DATA, json_body={"a": 1}
                )
    assert info.value.request_sent is False
    assert "ConnectTimeout" in str(info.value)
    assert len(sleeps.delays) == 2


async def test_waiting_for_a_pool_slot_is_never_sent(
    backend: str, server: WireServer, sleeps: RecordingSleep
) -> None:
    server.script = [hang]
    timeouts = Timeouts(connect=1.0, read=5.0, pool=0.2)
    async with session(server.url, backend, sleeps, timeout=timeouts, max_connections=1) as tl:
        requester = tl._core.requester()
        holder = asyncio.create_task(requester.request("GET", f"{server.url}/a", api=Api.DATA))
        while not server.arrivals:
            await asyncio.sleep(0.01)
        with pytest.raises(TransportTimeout) as info:
            await requester.request("POST", f"{server.url}/b", api=Api.DATA, json_body={})
        holder.cancel()
        with pytest.raises(asyncio.CancelledError):
            await holder
        await asyncio.sleep(0.01)
        assert in_use(tl) == 0
    assert info.value.request_sent is False
    assert len(sleeps.delays) == 2  # retried: it never left
    assert server.count("/b") == 0


@pytest.mark.parametrize("failure", MAYBE_SENT.values(), ids=MAYBE_SENT.keys())
async def test_a_post_that_may_have_arrived_is_sent_once(
    backend: str, server: WireServer, sleeps: RecordingSleep, failure: object
) -> None:
    server.script = [failure]  # type: ignore[list-item]
    async with session(server.url, backend, sleeps, timeout=FAST) as tl:
        with pytest.raises(TransportError) as info:
            await tl._core.requester().request(
                "POST", f"{server.url}/x", api=Api.DATA, json_body={"a": 1}
            )
        await asyncio.sleep(0.01)
        assert in_use(tl) == 0
    assert info.value.request_sent is True
    assert server.count("/x") == 1 and sleeps.delays == []


@pytest.mark.parametrize("failure", MAYBE_SENT.values(), ids=MAYBE_SENT.keys())
async def test_a_code_exchange_that_may_have_arrived_is_sent_once(
    backend: str, server: WireServer, sleeps: RecordingSleep, failure: object
) -> None:
    server.script = [failure]  # type: ignore[list-item]
    async with session(server.url, backend, sleeps, timeout=FAST) as tl:
        with pytest.raises(TrueLayerError):
            await tl.auth.exchange_code("single-use-code", user="alice", code_verifier="v" * 43)
    assert server.count("/connect/token") == 1


@pytest.mark.parametrize("failure", [drop, partial(reset), hang], ids=["drop", "reset", "hang"])
async def test_a_failed_exchange_leaks_no_secret(
    backend: str,
    server: WireServer,
    sleeps: RecordingSleep,
    sentinel: str,
    caplog: pytest.LogCaptureFixture,
    failure: object,
) -> None:
    server.script = [failure]  # type: ignore[list-item]
    caplog.set_level(logging.DEBUG)
    async with session(server.url, backend, sleeps, secret=sentinel, timeout=FAST) as tl:
        with pytest.raises(TrueLayerError) as info:
            await tl.auth.exchange_code(sentinel, user="alice", code_verifier=sentinel + "v" * 30)
    assert sentinel.encode() in server.arrivals[0].body  # it was sent...
    assert_no_secret_anywhere(info.value, sentinel)  # ...and is nowhere else
    assert_no_secret_in_logs(caplog.records, sentinel)


@pytest.mark.parametrize("failure", MAYBE_SENT.values(), ids=MAYBE_SENT.keys())
async def test_a_get_is_retried_after_any_failure(
    backend: str, server: WireServer, sleeps: RecordingSleep, failure: object
) -> None:
    server.script = [failure, failure, respond()]  # type: ignore[list-item]
    async with session(server.url, backend, sleeps, timeout=FAST) as tl:
        response = await tl._core.requester().request("GET", f"{server.url}/x", api=Api.DATA)
        assert response.json() == {"results": []}
        assert in_use(tl) == 0
    # Exactly the SDK's two retries, each after its back-off: the transport adds none.
    assert server.count("/x") == 3 and len(sleeps.delays) == 2


async def test_the_code_exchange_succeeds_once_answered(
    backend: str, server: WireServer, sleeps: RecordingSleep
) -> None:
    import json

    server.script = [respond(body=json.dumps(TOKEN).encode())]
    async with session(server.url, backend, sleeps, timeout=FAST) as tl:
        token = await tl.auth.exchange_code("code", user="alice", code_verifier="v" * 43)
    assert token.access_token.get_secret_value() == "at"
    (arrival,) = server.arrivals
    assert arrival.headers["content-type"] == "application/x-www-form-urlencoded"
    assert b"code=code" in arrival.body and arrival.headers["accept-encoding"] == "identity"
