"""The response headers the Requester reads in one pass equal what ``headers.get`` gives."""

from __future__ import annotations

import httpx
import pytest

from truelayer_async._error_mapping import correlation_id_of
from truelayer_async._http import _head_fields

CASES = {
    "none": [],
    "plain": [(b"Content-Type", b"application/json"), (b"X-TL-Correlation-Id", b"abc")],
    "trace id only": [(b"tl-trace-id", b"t-1"), (b"content-encoding", b"gzip")],
    "both ids": [(b"Tl-Trace-Id", b"t-1"), (b"x-tl-correlation-id", b"c-1")],
    "empty id falls back": [(b"X-Tl-Correlation-Id", b""), (b"Tl-Trace-Id", b"t-2")],
    "repeated": [
        (b"Content-Encoding", b"gzip"),
        (b"CONTENT-ENCODING", b"br"),
        (b"content-type", b"text/plain"),
        (b"Content-Type", b"application/json"),
    ],
    "latin-1 value": [(b"Content-Type", b"application/json"), (b"X-Tl-Correlation-Id", b"\xe9")],
}


@pytest.mark.parametrize("raw", CASES.values(), ids=CASES.keys())
def test_one_pass_equals_the_lookups(raw: list[tuple[bytes, bytes]]) -> None:
    headers = httpx.Headers(raw)
    expected = (
        headers.get("content-type", ""),
        headers.get("content-encoding"),
        correlation_id_of(headers),
        (headers.get("x-tl-correlation-id"), headers.get("tl-trace-id")),
    )
    assert _head_fields(httpx.Headers(raw)) == expected
