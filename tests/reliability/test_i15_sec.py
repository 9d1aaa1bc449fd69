"""Issue #15, items 5, 7, 8, 10, 12, 13 and 14: each test fails on the code before the fix.

Every test runs under the autouse ``guard`` (conftest): the sentinel planted in the
client secret, tokens, code and verifier must reach no log record, request URL, or
exception handed to ``guard.raises`` (including SDK traceback locals).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlencode

import httpx
import pytest
import respx

from tests.secret_scan import assert_no_secret_in_frame_locals
from tests.support.data_api import fixture
from tests.support.reliability import (
    ACCOUNTS_URL,
    API,
    CLIENT_ID,
    DATA,
    REDIRECT,
    TOKEN_URL,
    Guard,
    Secrets,
    TokenServer,
    accounts_body,
    connect,
    stored,
)
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async._error_mapping import Api
from truelayer_async._http import TOKEN_MAX_BYTES
from truelayer_async._inflate import Inflater
from truelayer_async._secret import Secret
from truelayer_async.services.auth import STATE_TTL
from truelayer_async.testing import FakeClock

pytestmark = pytest.mark.asyncio

VERIFY_URL = f"{API}/verification/v1/verify"
JSON = {"content-type": "application/json"}
PROBLEM = {"content-type": "application/problem+json"}


async def chunks_of(body: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    """A streamed body: respx and httpx then do not read it whole up front."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


# -- 5: untrusted psu_ip --------------------------------------------------------------------

BAD_PSU_IPS = [
    "203.0.113.7\r\nX-Injected: 1",  # header injection
    "203.0.113.é",  # non-ASCII: a UnicodeEncodeError from httpx before the fix
    "２０３.0.113.7",  # fullwidth digits
    "203.0.113.7, 10.0.0.1",  # a whole X-Forwarded-For list
    "not-an-ip",
    "203.0.113.7\x00",
]


@pytest.mark.parametrize("psu_ip", BAD_PSU_IPS)
async def test_i15_05_untrusted_psu_ip_is_refused_before_any_request(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    guard: Guard,
    respx_mock: respx.MockRouter,
    psu_ip: str,
) -> None:
    await connect(tl, secrets)
    route = respx_mock.get(ACCOUNTS_URL).mock(return_value=httpx.Response(200, json={}))
    with guard.raises(e.InvalidParameterError) as info:  # scans every SDK frame's locals
        await tl.data.accounts(user="u", psu_ip=psu_ip)
    assert "psu_ip" in str(info.value) and psu_ip not in str(info.value)
    assert route.call_count == 0
    # Every frame on the traceback, not only the SDK's (this test's frame included).
    assert_no_secret_in_frame_locals(info.value, f"Bearer {secrets.access(1)}", sdk_only=False)


@pytest.mark.parametrize("psu_ip", ["203.0.113.7", "2001:db8::1"])
async def test_i15_05_a_valid_psu_ip_is_sent(
    tl: Session, server: TokenServer, secrets: Secrets, respx_mock: respx.MockRouter, psu_ip: str
) -> None:
    await connect(tl, secrets)
    route = respx_mock.get(ACCOUNTS_URL).mock(
        return_value=httpx.Response(200, json=accounts_body())
    )
    await tl.data.accounts(user="u", psu_ip=psu_ip)
    await tl.data.accounts(user="u", psu_ip="")  # no forwarded address: no header
    assert route.calls[0].request.headers["x-psu-ip"] == psu_ip
    assert "x-psu-ip" not in route.calls[1].request.headers


async def test_i15_05_a_request_that_cannot_be_built_holds_no_secret_on_its_traceback(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    """Before the fix, json.dumps raised TypeError in the frame holding the raw bearer."""
    await connect(tl, secrets)
    token = await tl.auth.valid_token(user="u")
    route = respx_mock.post(VERIFY_URL).mock(return_value=httpx.Response(200, json={}))
    with guard.raises(e.InvalidParameterError) as info:
        await tl._core.requester().request(
            "POST",
            VERIFY_URL,
            api=Api.VERIFICATION,
            json_body={"secret": Secret(secrets.client_secret), "when": object()},
            bearer=token.access_token,
        )
    assert "TypeError" in str(info.value) and "/verification/v1/verify" in str(info.value)
    assert_no_secret_in_frame_locals(info.value, secrets.access(1), sdk_only=False)
    with guard.raises(e.InvalidParameterError):
        await tl._core.requester().request(
            "GET",
            ACCOUNTS_URL,
            api=Api.DATA,
            headers={"X-Custom": "a\nb"},
            bearer=token.access_token,
        )
    assert route.call_count == 0


# -- 7: redaction of encoded secrets --------------------------------------------------------


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def _json_escaped(text: str) -> str:
    # What PHP-style encoders write: "/" as "\/" and non-ASCII as \u00xx.
    return json.dumps(text).replace("/", "\\/")


ECHOES: dict[str, Callable[[httpx.Request], httpx.Response]] = {
    "form body (%2B, + for space)": lambda r: httpx.Response(
        400, json={"error": "invalid_request", "error_description": f"bad: {r.content.decode()}"}
    ),
    "lower-case percent": lambda r: httpx.Response(
        400,
        json={"error": "invalid_request", "error_description": _lower_hex(r.content.decode())},
    ),
    "JSON-escaped in the description": lambda r: httpx.Response(
        400,
        json={
            "error": "invalid_request",
            "error_description": _json_escaped(parse_qs(r.content.decode())["client_secret"][0]),
        },
    ),
    "in error_details, percent-encoded": lambda r: httpx.Response(
        400,
        json={"error": "invalid_request", "error_details": {"form": quote(r.content.decode())}},
    ),
    "HTML gateway page": lambda r: httpx.Response(
        502,
        text=f"<html><pre>{r.content.decode()}</pre></html>",
        headers={"content-type": "text/html"},
    ),
}


@pytest.mark.parametrize("echo", list(ECHOES))
async def test_i15_07_an_echoed_secret_is_redacted_in_every_encoding(
    clock: FakeClock, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter, echo: str
) -> None:
    client_secret = f'{secrets.sentinel}+/= é"~x'
    respx_mock.post(TOKEN_URL).mock(side_effect=ECHOES[echo])
    async with Session(
        CLIENT_ID, client_secret, redirect_uri=REDIRECT, clock=clock, max_retries=0
    ) as tl:
        with guard.raises(e.ApiError) as info:  # the sentinel is in every encoded form
            await tl.auth.client_credentials()
    text = f"{info.value} {info.value.details!r}"
    forms = [
        client_secret,
        quote(client_secret, safe=""),
        _lower_hex(quote(client_secret, safe="")),
        quote_plus(client_secret),
        urlencode({"s": client_secret})[2:],
        _json_escaped(client_secret)[1:-1],
    ]
    for form in forms:
        assert form not in text
    assert "[redacted]" in text or "non-JSON" in text


async def test_i15_07_a_secret_cut_by_the_description_cap_leaves_no_prefix(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard
) -> None:
    """Before the fix the description was cut at 300 characters before redaction."""
    await connect(tl, secrets)
    server.script = [
        httpx.Response(
            400,
            json={
                "error": "invalid_grant",
                "error_description": "x" * 280 + secrets.client_secret,
            },
        )
    ]
    with guard.raises(e.ApiError) as info:
        await tl.auth.client_credentials()
    assert secrets.sentinel[:20] not in str(info.value)  # 20 of its characters showed


# -- 8: states expire and stay single use whatever the number of newer links ------------------


def _callback(tl: Session, state: str) -> str:
    return tl.auth.parse_callback(f"code=c&state={state}", expected_state=state)


async def test_i15_08_a_state_expires_after_10001_newer_links(
    tl: Session, clock: FakeClock
) -> None:
    old = tl.auth.auth_link(scopes=["info"])
    clock.advance(STATE_TTL + 60)  # 11 minutes
    for _ in range(10_001):
        tl.auth.auth_link(scopes=["info"])
    with pytest.raises(e.StateExpiredError):
        _callback(tl, old.state)
    fresh = tl.auth.auth_link(scopes=["info"])
    assert _callback(tl, fresh.state) == "c"


async def test_i15_08_a_used_state_is_refused_after_10001_other_logins(
    tl: Session, clock: FakeClock
) -> None:
    link = tl.auth.auth_link(scopes=["info"])
    foreign = "issued-by-another-worker-0123456789"
    assert _callback(tl, link.state) == "c"
    assert _callback(tl, foreign) == "c"
    for _ in range(10_001):
        other = tl.auth.auth_link(scopes=["info"])
        _callback(tl, other.state)
    clock.advance(STATE_TTL - 1)  # still within both lifetimes
    with pytest.raises(e.StateMismatchError, match="already used"):
        _callback(tl, link.state)
    with pytest.raises(e.StateMismatchError, match="already used"):
        _callback(tl, foreign)


async def test_i15_08_memory_holds_only_states_within_their_lifetime(
    tl: Session, clock: FakeClock
) -> None:
    book = tl.auth._states
    for n in range(2_000):
        link = tl.auth.auth_link(scopes=["info"], state=f"chosen-state-{n}")
        _callback(tl, link.state)
        tl.auth.auth_link(scopes=["info"], state=f"pending-state-{n}")
    assert repr(book) == "StateBook(chosen=2000, used=2000)"
    clock.advance(STATE_TTL + 1)
    chosen = tl.auth.auth_link(scopes=["info"], state="one-more-chosen")
    assert repr(book) == "StateBook(chosen=1, used=0)"  # only expired entries were dropped
    clock.advance(STATE_TTL + 1)
    with pytest.raises(e.StateExpiredError):  # a chosen state is timed while remembered
        _callback(tl, chosen.state)
    generated = tl.auth.auth_link(scopes=["info"])
    assert repr(book) == "StateBook(chosen=0, used=1)"  # generated states take no memory
    # Another Session (another key): not its own state, so not timed, but single use.
    other = Session(CLIENT_ID, "s", redirect_uri=REDIRECT, clock=clock)
    clock.advance(STATE_TTL + 1)
    assert _callback(other, generated.state) == "c"
    with pytest.raises(e.StateMismatchError):
        _callback(other, generated.state)


async def test_i15_08_a_forged_or_tampered_state_is_not_timed_as_ours(
    tl: Session, clock: FakeClock
) -> None:
    link = tl.auth.auth_link(scopes=["info"])
    clock.advance(STATE_TTL + 1)
    # The first character: all six of its bits count (a base64 string's last character
    # may carry padding bits a decoder ignores, so changing it may change nothing).
    tampered = ("A" if link.state[0] != "A" else "B") + link.state[1:]
    assert _callback(tl, tampered) == "c"  # unknown (not signed by us): not timed, as before
    with pytest.raises(e.StateExpiredError):
        _callback(tl, link.state)


# -- 10: the size cap applies to decompressed bytes ---------------------------------------------


def gzip_bomb(inflated: int) -> bytes:
    """``inflated`` bytes of JSON whitespace, gzip-compressed (~1,000:1), built in slices."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1024 * 1024)
    parts = [packer.compress(block) for _ in range(inflated // len(block))]
    parts.append(packer.flush())
    return b"".join(parts)


async def test_i15_10_a_gzip_bomb_on_the_token_endpoint_stays_small(
    tl: Session, server: TokenServer, secrets: Secrets, clock: FakeClock, guard: Guard
) -> None:
    await connect(tl, secrets)
    clock.advance(4000)
    before = await stored(tl)
    bomb = gzip_bomb(64 * 1024 * 1024)
    assert len(bomb) < 70 * 1024  # "a 63 KiB gzip token response"
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)  # the server ignores Accept-Encoding: identity
        headers = {**JSON, "content-encoding": "gzip"}
        return httpx.Response(200, headers=headers, content=chunks_of(bomb))

    server.script = [answer]
    tracemalloc.start()
    try:
        with guard.raises(e.ResponseTooLargeError):
            await tl.auth.valid_token(user="u")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 * 1024, peak  # was ~142 MiB: httpx inflated whole chunks
    assert seen[0].headers["accept-encoding"] == "identity"
    assert await stored(tl) == before


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw deflate"])
async def test_i15_10_compressed_bodies_still_decode(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    respx_mock: respx.MockRouter,
    encoding: str,
) -> None:
    await connect(tl, secrets)
    body = json.dumps(accounts_body()).encode()
    if encoding == "gzip":
        packed = gzip.compress(body)
    elif encoding == "deflate":
        packed = zlib.compress(body)
    else:
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        packed = packer.compress(body) + packer.flush()
    headers = {**JSON, "content-encoding": encoding.split()[-1]}
    respx_mock.get(ACCOUNTS_URL).mock(
        side_effect=lambda request: httpx.Response(
            200, headers=headers, content=chunks_of(packed, 7)
        )
    )
    [account] = await tl.data.accounts(user="u")
    assert account.account_id == "acc-1"


async def test_i15_10_a_corrupt_compressed_body_is_a_typed_error(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    corrupt = gzip.compress(b"")[:10] + b"\xff" * 40  # a reserved deflate block type
    respx_mock.get(ACCOUNTS_URL).mock(
        side_effect=lambda request: httpx.Response(
            200, headers={**JSON, "content-encoding": "gzip"}, content=chunks_of(corrupt)
        )
    )
    with guard.raises(e.MalformedResponseError) as info:
        await tl.data.accounts(user="u")
    assert "compressed" in str(info.value)


async def test_i15_10_the_inflater_never_produces_more_than_the_cap_plus_one() -> None:
    bomb = gzip_bomb(8 * 1024 * 1024)
    inflater = Inflater("gzip", 100_000)
    produced = sum(len(piece) for piece in inflater.feed(bomb))
    assert produced == 100_001
    assert inflater.feed(b"more") == []
    assert TOKEN_MAX_BYTES == 1024 * 1024


# -- 12: verify() follows the POST rule ----------------------------------------------------------


async def test_i15_12_verify_is_not_resent_once_sent(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    problem = {"type": "https://docs.truelayer.com/errors#x", "title": "Service Unavailable"}
    route = respx_mock.post(VERIFY_URL).mock(
        return_value=httpx.Response(503, json=problem, headers=PROBLEM)
    )
    with guard.raises(e.VerificationApiError) as info:
        await tl.verification.verify("Jane Smith", user="u")
    assert info.value.status_code == 503
    assert route.call_count == 1  # was 3
    route.side_effect = [httpx.ReadTimeout("lost")]
    with guard.raises(e.TransportError) as lost:
        await tl.verification.verify("Jane Smith", user="u")
    assert lost.value.request_sent and route.call_count == 2
    route.side_effect = [
        httpx.ConnectError("refused"),  # never left the machine: retried
        httpx.Response(200, json=fixture("verification_result")),
    ]
    assert await tl.verification.verify("Jane Smith", user="u")
    assert route.call_count == 4


# -- 13: closing the Session during a back-off ------------------------------------------------


class BlockingSleep:
    """A sleep that parks the caller until released, so a test can act meanwhile."""

    def __init__(self) -> None:
        self.sleeping = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.sleeping.set()
        await self.release.wait()


@pytest.mark.parametrize("own_client", [True, False])
async def test_i15_13_close_during_a_back_off_raises_session_closed(
    clock: FakeClock,
    secrets: Secrets,
    server: TokenServer,
    guard: Guard,
    respx_mock: respx.MockRouter,
    own_client: bool,
) -> None:
    sleep = BlockingSleep()
    given = None if own_client else httpx.AsyncClient()
    tl = Session(
        CLIENT_ID, secrets.client_secret, redirect_uri=REDIRECT, clock=clock, sleep=sleep,
        http_client=given,
    )  # fmt: skip
    await tl.open()
    await connect(tl, secrets)
    route = respx_mock.get(ACCOUNTS_URL).mock(
        return_value=httpx.Response(503, json={"error": "x"}, headers={"Retry-After": "1"})
    )
    call = asyncio.ensure_future(tl.data.accounts(user="u"))
    await sleep.sleeping.wait()  # the call waits in its back-off
    await tl.aclose()
    sleep.release.set()
    with guard.raises(e.SessionClosedError):
        await call
    assert route.call_count == 1
    if given is not None:
        assert not given.is_closed  # the user's client is left open
        await given.aclose()


async def test_i15_13_close_while_a_request_is_in_flight_raises_session_closed(
    clock: FakeClock,
    secrets: Secrets,
    server: TokenServer,
    guard: Guard,
    respx_mock: respx.MockRouter,
) -> None:
    tl = Session(CLIENT_ID, secrets.client_secret, redirect_uri=REDIRECT, clock=clock)
    await tl.open()
    await connect(tl, secrets)

    async def close_then_fail(request: httpx.Request) -> httpx.Response:
        await tl.aclose()  # the Session closes while this request is on the wire
        raise httpx.ReadError("connection closed")

    respx_mock.get(ACCOUNTS_URL).mock(side_effect=close_then_fail)
    with guard.raises(e.SessionClosedError):
        await tl.data.accounts(user="u")


# -- 14: ids that would leave their path segment ----------------------------------------------

BAD_IDS = [
    ".",
    "..",
    "",
    "a/b",
    "../me",
    "a?b=1",
    "a#b",
    "%2F",
    "a%2e%2e",
    "a\\b",
    "a\x00",
    "a\nb",
]
BAD_IDS += [
    "\uff0e\uff0e",
    "a\uff0fb",
    "\u2024\u2024",
]  # fullwidth dots and slash, one-dot leaders


def _id_calls(tl: Session, bad: str) -> list[Callable[[], Awaitable[Any]]]:
    d, raw = tl.data, tl.data.with_raw_response
    return [
        lambda: d.account(bad, user="u"),
        lambda: d.with_async_mode().account(bad, user="u"),
        lambda: d.balance(bad, user="u"),
        lambda: d.transactions(bad, user="u"),
        lambda: d.with_async_mode().pending_transactions(bad, user="u"),
        lambda: d.standing_orders(bad, user="u"),
        lambda: d.direct_debits(bad, user="u"),
        lambda: d.card(bad, user="u"),
        lambda: d.card_balance(bad, user="u"),
        lambda: d.card_transactions(bad, user="u"),
        lambda: d.card_pending_transactions(bad, user="u"),
        lambda: raw.balance(bad, user="u"),
        lambda: raw.card_balance(bad, user="u"),
    ]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_i15_14_ids_that_leave_their_segment_are_refused_before_any_request(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    guard: Guard,
    respx_mock: respx.MockRouter,
    bad: str,
) -> None:
    await connect(tl, secrets)
    sent = len(respx_mock.calls)
    for call in _id_calls(tl, bad):
        with guard.raises(e.InvalidParameterError) as info:
            await call()
        assert "_id" in str(info.value)
    assert len(respx_mock.calls) == sent  # no Data request, not even a token request


async def test_i15_14_balance_dot_dot_sends_nothing(
    tl: Session, server: TokenServer, secrets: Secrets, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    route = respx_mock.get(url__startswith=DATA).mock(return_value=httpx.Response(200, json={}))
    with pytest.raises(e.InvalidParameterError):
        await tl.data.balance("..", user="u")
    assert route.call_count == 0
