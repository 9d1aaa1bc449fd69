"""Issue #21: what the per-call hot path builds once instead of on every request.

httpx parses a URL string on every request (about a twelfth of a Data call's CPU on a
MockTransport); the Requester keeps the parsed ``httpx.URL`` of the URLs it sent, a
bounded number of them, and never lets one call's query string leak into another's.
A Core keeps its users' token-store keys the same way, and still rejects a bad user
with a typed error every time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.doubles import RecordingSleep
from truelayer_async import Session, TokenType, _http, _token_manager
from truelayer_async import errors as e
from truelayer_async._error_mapping import Api
from truelayer_async._http import Requester
from truelayer_async._secret import Secret
from truelayer_async.config import RetryPolicy, Timeouts
from truelayer_async.testing import FakeClock

API = "https://api.truelayer.test/data/v1"


@pytest.fixture
def seen() -> list[httpx.Request]:
    return []


@pytest.fixture
async def requester(seen: list[httpx.Request]) -> AsyncIterator[Requester]:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"results": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        yield Requester(
            client,
            timeouts=Timeouts(),
            retry_policy=RetryPolicy(max_retries=0),
            clock=FakeClock(),
            sleep=RecordingSleep(),
        )


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL string httpx parses from now on."""
    calls: list[str] = []
    real = httpx._urls.urlparse  # type: ignore[attr-defined]

    def counting(url: str = "", **kwargs: Any) -> Any:
        calls.append(url)
        return real(url, **kwargs)

    monkeypatch.setattr(httpx._urls, "urlparse", counting)
    return calls


@pytest.mark.anyio
async def test_a_repeated_url_is_parsed_once(
    requester: Requester, parsed: list[str], seen: list[httpx.Request]
) -> None:
    for _ in range(3):
        await requester.request("GET", f"{API}/accounts", api=Api.DATA, bearer=Secret("t"))
    assert parsed.count(f"{API}/accounts") == 1
    assert [str(r.url) for r in seen] == [f"{API}/accounts"] * 3
    assert all(r.headers["authorization"] == "Bearer t" for r in seen)


@pytest.mark.anyio
async def test_query_strings_never_leak_between_calls(
    requester: Requester, seen: list[httpx.Request]
) -> None:
    url = f"{API}/accounts/a1/transactions"
    await requester.request("GET", url, api=Api.DATA)
    await requester.request("GET", url, api=Api.DATA, params={"from": "2026-01-01"})
    await requester.request("GET", url, api=Api.DATA, params={"to": "2026-02-01"})
    await requester.request("GET", url, api=Api.DATA)
    assert [str(r.url) for r in seen] == [
        url,
        f"{url}?from=2026-01-01",
        f"{url}?to=2026-02-01",
        url,
    ]


@pytest.mark.anyio
async def test_the_cache_is_bounded_and_keeps_the_newest(
    requester: Requester, seen: list[httpx.Request], parsed: list[str]
) -> None:
    size = _http._URL_CACHE_SIZE
    urls = [f"{API}/accounts/a{i}/balance" for i in range(size + 10)]
    for url in urls:
        await requester.request("GET", url, api=Api.DATA)
    assert len(requester._urls) == size
    parsed.clear()
    await requester.request("GET", urls[-1], api=Api.DATA)  # still cached
    await requester.request("GET", urls[0], api=Api.DATA)  # evicted: parsed again
    assert parsed.count(urls[-1]) == 0
    assert parsed.count(urls[0]) == 1
    assert [str(r.url) for r in seen[-2:]] == [urls[-1], urls[0]]


def test_a_token_key_is_built_once_per_type_user_and_scopes() -> None:
    core = Session("client", "secret")._core
    first = core.tokens.key(TokenType.DATA, "alice")
    assert core.tokens.key(TokenType.DATA, "alice") is first
    payments = core.tokens.key(TokenType.PAYMENTS, "alice")
    assert payments == core.tokens.key(TokenType.PAYMENTS, "alice") != first
    scoped = core.tokens.key(TokenType.PAYMENTS, None, ("payments",))
    assert core.tokens.key(TokenType.PAYMENTS, None, ("payments",)) is scoped


@pytest.mark.parametrize("user", ["", 123, ["alice"]])
def test_a_bad_user_raises_the_typed_error_every_time(user: Any) -> None:
    core = Session("client", "secret")._core
    for _ in range(2):
        with pytest.raises(e.InvalidParameterError, match="user must be a non-empty string"):
            core.tokens.key(TokenType.DATA, user)
    assert core.tokens._keys == {}


def test_the_token_key_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_token_manager, "KEY_CACHE_SIZE", 8)
    core = Session("client", "secret")._core
    for i in range(20):
        core.tokens.key(TokenType.DATA, f"user{i}")
    assert [user for _, user, _ in core.tokens._keys] == [f"user{i}" for i in range(12, 20)]


class _Streamed(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"results": '
        yield b"[]}"


@pytest.mark.anyio
async def test_a_streamed_responses_read_twin_is_built_only_when_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[httpx.Response] = []
    real = _http._read_copy

    def counting(streamed: httpx.Response, body: bytes) -> httpx.Response:
        built.append(streamed)
        return real(streamed, body)

    monkeypatch.setattr(_http, "_read_copy", counting)

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "application/json", "x-tl-correlation-id": "c-1"}
        return httpx.Response(200, headers=headers, stream=_Streamed())

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        requester = Requester(client, timeouts=Timeouts(), retry_policy=RetryPolicy())
        response = await requester.request("GET", f"{API}/accounts", api=Api.DATA)
    assert (response.content, response.correlation_id, built) == (b'{"results": []}', "c-1", [])
    twin = response.http_response
    assert twin.content == b'{"results": []}' and twin.is_closed
    assert response.http_response is twin and len(built) == 1  # built once
    assert "results" not in repr(response)


def test_an_id_is_checked_once_and_a_refused_one_every_time() -> None:
    from truelayer_async._path_segment import _checked, path_segment

    for _ in range(2):
        with pytest.raises(e.InvalidParameterError, match="account_id is not a valid id"):
            path_segment("a/b", "account_id")
    hits = _checked.cache_info().hits
    assert path_segment("acc 1", "account_id") == "acc%201"
    assert path_segment("acc 1", "account_id") == "acc%201"
    assert _checked.cache_info().hits == hits + 1
    assert _checked.cache_info().maxsize == 4096
