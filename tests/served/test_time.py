"""Served, the emulator's clock follows real time (plus offsets added over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.auth_links import auth_link
from tests.support.polling import wait_for
from tests.support.served import CLI, Served, bearer, claims, connect, refresh, server_now
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    complete_consent,
)

TTL = 2


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(
        "--access-token-ttl",
        str(TTL),
        "--log-level",
        "warning",
        log=tmp_path_factory.mktemp("short") / "stderr.log",
    )
    yield served
    served.stop()


@pytest.fixture
def short_http(short_lived: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=short_lived.url, trust_env=False, timeout=10) as client:
        client.post("/_emulator/reset").raise_for_status()
        yield client


def test_an_access_token_expires_in_real_time(short_http: httpx.Client) -> None:
    first = connect(short_http)
    token = first["access_token"]
    assert first["expires_in"] == TTL
    exp = claims(token)["exp"]
    assert exp - claims(token)["iat"] == TTL

    def expired() -> httpx.Response | None:
        response = short_http.get("/data/v1/accounts", headers=bearer(token))
        return response if response.status_code == 401 else None

    # Nothing but real time passes: the server alone decides that the token expired.
    rejected = wait_for(expired)
    assert rejected.json()["error"] == "invalid_token"
    assert "expired" in rejected.json()["error_description"]
    assert server_now(short_http) >= exp

    # A token minted after that carries an exp in the server's future, and works.
    second = connect(short_http)["access_token"]
    assert claims(second)["exp"] > exp
    assert claims(second)["exp"] > server_now(short_http) - 1
    accounts = short_http.get("/data/v1/accounts", headers=bearer(second))
    # (On a badly stalled machine the new token may have run out already; then the server
    # must say so for the right reason.)
    assert accounts.status_code == 200 or server_now(short_http) >= claims(second)["exp"]


def test_the_clock_reads_live_and_advances(http: httpx.Client) -> None:
    before = http.get("/_emulator/clock").json()
    assert before["mode"] == "live" and before["offset"] == 0
    assert before["iso"].endswith("Z")
    after = http.post("/_emulator/clock/advance", json={"seconds": 3600}).json()
    assert after["offset"] == 3600
    assert after["now"] >= before["now"] + 3600
    assert http.get("/_emulator/clock").json()["offset"] == 3600


def test_advancing_the_clock_expires_tokens(http: httpx.Client) -> None:
    token = connect(http)["access_token"]
    assert http.get("/data/v1/me", headers=bearer(token)).status_code == 200
    http.post("/_emulator/clock/advance", json={"seconds": 3600}).raise_for_status()
    response = http.get("/data/v1/me", headers=bearer(token))
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


@pytest.mark.parametrize("seconds", [-1, "ten", None, True])
def test_advance_rejects_bad_seconds(http: httpx.Client, seconds: object) -> None:
    response = http.post("/_emulator/clock/advance", json={"seconds": seconds})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert http.get("/_emulator/clock").json()["offset"] == 0


@pytest.mark.asyncio
async def test_a_code_expires_five_minutes_after_issue(emulator: Served) -> None:
    async with httpx.AsyncClient(base_url=emulator.url, trust_env=False, timeout=10) as http:
        (await http.post("/_emulator/reset")).raise_for_status()
        result = await complete_consent(http, auth_link(emulator.url))
        assert result.code is not None
        (await http.post("/_emulator/clock/advance", json={"seconds": 310})).raise_for_status()
        response = await http.post(
            "/connect/token",
            data={
                "grant_type": "authorization_code",
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "code": result.code,
                "redirect_uri": DEFAULT_REDIRECT_URI,
            },
        )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "expired" in response.json()["error_description"]


def test_a_frozen_clock_stands_still(tmp_path_factory: pytest.TempPathFactory) -> None:
    served = Served("--clock", "frozen", log=tmp_path_factory.mktemp("frozen") / "stderr.log")
    try:
        with httpx.Client(base_url=served.url, trust_env=False, timeout=10) as http:
            first = http.get("/_emulator/clock").json()
            assert first["mode"] == "frozen" and first["offset"] is None
            token = connect(http)["access_token"]
            assert http.get("/_emulator/clock").json()["now"] == first["now"]
            moved = http.post("/_emulator/clock/advance", json={"seconds": 3599}).json()
            assert moved["now"] == first["now"] + 3599
            assert http.get("/data/v1/me", headers=bearer(token)).status_code == 200
            http.post("/_emulator/clock/advance", json={"seconds": 1}).raise_for_status()
            assert http.get("/data/v1/me", headers=bearer(token)).status_code == 401
    finally:
        served.stop()


def test_fake_server_command_takes_the_same_options(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    served = Served(
        "--clock",
        "frozen",
        "--refresh-token-reuse",
        "grace",
        log=tmp_path_factory.mktemp("cli") / "stderr.log",
        command=CLI,
    )
    try:
        with httpx.Client(base_url=served.url, trust_env=False, timeout=10) as http:
            assert http.get("/_emulator/clock").json()["mode"] == "frozen"
            tokens = connect(http)
            rotated = refresh(http, tokens["refresh_token"]).json()
            # grace: the previous refresh token still works until the new access token is used.
            assert refresh(http, tokens["refresh_token"]).status_code == 200
            assert rotated["refresh_token"] != tokens["refresh_token"]
    finally:
        served.stop()


def test_refresh_token_reuse_revokes_by_default(http: httpx.Client) -> None:
    tokens = connect(http)
    rotated = refresh(http, tokens["refresh_token"]).json()
    assert refresh(http, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    # The whole connection is gone (RFC 9700), the newest tokens included.
    assert refresh(http, rotated["refresh_token"]).json()["error"] == "invalid_grant"
    response = http.get("/data/v1/me", headers=bearer(rotated["access_token"]))
    assert response.status_code == 401
