"""The testing helpers that go the last step: ``fake.connect``, the fake clock driving the
SDK's sleeps, and the public persona lists."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from truelayer_async import DATA_SCOPES, ApiError, NoTokenError, Session
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    ERROR_PERSONAS,
    PERSONAS,
    ConsentFlowError,
    FakeTrueLayer,
    complete_consent,
)

# -- fake.connect ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_connect_runs_the_real_journey_in_process(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        token = await fake.connect(tl, user="alice", username="john")
        accounts = await tl.data.accounts(user="alice")
    assert len(accounts) == 2
    assert set(token.scopes) == set(DATA_SCOPES)
    # The real journey: dialog pages, then the PKCE code exchange.
    assert fake.count("/dialog/*", method="POST") >= 2
    assert fake.stats["authorization_code"] == 1
    exchange = [r for r in fake.requests if r.grant_type == "authorization_code"]
    assert exchange[0].status == 200
    assert fake.connection(token.access_token.get_secret_value()).persona.username == "john"


@pytest.mark.asyncio
async def test_connect_with_scopes_and_another_persona(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        token = await fake.connect(
            tl, user="bob", username="john7", password="iban7", scopes=["accounts", "balance"]
        )
        accounts = await tl.data.accounts(user="bob")
    assert token.scopes == ("accounts", "balance") and token.refresh_token is None
    assert len({a.account_number.iban for a in accounts}) == 2  # iban: one IBAN each


@pytest.mark.asyncio
async def test_connect_keeps_users_apart(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        await fake.connect(tl, user="alice", username="john")
        await fake.connect(tl, user="carol", username="john2")  # john2 has no cards
        assert await tl.data.cards(user="alice")
        results = await tl.data.fetch_all(["alice", "carol"])
    assert [len(r.cards) for r in results] == [1, 0]


def test_connect_against_a_served_fake(fake: FakeTrueLayer) -> None:
    async def journey(url: str) -> None:
        # fake.session() while served, and a Session built by hand for the served URL.
        async with fake.session() as tl:
            await fake.connect(tl, user="alice", username="john")
            assert len(await tl.data.accounts(user="alice")) == 2
        hand_made = Session(
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            redirect_uri=DEFAULT_REDIRECT_URI,
            environment=fake.environment,
        )
        async with hand_made as tl:
            await fake.connect(tl, user="dave", username="john1", password="doe1")
            assert len(await tl.data.accounts(user="dave")) == 2
        await fake.aclose()
        assert tl.environment.auth_url == url

    with fake.serve_in_thread() as url:
        anyio.run(journey, url)
    assert fake.stats["authorization_code"] == 2


@pytest.mark.asyncio
async def test_connect_refuses_a_session_of_another_server(fake: FakeTrueLayer) -> None:
    async with Session(
        DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, redirect_uri="https://a/cb"
    ) as tl:
        with pytest.raises(ValueError, match="not to this FakeTrueLayer"):
            await fake.connect(tl, user="alice")
    assert fake.requests == []


@pytest.mark.asyncio
async def test_connect_reports_a_refused_login(fake: FakeTrueLayer) -> None:
    async with fake.session() as tl:
        with pytest.raises(ConsentFlowError, match="Wrong username or password"):
            await fake.connect(tl, user="alice", username="jane")
        with pytest.raises(NoTokenError):
            await tl.auth.valid_token(user="alice")


# -- the fake clock drives the SDK's sleeps --------------------------------------------------


@pytest.mark.asyncio
async def test_a_429_retry_after_moves_the_fake_clock_instead_of_sleeping(
    fake: FakeTrueLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_sleep = anyio.sleep
    real_waits: list[float] = []

    async def watching_sleep(seconds: float) -> None:
        if seconds > 0:
            real_waits.append(seconds)
        await real_sleep(seconds)

    monkeypatch.setattr(anyio, "sleep", watching_sleep)
    async with fake.session() as tl:
        await fake.connect(tl, user="alice")
        fake.fail_next("/data/v1/accounts", 429, headers={"Retry-After": "2"})
        before = fake.clock()
        accounts = await tl.data.accounts(user="alice")
    assert len(accounts) == 2
    assert fake.count("/data/v1/accounts", status=429) == 1
    assert fake.count("/data/v1/accounts", status=200) == 1
    assert fake.clock() - before >= 2
    assert real_waits == []  # the wait was served by the fake clock, not anyio.sleep(2)


@pytest.mark.asyncio
async def test_fake_clock_sleep_moves_time_and_yields(fake: FakeTrueLayer) -> None:
    start = fake.clock()
    order: list[str] = []

    async def other() -> None:
        order.append("other")

    async with anyio.create_task_group() as tg:
        tg.start_soon(other)
        await fake.clock.sleep(1.5)
        order.append("after sleep")
        await fake.clock.sleep(-1)  # negative counts as 0
    assert fake.clock() == start + 1.5
    assert order == ["other", "after sleep"]


@pytest.mark.asyncio
async def test_a_session_may_still_sleep_for_real(fake: FakeTrueLayer) -> None:
    async with fake.session(sleep=anyio.sleep) as tl:
        assert tl.sleep is anyio.sleep


# -- personas ---------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: f"{p.username}/{p.password}")
async def test_every_listed_persona_logs_in(fake: FakeTrueLayer, persona: Any) -> None:
    async with fake.session() as tl:
        await fake.connect(tl, user="u", username=persona.username, password=persona.password)
        me = await tl.data.me(user="u")
    assert me.provider is not None


@pytest.mark.asyncio
@pytest.mark.parametrize("username", sorted(ERROR_PERSONAS))
async def test_error_personas_fail_as_listed(fake: FakeTrueLayer, username: str) -> None:
    listed = ERROR_PERSONAS[username]
    async with fake.session() as tl:
        await fake.connect(tl, user="u", username=username)  # password defaults to "error"
        with pytest.raises(ApiError) as caught:
            await tl.data.info(user="u")
    assert (caught.value.status_code, caught.value.error) == (listed.status, listed.error)
    assert listed.username == username and listed.password == "error"


@pytest.mark.asyncio
async def test_an_unknown_error_persona_lists_the_valid_codes(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    async with fake.session() as tl:
        link = tl.auth.auth_link(scopes=["accounts"], providers="mock")
    with pytest.raises(ConsentFlowError) as caught:
        await complete_consent(client, link.url, username="error.no_such_code", password="error")
    message = caught.value.description or ""
    assert "Wrong username or password" not in message
    assert "error.no_such_code" in message
    for persona in ERROR_PERSONAS.values():
        assert persona.error in message


@pytest.mark.asyncio
async def test_the_login_page_shows_why_an_unknown_error_persona_was_refused(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    async with fake.session() as tl:
        link = tl.auth.auth_link(scopes=["accounts"], providers="mock", provider_id="mock")
    response = await client.get(link.url)
    while response.is_redirect:
        response = await client.get(response.headers["location"])
    action = response.text.split('action="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    page = await client.post(action, data={"username": "error.typo", "password": "error"})
    assert 'id="login-error"' in page.text
    assert "account_temporarily_locked" in page.text and "wrong_credentials" in page.text


def test_create_connection_says_why_it_refuses(fake: FakeTrueLayer) -> None:
    with pytest.raises(ValueError, match="internal_error"):
        fake.create_connection(username="error.nope")
    tokens = fake.create_connection(username="error.internal_error")  # password defaults
    assert tokens["access_token"]
