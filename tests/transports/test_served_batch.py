"""A whole batch (connect, then ``fetch_all``) against the emulator served in its own
process, on both backends: the same results, within the Session's pool."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.served import Served
from tests.transports.conftest import BACKENDS
from truelayer_async import DATA_SCOPES, Environment, FetchAllResult, Session
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    complete_consent,
)

pytestmark = pytest.mark.asyncio

USERS = [f"user-{n}" for n in range(12)]
POOL = 3


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(
        "--no-webhook-delivery",
        "--log-level",
        "warning",
        log=tmp_path_factory.mktemp("emulator") / "stderr.log",
    )
    yield served
    served.stop()


class InFlight:
    """Event hooks counting the attempts in flight, and the most at once."""

    def __init__(self) -> None:
        self.now = self.peak = self.attempts = 0

    def request(self, event: Any) -> None:
        self.now += 1
        self.attempts += 1
        self.peak = max(self.peak, self.now)

    def response(self, event: Any) -> None:
        self.now -= 1


def shape(result: FetchAllResult) -> tuple[Any, ...]:
    assert result.ok, result.error
    return tuple(
        (a.account.account_id, a.balance is not None and a.balance.current, len(a.transactions))
        for a in result.accounts
    )


async def batch(url: str, backend: str) -> tuple[list[tuple[Any, ...]], InFlight]:
    watch = InFlight()
    async with Session(
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        redirect_uri=DEFAULT_REDIRECT_URI,
        environment=Environment.custom(url),
        http_backend=backend,  # type: ignore[arg-type]
        max_connections=POOL,
        event_hooks={"request": watch.request, "response": watch.response},
    ) as tl:
        async with httpx.AsyncClient(base_url=url, trust_env=False) as browser:
            for user in USERS:
                link = tl.auth.auth_link(scopes=DATA_SCOPES, providers="uk-cs-mock", pkce=True)
                result = await complete_consent(browser, link.url, username="john")
                assert result.redirect_url is not None
                code = tl.auth.parse_callback(result.redirect_url, expected_state=link.state)
                await tl.auth.exchange_code(code, user=user, code_verifier=link.code_verifier)
        results = await tl.data.fetch_all(USERS, concurrency=16)
    assert [r.user for r in results] == USERS
    return [shape(r) for r in results], watch


async def test_a_served_batch_gives_the_same_results_on_both_backends(emulator: Served) -> None:
    outcomes = {backend: await batch(emulator.url, backend) for backend in BACKENDS}
    (httpx_shapes, httpx_watch), (aiohttp_shapes, aiohttp_watch) = outcomes.values()
    assert all(len(s) == 2 and s[0][2] > 0 for s in aiohttp_shapes)
    # Account ids differ per connection; what the bank holds does not.
    assert [[s[1:] for s in user] for user in aiohttp_shapes] == [
        [s[1:] for s in user] for user in httpx_shapes
    ]
    assert aiohttp_watch.attempts == httpx_watch.attempts
    # fetch_all's concurrency (16) is held to the pool: nothing queues for a connection.
    assert aiohttp_watch.peak <= POOL and httpx_watch.peak <= POOL
