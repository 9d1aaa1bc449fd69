"""Every emulator endpoint, success and error, validated against TrueLayer's OpenAPI.

Each case makes one real request, in-process through the ASGI app and again over loopback
HTTP to the served emulator (uvicorn), and names the documented response (document, path,
method, status, media type) its body must match, formats (``date-time``…) included. See
``openapi.py`` for how ``$ref``s are resolved, the undocumented-key check and the spec
errata.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NamedTuple

import httpx
import pytest
import pytest_asyncio
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

from tests.support.auth_links import AUTH, auth_link
from tests.support.openapi import AUTH as AUTH_DOC
from tests.support.openapi import DATA, VERIFICATION, spec
from tests.support.served import bearer
from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeTrueLayer

from .helpers import API, token_request

JSON = "application/json"
PROBLEM = "application/problem+json"


class Expect(NamedTuple):
    doc: str
    path: str  # as written in the document
    method: str
    status: int
    media_type: str = JSON
    #: A schema pointer to use instead of the documented response (undocumented statuses).
    pointer: str | None = None


Case = Callable[[FakeTrueLayer, httpx.AsyncClient], Awaitable[tuple[httpx.Response, Expect]]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[name] = fn
        return fn

    return register


def connection(fake: FakeTrueLayer, **kwargs: Any) -> tuple[dict[str, str], str, str]:
    """Bearer headers, the current account id and the card id for a new connection."""
    tokens = fake.create_connection(**kwargs)
    data = fake.connection(tokens["access_token"]).data()
    card = data.cards[0].account_id if data.cards else "no-card"
    return bearer(tokens["access_token"]), data.accounts[0].account_id, card


def data_get(path: str, status: int = 200) -> Case:
    """A GET under /data/v1 with a full-scope john/doe token."""

    async def run(fake: FakeTrueLayer, client: httpx.AsyncClient) -> tuple[httpx.Response, Expect]:
        headers, account, card = connection(fake)
        url = path.format(account=account, card=card)
        spec_path = path.split("?")[0].replace("{account}", "{account_id}")
        spec_path = spec_path.replace("{card}", "{account_id}")
        response = await client.get(f"{API}/data/v1{url}", headers=headers)
        return response, Expect(DATA, spec_path, "get", status)

    return run


# -- Data API: success -----------------------------------------------------------------------

for _path in (
    "/me",
    "/info",
    "/accounts",
    "/accounts/{account}",
    "/accounts/{account}/balance",
    "/accounts/{account}/transactions",
    "/accounts/{account}/transactions?from=2024-01-01&to=2024-04-30T23:59:59Z",
    "/accounts/{account}/transactions/pending",
    "/accounts/{account}/standing_orders",
    "/accounts/{account}/direct_debits",
    "/cards",
    "/cards/{card}",
    "/cards/{card}/balance",
    "/cards/{card}/transactions",
    "/cards/{card}/transactions/pending",
):
    case(f"200 GET {_path}")(data_get(_path))

for _path in (
    "/accounts",
    "/accounts/{account}/transactions?async=true&from=2024-03-01",
    "/cards",
):
    sep = "&" if "?" in _path else "?"
    case(f"202 GET {_path} async")(
        data_get(_path + ("" if "async" in _path else f"{sep}async=true"), 202)
    )


@case("200 async results, Running then Succeeded")
async def _async_poll(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    headers, account, _ = connection(fake)
    queued = await client.get(
        f"{API}/data/v1/accounts/{account}/transactions?async=true", headers=headers
    )
    running = await client.get(queued.json()["results_uri"], headers=headers)
    expect = Expect(DATA, "/accounts/{account_id}/transactions", "get", 200)
    spec(DATA).validate(running.json(), spec(DATA).response_pointer(*expect[1:5]))
    assert running.json()["status"] == "Running"
    done = await client.get(queued.json()["results_uri"], headers=headers)
    assert done.json()["status"] == "Succeeded"
    return done, expect


@case("202 POST /batch/transactions")
async def _batch(fake: FakeTrueLayer, client: httpx.AsyncClient) -> tuple[httpx.Response, Expect]:
    headers, _, _ = connection(fake)
    body = {
        "from": "2024-03-01T00:00:00",
        "pending": True,
        "balance": True,
        "webhook_uri": "https://example.com/hook",
    }
    response = await client.post(f"{API}/data/v1/batch/transactions", headers=headers, json=body)
    return response, Expect(DATA, "/batch/transactions", "post", 202)


@case("200 GET /batch/results")
async def _batch_results(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    headers, _, _ = connection(fake)
    await client.post(
        f"{API}/data/v1/batch/transactions",
        headers=headers,
        json={"pending": True, "balance": True},
    )
    response = await client.get(f"{API}/data/v1/batch/results", headers=headers)
    return response, Expect(DATA, "/batch/results", "get", 200)


# -- Data API: errors ------------------------------------------------------------------------


@case("400 validation_error (malformed from)")
async def _bad_from(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    headers, account, _ = connection(fake)
    response = await client.get(
        f"{API}/data/v1/accounts/{account}/transactions?from=yesterday", headers=headers
    )
    assert response.json()["error"] == "validation_error"
    return response, Expect(DATA, "/accounts/{account_id}/transactions", "get", 400)


@case("400 invalid_date_range")
async def _bad_range(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    headers, _, card = connection(fake)
    url = f"{API}/data/v1/cards/{card}/transactions/pending?from=2024-04-02&to=2024-04-01"
    response = await client.get(url, headers=headers)
    assert response.json()["error"] == "invalid_date_range"
    return response, Expect(DATA, "/cards/{account_id}/transactions/pending", "get", 400)


@case("401 unauthorized (unknown token)")
async def _unknown_token(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    response = await client.get(f"{API}/data/v1/me", headers=bearer("not-a-token"))
    assert response.json()["error"] == "unauthorized"
    return response, Expect(DATA, "/me", "get", 401)


@case("401 invalid_token (expired)")
async def _expired(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    headers, _, _ = connection(fake)
    fake.clock.advance(3601)
    response = await client.get(f"{API}/data/v1/accounts", headers=headers)
    assert response.json()["error"] == "invalid_token"
    return response, Expect(DATA, "/accounts", "get", 401)


@case("403 insufficient_scope")
async def _scope(fake: FakeTrueLayer, client: httpx.AsyncClient) -> tuple[httpx.Response, Expect]:
    headers, _, _ = connection(fake, scopes=("accounts",))
    response = await client.get(f"{API}/data/v1/info", headers=headers)
    assert response.json()["error"] == "insufficient_scope"
    assert response.json()["error_details"] == {"missing_scopes": ["info"]}
    return response, Expect(DATA, "/info", "get", 403)


@case("403 access_denied (revoked)")
async def _revoked(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    headers, account, _ = connection(fake)
    fake.revoke("john")
    response = await client.get(
        f"{API}/data/v1/accounts/{account}/standing_orders", headers=headers
    )
    return response, Expect(DATA, "/accounts/{account_id}/standing_orders", "get", 403)


@case("404 account_not_found")
async def _not_found(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    headers, _, _ = connection(fake)
    response = await client.get(f"{API}/data/v1/accounts/nope/balance", headers=headers)
    return response, Expect(DATA, "/accounts/{account_id}/balance", "get", 404)


@case("501 endpoint_not_supported (john2 has no cards)")
async def _no_cards(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    headers, _, _ = connection(fake, username="john2")
    response = await client.get(f"{API}/data/v1/cards", headers=headers)
    return response, Expect(DATA, "/cards", "get", 501)


for _code, _status in (("internal_error", 500), ("provider_error", 503)):

    def _persona(code: str = _code, status: int = _status) -> Case:
        async def run(
            fake: FakeTrueLayer, client: httpx.AsyncClient
        ) -> tuple[httpx.Response, Expect]:
            headers, _, _ = connection(fake, username=f"error.{code}", password="error")
            response = await client.get(f"{API}/data/v1/accounts", headers=headers)
            assert response.json()["error"] == code
            return response, Expect(DATA, "/accounts", "get", status)

        return run

    case(f"{_status} error persona {_code}")(_persona())

for _status in (429, 504):

    def _injected(status: int = _status) -> Case:
        async def run(
            fake: FakeTrueLayer, client: httpx.AsyncClient
        ) -> tuple[httpx.Response, Expect]:
            headers, _, _ = connection(fake)
            fake.fail_next("/data/v1/accounts", status)
            response = await client.get(f"{API}/data/v1/accounts", headers=headers)
            return response, Expect(DATA, "/accounts", "get", status)

        return run

    case(f"{_status} injected on /accounts")(_injected())


# -- connections/extend ----------------------------------------------------------------------


def extend_body(refresh_token: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "user_has_reconfirmed_consent": True,
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "refresh_token": refresh_token,
        "redirect_uri": "http://127.0.0.1:8080/callback",
        "user": {"id": "u-1", "name": "John Doe", "email": "john@example.com"},
    }
    body.update(overrides)
    return body


for _password, _action in (("doe", "authentication_needed"), ("eternal", "no_action_needed")):

    def _extend(password: str = _password, action: str = _action) -> Case:
        async def run(
            fake: FakeTrueLayer, client: httpx.AsyncClient
        ) -> tuple[httpx.Response, Expect]:
            tokens = fake.create_connection(password=password)
            response = await client.post(
                f"{API}/connections/extend", json=extend_body(tokens["refresh_token"])
            )
            assert response.json()["action_needed"] == action
            return response, Expect(DATA, "/connections/extend", "post", 200)

        return run

    case(f"200 extend {_action}")(_extend())


@case("400 extend validation")
async def _extend_400(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    body = extend_body("x")
    del body["client_id"]
    response = await client.post(f"{API}/connections/extend", json=body)
    return response, Expect(DATA, "/connections/extend", "post", 400, PROBLEM)


@case("401 extend unknown refresh token")
async def _extend_401(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    response = await client.post(f"{API}/connections/extend", json=extend_body("unknown"))
    return response, Expect(DATA, "/connections/extend", "post", 401, PROBLEM)


@case("422 extend revoked connection")
async def _extend_422(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    tokens = fake.create_connection()
    fake.revoke("john")
    response = await client.post(
        f"{API}/connections/extend", json=extend_body(tokens["refresh_token"])
    )
    return response, Expect(DATA, "/connections/extend", "post", 422, PROBLEM)


# -- auth server -----------------------------------------------------------------------------


@case("200 token authorization_code")
async def _code_grant(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    from truelayer_async.testing import DEFAULT_REDIRECT_URI, complete_consent

    result = await complete_consent(client, auth_link(fake.base_url or AUTH))
    assert result.code
    response = await token_request(
        client,
        grant_type="authorization_code",
        code=result.code,
        redirect_uri=DEFAULT_REDIRECT_URI,
    )
    return response, Expect(AUTH_DOC, "/connect/token", "post", 200)


@case("200 token refresh_token")
async def _refresh(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    tokens = fake.create_connection()
    response = await token_request(
        client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    return response, Expect(AUTH_DOC, "/connect/token", "post", 200)


@case("200 token client_credentials")
async def _cc(fake: FakeTrueLayer, client: httpx.AsyncClient) -> tuple[httpx.Response, Expect]:
    response = await token_request(client, grant_type="client_credentials", scope="payments")
    assert "refresh_token" not in response.json()
    return response, Expect(AUTH_DOC, "/connect/token", "post", 200)


for _fields, _error in (
    ({"grant_type": "refresh_token", "refresh_token": "nope"}, "invalid_grant"),
    (
        {"grant_type": "refresh_token", "refresh_token": "x", "client_secret": "wrong"},
        "invalid_client",
    ),
    ({"grant_type": "authorization_code"}, "invalid_request"),
    ({"grant_type": "password"}, "unsupported_grant_type"),
    ({"grant_type": "client_credentials", "scope": "accounts"}, "invalid_scope"),
):

    def _token_error(fields: dict[str, str] = _fields, error: str = _error) -> Case:
        async def run(
            fake: FakeTrueLayer, client: httpx.AsyncClient
        ) -> tuple[httpx.Response, Expect]:
            response = await token_request(client, **fields)
            assert response.json()["error"] == error
            return response, Expect(AUTH_DOC, "/connect/token", "post", 400)

        return run

    case(f"400 token {_error}")(_token_error())


@case("500 token injected")
async def _token_500(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    fake.fail_next("/connect/token", 500)
    response = await token_request(client, grant_type="client_credentials")
    return response, Expect(AUTH_DOC, "/connect/token", "post", 500)


@case("200 GET /api/providers")
async def _providers(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    response = await client.get(f"{AUTH}/api/providers")
    assert isinstance(response.json(), list) and len(response.json()) > 1
    pointer = "#/components/schemas/GetProvidersResponse"
    for item in response.json():
        spec(AUTH_DOC).validate(item, pointer)
    return response, Expect(
        AUTH_DOC, "/api/providers", "get", 200, pointer="#/components/schemas/GetProvidersList"
    )


@case("401 DELETE /api/delete unknown token")
async def _delete_401(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    response = await client.delete(f"{AUTH}/api/delete", headers=bearer("nope"))
    return response, Expect(
        AUTH_DOC, "/api/delete", "delete", 401, pointer="#/components/schemas/Error"
    )


@case("500 DELETE /api/delete injected")
async def _delete_500(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    fake.fail_next("/api/delete", 500)
    response = await client.delete(f"{AUTH}/api/delete", headers=bearer("nope"))
    return response, Expect(AUTH_DOC, "/api/delete", "delete", 500)


# -- verification ----------------------------------------------------------------------------


def verify(name: Any = "John Doe", *, status: int, media_type: str = JSON, **connect: Any) -> Case:
    connect.setdefault("scopes", ("accounts", "verification"))

    async def run(fake: FakeTrueLayer, client: httpx.AsyncClient) -> tuple[httpx.Response, Expect]:
        headers, _, _ = connection(fake, **connect)
        body = {} if name is None else {"name": name}
        response = await client.post(f"{API}/verification/v1/verify", headers=headers, json=body)
        return response, Expect(
            VERIFICATION, "/verification/v1/verify", "post", status, media_type
        )

    return run


case("200 verify match")(verify("Mr John DOE", status=200))
case("200 verify no match")(verify("Jane Smith", status=200))
case("400 verify missing name")(verify(None, status=400, media_type=PROBLEM))
case("400 verify name too long")(verify("x" * 201, status=400, media_type=PROBLEM))
case("403 verify without scope")(verify(status=403, media_type=PROBLEM, scopes=("accounts",)))
case("500 verify error persona")(
    verify(status=500, media_type=PROBLEM, username="error.internal_error", password="error")
)
case("503 verify error persona")(
    verify(status=503, media_type=PROBLEM, username="error.provider_error", password="error")
)


@case("401 verify unknown token")
async def _verify_401(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> tuple[httpx.Response, Expect]:
    response = await client.post(
        f"{API}/verification/v1/verify", headers=bearer("x"), json={"name": "a"}
    )
    return response, Expect(VERIFICATION, "/verification/v1/verify", "post", 401, PROBLEM)


for _status in (429, 504):

    def _verify_injected(status: int = _status) -> Case:
        async def run(
            fake: FakeTrueLayer, client: httpx.AsyncClient
        ) -> tuple[httpx.Response, Expect]:
            fake.fail_next("/verification/v1/verify", status)
            response = await client.post(f"{API}/verification/v1/verify", json={"name": "a"})
            return response, Expect(
                VERIFICATION, "/verification/v1/verify", "post", status, PROBLEM
            )

        return run

    case(f"{_status} verify injected")(_verify_injected())


# -- the test --------------------------------------------------------------------------------


class ToServer(httpx.AsyncBaseTransport):
    """Sends requests for the in-process hosts (``auth.truelayer.fake``…) to the served
    emulator instead, over real loopback HTTP."""

    def __init__(self, base_url: str) -> None:
        self._base = httpx.URL(base_url)
        self._http = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host.endswith(".truelayer.fake"):
            request.url = request.url.copy_with(
                scheme=self._base.scheme, host=self._base.host, port=self._base.port
            )
            request.headers["Host"] = self._base.netloc.decode("ascii")
        return await self._http.handle_async_request(request)

    async def aclose(self) -> None:
        await self._http.aclose()


@pytest_asyncio.fixture(params=["in-process", "served"])
async def client(
    request: pytest.FixtureRequest, fake: FakeTrueLayer
) -> AsyncIterator[httpx.AsyncClient]:
    if request.param == "in-process":
        async with fake.http_client() as http:
            yield http
        return
    with fake.serve_in_thread() as base_url:
        async with httpx.AsyncClient(transport=ToServer(base_url)) as http:
            yield http
            # Every request really went over the network to the served emulator.
            assert all(r.headers.get("host") == base_url.split("//")[1] for r in fake.requests)


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(CASES))
async def test_response_matches_openapi(
    name: str, fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    response, expect = await CASES[name](fake, client)
    assert response.status_code == expect.status, response.text
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type == expect.media_type
    assert response.headers["x-tl-correlation-id"]
    document = spec(expect.doc)
    if expect.pointer == "#/components/schemas/GetProvidersList":
        return  # items validated in the case itself
    pointer = expect.pointer or document.response_pointer(
        expect.path, expect.method, expect.status, expect.media_type
    )
    document.validate(response.json(), pointer)
    if expect.doc == DATA and expect.media_type == JSON:
        assert response.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.asyncio
async def test_delete_answers_200_with_no_body(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    tokens = fake.create_connection()
    response = await client.delete(f"{AUTH}/api/delete", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.content == b""
    responses = spec(AUTH_DOC).pointer("#/paths/~1api~1delete/delete/responses/200")
    assert "content" not in responses


def test_formats_are_checked() -> None:
    document = spec(DATA)
    pointer = document.response_pointer("/batch/results", "get", 200, JSON)
    good = {
        "status": "Succeeded",
        "task_id": "t",
        "request": {"from": "2024-01-01T00:00:00Z"},
        "results": {"accounts": []},
    }
    document.validate(good, pointer)
    document.validate({**good, "request": {"from": "2024-01-01T00:00:00"}}, pointer)
    with pytest.raises(ValidationError):
        document.validate({**good, "request": {"from": "2024-01-01 00:00"}}, pointer)
    with pytest.raises(ValidationError, match="date-time"):
        spec(AUTH_DOC).validator_cls(
            {"type": "string", "format": "date-time"},
            format_checker=spec(AUTH_DOC).validator_cls.FORMAT_CHECKER,
        ).validate("2024-13-01T00:00:00Z")


def test_every_documented_data_path_is_exercised() -> None:
    documented = {
        (method, path)
        for path, item in spec(DATA).doc["paths"].items()
        for method in item
        if method in ("get", "post", "delete")
    }
    exercised = set()
    for name in CASES:
        parts = name.split()
        if len(parts) >= 3 and parts[1] in ("GET", "POST"):
            path = (
                parts[2]
                .split("?")[0]
                .replace("{account}", "{account_id}")
                .replace("{card}", "{account_id}")
            )
            exercised.add((parts[1].lower(), path))
    exercised |= {("post", "/connections/extend")}
    assert documented - exercised == set()


@pytest.mark.asyncio
async def test_webhook_bodies_match_the_documented_callback(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    headers, account, _ = connection(fake)
    await client.get(
        f"{API}/data/v1/accounts/{account}/transactions?async=true"
        "&webhook_uri=https://example.com/hook",
        headers=headers,
    )
    await client.post(
        f"{API}/data/v1/batch/transactions",
        headers=headers,
        json={"webhook_uri": "https://example.com/batch"},
    )
    assert len(fake.webhooks) == 2
    pointer = "#/components/requestBodies/WebhookRequest/content/application~1json/schema"
    for hook in fake.webhooks:
        spec(DATA).validate(dict(hook.payload), pointer)
