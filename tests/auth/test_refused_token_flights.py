"""A token TrueLayer refuses (401) mid-call, and the caller cancelled while the SDK
replaces it: by each of asyncio's own mechanisms (``wait_for``, ``asyncio.timeout``,
``Task.cancel``, ``TaskGroup``) and anyio's, on asyncio and on trio.

``tests/auth/test_flights.py`` holds the flights themselves (``valid_token``,
``client_credentials(replacing=...)``); these go in through the calls users make, so the
401 handling in ``Core._authorized`` is on the path: a Data call whose user token is
refused (a refresh) and a Payments call whose client token is refused (a new grant).
"""

from __future__ import annotations

import anyio
import httpx
import pytest

from tests.support.flights import (
    ASYNCIO_KINDS,
    TRIO_KINDS,
    USER,
    Cancel,
    Pause,
    PausingStore,
    PausingTransport,
    assert_newest_kept,
    connect_user,
)
from truelayer_async import Secret
from truelayer_async.testing import FakeTrueLayer

POINTS = ["sent", "answer", "store"]
TOKEN_REFUSED = "The access token is invalid or expired."


@pytest.fixture
def anyio_backend() -> str:
    """asyncio here; the trio variants run their own loop with ``anyio.run``."""
    return "asyncio"


def _is_client_grant(request: httpx.Request) -> bool:
    return b"grant_type=client_credentials" in request.content


async def data_401_scenario(point: str, cancel: Cancel) -> None:
    """A data call's token is refused; its caller is cancelled while the refresh is held
    at ``point``: the refresh goes on, and the newest pair is kept."""
    fake = FakeTrueLayer()
    pause = Pause(point)
    client = httpx.AsyncClient(transport=PausingTransport(fake, pause), base_url="http://x")
    async with client, fake.session(http_client=client, token_store=PausingStore(pause)) as tl:
        key = await connect_user(fake, tl)
        fake.fail_next("/data/v1/accounts", 401)  # the token is refused, not expired
        pause.armed = True
        with anyio.fail_after(60):  # a hang guard, not a timing assertion
            await cancel(lambda: tl.data.accounts(user=USER), pause)
            assert pause.reached.is_set()  # the cancellation landed at the point under test
            pause.release.set()
            await tl._core.tokens.drain(30)  # the flight whose caller left goes on
            token = await tl.auth.valid_token(user=USER)
        assert token.access_token == Secret(fake.latest_access_token("john") or "")
        assert fake.stats["refresh"] == 1  # one refresh for the refused token
        await assert_newest_kept(fake, tl, key)


async def payments_401_scenario(point: str, cancel: Cancel) -> None:
    """A Payments call's client token is refused; its caller is cancelled while the new
    grant is held at ``point``: the new token is kept, and the next call needs no grant."""
    fake = FakeTrueLayer()
    pause = Pause(point)
    transport = PausingTransport(fake, pause, matches=_is_client_grant)
    client = httpx.AsyncClient(transport=transport, base_url="http://x")
    async with client, fake.session(http_client=client, token_store=PausingStore(pause)) as tl:
        assert await tl.merchant_accounts.list()  # the first grant
        fake.fail_next("/v3/merchant-accounts", 401, "unauthenticated", description=TOKEN_REFUSED)
        pause.armed = True
        with anyio.fail_after(60):  # a hang guard, not a timing assertion
            await cancel(tl.merchant_accounts.list, pause)
            assert pause.reached.is_set()
            pause.release.set()
            await tl._core.tokens.drain(30)
            assert await tl.merchant_accounts.list()
        assert fake.stats["client_credentials"] == 2  # the first grant and the renewal


@pytest.mark.anyio
@pytest.mark.parametrize("cancel", ASYNCIO_KINDS)
@pytest.mark.parametrize("point", POINTS)
async def test_a_caller_cancelled_while_a_refused_user_token_is_refreshed(
    point: str, cancel: Cancel
) -> None:
    await data_401_scenario(point, cancel)


@pytest.mark.parametrize("cancel", TRIO_KINDS)
@pytest.mark.parametrize("point", POINTS)
def test_a_caller_cancelled_while_a_refused_user_token_is_refreshed_on_trio(
    point: str, cancel: Cancel
) -> None:
    anyio.run(data_401_scenario, point, cancel, backend="trio")


@pytest.mark.anyio
@pytest.mark.parametrize("cancel", ASYNCIO_KINDS)
@pytest.mark.parametrize("point", POINTS)
async def test_a_caller_cancelled_while_a_refused_client_token_is_replaced(
    point: str, cancel: Cancel
) -> None:
    await payments_401_scenario(point, cancel)


@pytest.mark.parametrize("cancel", TRIO_KINDS)
@pytest.mark.parametrize("point", POINTS)
def test_a_caller_cancelled_while_a_refused_client_token_is_replaced_on_trio(
    point: str, cancel: Cancel
) -> None:
    anyio.run(payments_401_scenario, point, cancel, backend="trio")
