"""Which path a request takes to the network, and that each keeps what users rely on.

The Session's own client is sent to straight through its transport (no
``AsyncClient.send``); on ``http_backend="aiohttp"`` a request no hook needs goes as its
parts (no ``httpx.Request``). A client of the user's own always goes through its
``send``, with its event hooks; so does the Session's own when the environment names a
proxy (httpx routes those through the transports it mounts).
"""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest

from tests.secret_scan import assert_no_secret_anywhere
from tests.support.doubles import RecordingSleep
from tests.support.wire_server import WireServer, respond
from tests.transports.conftest import session
from truelayer_async import (
    Environment,
    InvalidParameterError,
    ResponseTooLargeError,
    RetryPolicy,
    Secret,
    Session,
    Timeouts,
    _http,
)
from truelayer_async._error_mapping import Api
from truelayer_async._http import Requester, create_client
from truelayer_async._http_backend import proxy_in_environment
from truelayer_async._request import Attempt
from truelayer_async.transports import AiohttpTransport

pytestmark = pytest.mark.asyncio


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every ``AsyncClient.send`` and ``AiohttpTransport.handle_async_request`` call, by
    name, in order (each still does its work)."""
    seen: list[str] = []
    real_send = httpx.AsyncClient.send
    real_handle = AiohttpTransport.handle_async_request

    async def send(self: httpx.AsyncClient, request: httpx.Request, **options: Any) -> Any:
        seen.append("client.send")
        return await real_send(self, request, **options)

    async def handle(self: AiohttpTransport, request: httpx.Request) -> httpx.Response:
        seen.append("handle_async_request")
        return await real_handle(self, request)

    monkeypatch.setattr(httpx.AsyncClient, "send", send)
    monkeypatch.setattr(AiohttpTransport, "handle_async_request", handle)
    return seen


async def test_the_sessions_own_client_is_sent_to_through_its_transport(
    backend: str, server: WireServer, sleeps: RecordingSleep, sends: list[str]
) -> None:
    async with session(server.url, backend, sleeps) as tl:
        requester = tl._core.requester()
        assert requester._transport is requester.client._transport  # type: ignore[attr-defined]
        response = await requester.request("GET", f"{server.url}/x", api=Api.DATA)
    assert response.json() == {"results": []}
    assert sends == []  # neither AsyncClient.send nor, on aiohttp, an httpx.Request
    assert server.count("/x") == 1


async def test_a_request_hook_gets_an_httpx_request_on_the_aiohttp_backend(
    server: WireServer, sleeps: RecordingSleep, sends: list[str]
) -> None:
    seen: list[Attempt] = []

    def hook(attempt: Attempt) -> dict[str, str]:
        seen.append(attempt)
        return {"X-Signed": "yes"}

    async with session(server.url, "aiohttp", sleeps) as tl:
        await tl._core.requester().request(
            "POST", f"{server.url}/x", api=Api.DATA, json_body={"a": 1}, on_attempt=[hook]
        )
    assert sends == ["handle_async_request"]
    assert seen[0].headers["host"] == server.url.removeprefix("http://")
    assert seen[0].headers["content-length"] == "7" and seen[0].body == b'{"a":1}'
    assert server.arrivals[0].headers["x-signed"] == "yes"


async def test_a_client_of_your_own_goes_through_send_with_its_event_hooks(
    server: WireServer, sends: list[str]
) -> None:
    events: list[str] = []

    async def on_request(request: httpx.Request) -> None:
        events.append(f"request {request.url.path}")

    async def on_response(response: httpx.Response) -> None:
        events.append(f"response {response.status_code}")

    hooks: dict[str, list[Any]] = {"request": [on_request], "response": [on_response]}
    async with httpx.AsyncClient(event_hooks=hooks) as client:
        environment = Environment.custom(server.url)
        async with Session("id", "secret", http_client=client, environment=environment) as tl:
            requester = tl._core.requester()
            assert requester._transport is None
            await requester.request("GET", f"{server.url}/x", api=Api.DATA)
    assert sends == ["client.send"]
    assert events == ["request /x", "response 200"]


async def test_a_client_of_your_own_gets_no_direct_request_builder(
    server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[httpx.Headers] = []
    real = _http.DirectRequests

    def counted(defaults: httpx.Headers) -> _http.DirectRequests:
        built.append(defaults)
        return real(defaults)

    monkeypatch.setattr(_http, "DirectRequests", counted)
    async with httpx.AsyncClient() as client:
        environment = Environment.custom(server.url)
        async with Session("id", "secret", http_client=client, environment=environment) as tl:
            response = await tl._core.requester().request("GET", f"{server.url}/x", api=Api.DATA)
    assert response.json() == {"results": []}
    assert built == []  # its own build_request builds every request
    async with Session("id", "secret", environment=environment) as tl:
        tl._core.requester()
    assert len(built) == 1  # the Session's own client does use one


async def test_a_proxy_in_the_environment_keeps_the_sessions_client_on_send(
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    assert not proxy_in_environment()
    async with Session("id", "secret") as tl:
        assert tl._core.requester()._transport is not None
    no_proxy_env.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    assert proxy_in_environment()
    async with Session("id", "secret") as tl:
        assert tl._core.requester()._transport is None  # httpx picks the proxy transport


async def test_the_default_backend_goes_through_the_proxy_the_environment_names(
    server: WireServer, sleeps: RecordingSleep, no_proxy_env: pytest.MonkeyPatch
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", server.url)  # the loopback server plays the proxy
    async with session(server.url, "httpx", sleeps) as tl:
        response = await tl._core.requester().request(
            "GET", "http://api.proxied.invalid/x", api=Api.DATA
        )
    assert response.json() == {"results": []}
    assert [a.path for a in server.arrivals] == ["http://api.proxied.invalid/x"]


async def test_a_host_no_proxy_covers_is_reached_directly_through_send(
    server: WireServer,
    sleeps: RecordingSleep,
    no_proxy_env: pytest.MonkeyPatch,
    sends: list[str],
) -> None:
    # As proxy_in_environment documents: any proxy variable keeps the default backend on
    # AsyncClient.send, and httpx's mounts still send a NO_PROXY host straight to it.
    no_proxy_env.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    no_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    async with session(server.url, "httpx", sleeps) as tl:
        assert tl._core.requester()._transport is None
        response = await tl._core.requester().request("GET", f"{server.url}/x", api=Api.DATA)
    assert response.json() == {"results": []}
    assert sends == ["client.send"]
    assert [a.path for a in server.arrivals] == ["/x"]


async def test_the_aiohttp_backend_reads_no_proxy_from_the_environment(
    server: WireServer, sleeps: RecordingSleep, no_proxy_env: pytest.MonkeyPatch
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # as documented: not used
    async with session(server.url, "aiohttp", sleeps) as tl:
        await tl._core.requester().request("GET", f"{server.url}/x", api=Api.DATA)
    assert [a.path for a in server.arrivals] == ["/x"]


async def test_cookies_are_never_kept(
    backend: str, server: WireServer, sleeps: RecordingSleep
) -> None:
    server.script = [respond(headers={"Set-Cookie": "affinity=abc; Path=/"})]
    async with session(server.url, backend, sleeps) as tl:
        requester = tl._core.requester()
        await requester.request("GET", f"{server.url}/x", api=Api.DATA)
        await requester.request("GET", f"{server.url}/x", api=Api.DATA)
        assert not requester.client.cookies
    assert all("cookie" not in arrival.headers for arrival in server.arrivals)


async def test_the_sessions_client_keeps_no_cookie_through_send_either() -> None:
    """The path taken when a proxy is set in the environment."""
    answer = httpx.Response(200, headers={"Set-Cookie": "affinity=abc; Path=/"})
    client = create_client(Timeouts(), transport=httpx.MockTransport(lambda _: answer))
    async with client:
        await client.get("https://api.example.com/x")
        request = client.build_request("GET", "https://api.example.com/y")
    assert not client.cookies and "cookie" not in request.headers


@pytest.mark.parametrize("encoding", ["", "gzip"])  # aiohttp: read with the head, streamed
async def test_the_raw_response_has_its_request_and_elapsed_on_every_path(
    backend: str, server: WireServer, sleeps: RecordingSleep, encoding: str
) -> None:
    if encoding:
        server.script = [
            respond(body=gzip.compress(b'{"results":[]}'), headers={"Content-Encoding": "gzip"})
        ]
    async with session(server.url, backend, sleeps) as tl:
        response = await tl._core.requester().request(
            "GET", f"{server.url}/x", api=Api.DATA, params={"a": "1"}
        )
    raw = response.http_response
    assert raw.request.method == "GET" and str(raw.request.url) == f"{server.url}/x?a=1"
    assert raw.elapsed.total_seconds() >= 0
    assert raw.json() == {"results": []}
    assert server.arrivals[0].path == "/x?a=1"


async def test_a_body_a_transport_read_itself_gets_its_elapsed_sent_directly() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": []})  # built from bytes: already read

    transport = httpx.MockTransport(answer)
    async with httpx.AsyncClient(transport=transport) as client:
        requester = Requester(
            client, transport=transport, timeouts=Timeouts(), retry_policy=RetryPolicy()
        )
        response = await requester.request("GET", "https://api.example/x", api=Api.DATA)
    raw = response.http_response  # .elapsed raises when it was never set
    assert raw.elapsed.total_seconds() >= 0 and raw.request.url.path == "/x"
    assert response.json() == {"results": []}


async def test_an_unsafe_header_name_is_refused_before_anything_is_sent(
    backend: str, server: WireServer, sleeps: RecordingSleep
) -> None:
    async with session(server.url, backend, sleeps) as tl:
        for name in ("Bad Name", "X-A\r\nX-B", "Ü"):
            with pytest.raises(InvalidParameterError, match="header name") as caught:
                await tl._core.requester().request(
                    "GET", f"{server.url}/x", api=Api.DATA, headers={name: "v"}
                )
            assert name not in str(caught.value)
    assert server.arrivals == []


async def test_empty_params_reuse_the_parsed_url(
    server: WireServer, sleeps: RecordingSleep
) -> None:
    async with session(server.url, "httpx", sleeps) as tl:
        requester: Requester = tl._core.requester()
        for _ in range(2):
            await requester.request("GET", f"{server.url}/x", api=Api.DATA, params={})
        assert f"{server.url}/x" in requester._urls
        # A query already in the URL is what empty params would drop, as httpx does.
        await requester.request("GET", f"{server.url}/y?keep=1", api=Api.DATA, params={})
    assert [a.path for a in server.arrivals] == ["/x", "/x", "/y"]


async def test_an_error_after_a_lean_send_holds_no_secret(
    backend: str, server: WireServer, sleeps: RecordingSleep, sentinel: str
) -> None:
    server.script = [respond(body=b'{"results":"' + b"x" * 1000 + b'"}')]
    async with session(server.url, backend, sleeps) as tl:
        with pytest.raises(ResponseTooLargeError) as large:
            await tl._core.requester().request(
                "GET", f"{server.url}/x", api=Api.DATA, bearer=Secret(sentinel), max_bytes=100
            )
    assert server.arrivals[0].headers["authorization"] == f"Bearer {sentinel}"
    assert_no_secret_anywhere(large.value, sentinel)


async def test_a_request_that_cannot_be_built_holds_no_secret_on_either_path(
    backend: str, server: WireServer, sleeps: RecordingSleep, sentinel: str
) -> None:
    async with session(server.url, backend, sleeps) as tl:
        requester = tl._core.requester()
        with pytest.raises(InvalidParameterError, match="request not built") as caught:
            await requester.request(
                "GET", f"{server.url}/\x00x", api=Api.DATA, bearer=Secret(sentinel)
            )
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    assert_no_secret_anywhere(caught.value, sentinel)
    assert server.arrivals == []


@pytest.mark.parametrize("encoding", ["", "gzip"])
async def test_a_body_over_the_cap_is_refused_with_its_correlation_id(
    backend: str, server: WireServer, sleeps: RecordingSleep, encoding: str
) -> None:
    body = b'{"results":"' + b"x" * 1000 + b'"}'
    headers = {"X-TL-Correlation-Id": "c-big"}
    if encoding:
        body, headers["Content-Encoding"] = gzip.compress(body), encoding
    server.script = [respond(body=body, headers=headers)]
    async with session(server.url, backend, sleeps) as tl:
        with pytest.raises(ResponseTooLargeError) as large:
            await tl._core.requester().request(
                "GET", f"{server.url}/x", api=Api.DATA, max_bytes=100
            )
    assert large.value.correlation_id == "c-big" and large.value.status_code == 200


async def test_the_sdks_event_hooks_see_every_path(
    backend: str, server: WireServer, sleeps: RecordingSleep, sends: list[str]
) -> None:
    seen: list[str] = []

    def on_request(event: Any) -> None:
        seen.append(f"request {event.method} {event.url}")

    def on_response(event: Any) -> None:
        seen.append(f"response {event.status_code} {event.correlation_id}")

    server.script = [respond(headers={"X-TL-Correlation-Id": "c-1"})]
    hooks: Any = {"request": [on_request], "response": [on_response]}
    async with session(server.url, backend, sleeps, event_hooks=hooks) as tl:
        await tl._core.requester().request(
            "GET", f"{server.url}/x", api=Api.DATA, params={"q": "1"}
        )
    assert sends == []  # sent as parts on aiohttp, straight to the transport on httpx
    assert seen == [f"request GET {server.url}/x", "response 200 c-1"]
