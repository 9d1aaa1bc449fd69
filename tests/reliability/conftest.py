"""Fixtures of the reliability campaign (docs/reliability.md); helpers are in
``tests.support.reliability``.

* ``--soak-long`` turns on the long fault-injection soak (``nox -s soak``).
* ``secrets`` plants one sentinel in the client secret, every token, code, verifier and
  state; ``tl`` is a Session built with it; ``guard`` (autouse) scans every log record
  at DEBUG, every respx request URL and every exception and repr it is handed, and fails
  the test if the sentinel shows anywhere.
* ``server`` is the strict respx token endpoint (``TokenServer``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
import respx

from tests.secret_scan import assert_no_secret_in_logs
from tests.support.doubles import RecordingSleep
from tests.support.reliability import CLIENT_ID, REDIRECT, TOKEN_URL, Guard, Secrets, TokenServer
from truelayer_async import Session
from truelayer_async.testing import FakeClock


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak-long",
        action="store_true",
        default=False,
        help="run the long fault-injection soak (about 60 s, 200 users; nox -s soak)",
    )


@pytest.fixture
def secrets(sentinel: str) -> Secrets:
    return Secrets(sentinel)


@pytest.fixture(autouse=True)
def guard(sentinel: str, caplog: pytest.LogCaptureFixture) -> Iterator[Guard]:
    """Autouse: after the test, every log record (DEBUG and up, every logger) is scanned.

    httpx logs the full URL of every request at INFO, so this also proves that no secret
    went into a URL.
    """
    caplog.set_level(logging.DEBUG)
    checker = Guard(sentinel)
    yield checker
    assert_no_secret_in_logs(caplog.records, sentinel)
    for record in caplog.records:
        if record.name == "httpx":
            assert sentinel not in str(record.args), "a secret went into a URL"


@pytest_asyncio.fixture
async def tl(clock: FakeClock, sleeps: RecordingSleep, secrets: Secrets) -> AsyncIterator[Session]:
    async with Session(
        CLIENT_ID, secrets.client_secret, redirect_uri=REDIRECT, clock=clock, sleep=sleeps
    ) as session:
        yield session


@pytest.fixture
def server(secrets: Secrets, respx_mock: respx.MockRouter) -> TokenServer:
    token_server = TokenServer(secrets)
    respx_mock.post(TOKEN_URL).mock(side_effect=token_server)
    return token_server
