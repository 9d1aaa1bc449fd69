"""The ``response`` event's correlation and trace ids come from the Requester's one pass
over the headers (``_head_fields``), not from a second read, and equal that read."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.core.test_head_fields import CASES
from truelayer_async import RetryPolicy, Timeouts
from truelayer_async._error_mapping import Api
from truelayer_async._http import Requester
from truelayer_async._observe import observer_for
from truelayer_async.hooks import ResponseEvent

pytestmark = pytest.mark.anyio

ID_HEADERS = ("x-tl-correlation-id", "tl-trace-id")


@pytest.mark.parametrize("raw", CASES.values(), ids=CASES.keys())
async def test_the_response_event_ids_are_read_once_with_the_head(
    raw: list[tuple[bytes, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = [(name, value) for name, value in raw if name.lower().decode() in ID_HEADERS]
    headers = httpx.Headers(raw)
    expected = (headers.get("x-tl-correlation-id"), headers.get("tl-trace-id"))
    looked_up: list[str] = []
    real_get = httpx.Headers.get

    def get(self: httpx.Headers, key: str, default: Any = None) -> Any:
        looked_up.append(key.lower())
        return real_get(self, key, default)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=raw, content=b"{}")

    events: list[ResponseEvent] = []
    observer = observer_for({"response": [events.append]}, None)
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        requester = Requester(
            client, timeouts=Timeouts(), retry_policy=RetryPolicy(), observer=observer
        )
        monkeypatch.setattr(httpx.Headers, "get", get)
        await requester.request("GET", "https://api.example/x", api=Api.DATA)
    [event] = events
    assert (event.correlation_id, event.trace_id) == expected
    assert not set(ID_HEADERS) & set(looked_up)  # no second read of either header
