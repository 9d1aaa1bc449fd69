"""Issue #14 §1: services depend on a narrow core, not on the Session."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs

import anyio
import httpx
import pytest
import respx

import truelayer_async
from tests.support.doubles import RecordingSleep
from tests.support.token_endpoint import REDIRECT, TOKEN_URL
from truelayer_async import Session, TokenType
from truelayer_async import errors as e
from truelayer_async._core import ClientToken, Core, UserToken
from truelayer_async._error_mapping import Api
from truelayer_async._retry import RetryMode
from truelayer_async._token_manager import TokenManager
from truelayer_async.services.data import DataService
from truelayer_async.testing import FakeClock

SERVICES = Path(truelayer_async.__file__).parent / "services"
PAYMENTS = "https://api.truelayer-sandbox.com/v3/payments"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found.add(("." * node.level) + (node.module or ""))
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted(SERVICES.glob("*.py")), ids=lambda p: p.name)
def test_no_service_module_imports_the_session(path: Path) -> None:
    assert not {name for name in _imports(path) if name.split(".")[-1] == "session"}


@pytest.fixture
async def tl(clock: FakeClock, sleeps: RecordingSleep) -> AsyncIterator[Session]:
    async with Session("client", "secret", redirect_uri=REDIRECT, clock=clock, sleep=sleeps) as s:
        yield s


def token(n: int, scope: str | None = None) -> httpx.Response:
    body: dict[str, object] = {
        "access_token": f"cc-{n}",
        "expires_in": 3600,
        "token_type": "Bearer",
    }
    if scope is not None:
        body["scope"] = scope
    return httpx.Response(200, json=body)


@pytest.mark.anyio
async def test_services_are_built_on_the_core(tl: Session) -> None:
    core = tl._core
    assert isinstance(core, Core) and isinstance(core.tokens, TokenManager)
    for service in (tl.auth, tl.data, tl.verification):
        assert service._core is core
    assert (tl.client_id, tl.environment, tl.token_store) == (
        core.client_id,
        core.environment,
        core.token_store,
    )
    # A service works with nothing but a core.
    assert DataService(core)._core is core


@pytest.mark.anyio
async def test_the_old_paths_still_work_but_warn(tl: Session) -> None:
    with pytest.warns(DeprecationWarning, match="requester"):
        assert tl.requester() is tl._core.requester()
    with pytest.warns(DeprecationWarning, match="tokens"):
        assert tl.auth.tokens is tl._core.tokens


@pytest.mark.anyio
async def test_a_client_credentials_source_needs_no_auth_service(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        grant = wire.post(TOKEN_URL).mock(side_effect=[token(1, "payments"), token(2)])
        api = wire.post(PAYMENTS).mock(return_value=httpx.Response(201, json={"id": "p1"}))
        source = ClientToken(("payments",))
        for _ in range(2):
            response = await tl._core.authorized_request(
                "POST",
                PAYMENTS,
                source=source,
                api=Api.PAYMENTS,
                json_body={"amount_in_minor": 1},
                retry_mode=RetryMode.KEYED,
            )
            assert response.status_code == 201
    assert grant.call_count == 1  # cached: one grant for both calls
    form = parse_qs(grant.calls.last.request.content.decode())
    assert form["grant_type"] == ["client_credentials"] and form["scope"] == ["payments"]
    assert {c.request.headers["Authorization"] for c in api.calls} == {"Bearer cc-1"}
    # The same cache as tl.auth.client_credentials().
    assert (await tl.auth.client_credentials(["payments"])).access_token.get_secret_value() == (
        "cc-1"
    )


@pytest.mark.anyio
async def test_a_client_token_401_gets_one_new_token_and_one_replay(tl: Session) -> None:
    # Issue #17: the cached client token was refused (revoked early): a new grant, and
    # the request replayed once with it.
    with respx.mock(assert_all_called=False) as wire:
        grant = wire.post(TOKEN_URL).mock(side_effect=[token(1), token(2)])
        api = wire.get(PAYMENTS).mock(
            side_effect=[httpx.Response(401, json={"title": "x"}), httpx.Response(200, json={})]
        )
        response = await tl._core.authorized_request(
            "GET", PAYMENTS, source=ClientToken(), api=Api.PAYMENTS
        )
    assert response.status_code == 200 and grant.call_count == 2
    assert [c.request.headers["Authorization"] for c in api.calls] == [
        "Bearer cc-1",
        "Bearer cc-2",
    ]
    # The new token replaced the refused one in the cache.
    assert (await tl._core.token_for(ClientToken())).access_token.get_secret_value() == "cc-2"


@pytest.mark.anyio
async def test_a_second_client_token_401_is_raised(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        grant = wire.post(TOKEN_URL).mock(side_effect=[token(1), token(2)])
        api = wire.get(PAYMENTS).mock(return_value=httpx.Response(401, json={"title": "x"}))
        with pytest.raises(e.PaymentsApiError) as caught:
            await tl._core.authorized_request(
                "GET", PAYMENTS, source=ClientToken(), api=Api.PAYMENTS
            )
    assert caught.value.status_code == 401 and api.call_count == 2 and grant.call_count == 2


@pytest.mark.anyio
async def test_concurrent_client_token_401s_share_one_new_grant(tl: Session) -> None:
    with respx.mock(assert_all_called=False) as wire:
        grant = wire.post(TOKEN_URL).mock(side_effect=[token(1), token(2), token(3)])

        def answer(request: httpx.Request) -> httpx.Response:
            refused = request.headers["Authorization"] == "Bearer cc-1"
            return httpx.Response(401 if refused else 200, json={})

        wire.get(PAYMENTS).mock(side_effect=answer)
        await tl._core.token_for(ClientToken())  # cc-1 cached
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(
                    lambda: tl._core.authorized_request(
                        "GET", PAYMENTS, source=ClientToken(), api=Api.PAYMENTS
                    )
                )
    assert grant.call_count == 2  # cc-1, then one cc-2 for all five


@pytest.mark.anyio
async def test_a_user_source_without_a_token_raises_no_token(tl: Session) -> None:
    with pytest.raises(e.NoTokenError):
        await tl._core.token_for(UserToken("nobody"))
    with pytest.raises(e.NoTokenError):
        await tl._core.token_for(UserToken(None, TokenType.PAYMENTS))
