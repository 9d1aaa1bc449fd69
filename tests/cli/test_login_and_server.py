"""`login` end to end as a real process, `fake-server`, and `demo` staying in-process."""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx
import pytest

from tests.support.cli import Running, assert_clean_error, run_cli, url_args
from tests.support.processes import free_port
from truelayer_async.cli import _errors as codes
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FakeTrueLayer,
    complete_consent,
)

pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture
def redirect_uri(fake: FakeTrueLayer) -> str:
    uri = f"http://127.0.0.1:{free_port()}/callback"
    fake.register_client(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, [uri])
    return uri


@pytest.fixture
def login(fake: FakeTrueLayer, redirect_uri: str) -> Iterator[Running]:
    running = Running(
        ["login", *url_args(fake), "--no-browser", "--redirect-uri", redirect_uri,
         "--user", "alice", "--timeout", "30"]
    )  # fmt: skip
    yield running
    if running.proc.poll() is None:
        running.proc.kill()
        running.finish()


def consent(link: str, *, approve: bool = True, tamper_state: bool = False) -> httpx.Response:
    """Click through the consent pages, then let the 'browser' follow the redirect."""

    async def run() -> httpx.Response:
        async with httpx.AsyncClient(timeout=20) as client:
            result = await complete_consent(client, link, approve=approve)
            target = result.redirect_url
            if tamper_state:
                parts = urlsplit(target)
                query = parts.query.replace("state=", "state=x")
                target = urlunsplit(parts._replace(query=query))
            return await client.get(target)

    return anyio.run(run)


def test_login_saves_a_token_the_other_commands_use(
    login: Running, fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = login.wait_for_line(fake.base_url or "")
    login.wait_for_line("Waiting for the redirect")
    landing = consent(link)
    assert landing.status_code == 200
    assert "Connected" in landing.text
    code, out, err = login.finish()
    assert code == 0, err
    assert "Logged in: token saved for user 'alice'" in out
    assert DEFAULT_CLIENT_SECRET not in out + err
    assert store.exists()
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    assert fake.stats["authorization_code"] == 1
    result = run_cli(capsys, "accounts", *url_args(fake), "--user", "alice")
    assert result.code == 0, result.err
    assert "Everyday Current" in result.out


def test_login_denied_at_the_bank(login: Running, fake: FakeTrueLayer) -> None:
    link = login.wait_for_line(fake.base_url or "")
    landing = consent(link, approve=False)
    assert landing.status_code == 400
    code, _, err = login.finish()
    assert (code, "Traceback" in err) == (codes.AUTH, False)
    assert "denied" in err and "run login again" in err
    assert fake.stats["authorization_code"] == 0


def test_login_refuses_a_foreign_state(login: Running, fake: FakeTrueLayer) -> None:
    link = login.wait_for_line(fake.base_url or "")
    consent(link, tamper_state=True)
    code, _, err = login.finish()
    assert code == codes.AUTH
    assert "state" in err and "Traceback" not in err
    assert fake.stats["authorization_code"] == 0, "no code exchange for a foreign state"


def test_login_ignores_stray_requests(
    login: Running, fake: FakeTrueLayer, redirect_uri: str
) -> None:
    link = login.wait_for_line(fake.base_url or "")
    login.wait_for_line("Waiting for the redirect")
    base = redirect_uri.rsplit("/", 1)[0]
    assert httpx.get(f"{base}/favicon.ico").status_code == 404
    assert httpx.get(redirect_uri).status_code == 400  # no code: not a redirect
    assert consent(link).status_code == 200
    code, _, err = login.finish()
    assert code == 0, err


def test_login_interrupted(login: Running, fake: FakeTrueLayer) -> None:
    login.wait_for_line("Waiting for the redirect")
    login.proc.send_signal(signal.SIGINT)
    code, _, err = login.finish()
    assert code == codes.INTERRUPTED
    assert err.strip() == "truelayer-async: interrupted"


def test_login_times_out(
    fake: FakeTrueLayer, redirect_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys, "login", *url_args(fake), "--no-browser", "--redirect-uri", redirect_uri,
        "--timeout", "0.3",
    )  # fmt: skip
    assert_clean_error(result, codes.AUTH, "no redirect arrived", "run login again")
    assert "http://" in result.out  # the link was printed


def test_login_port_in_use(
    fake: FakeTrueLayer, redirect_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    port = int(urlsplit(redirect_uri).port or 0)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        result = run_cli(
            capsys, "login", *url_args(fake), "--no-browser", "--redirect-uri", redirect_uri
        )
    assert_clean_error(result, codes.USAGE, f"cannot listen on 127.0.0.1:{port}")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_fake_server_serves_until_stopped(stop: signal.Signals) -> None:
    server = Running(["fake-server", "--port", "0"])
    try:
        line = server.wait_for_line("TrueLayer emulator listening on ")
        url = line.rsplit(" ", 1)[1]
        assert url.startswith("http://127.0.0.1:")
        server.wait_for_line(f"  client id         {DEFAULT_CLIENT_ID}")
        server.wait_for_line(f"  client secret     {DEFAULT_CLIENT_SECRET}")
        server.wait_for_line("Press Ctrl-C to stop.")
        response = httpx.get(f"{url}/api/providers", params={"clientId": DEFAULT_CLIENT_ID})
        assert response.status_code == 200
        assert any(p["provider_id"] == "mock" for p in response.json())
    finally:
        server.proc.send_signal(stop)
        code, out, err = server.finish()
    assert code == 0, err
    assert "emulator stopped" in out
    assert "Traceback" not in err


def test_demo_opens_no_socket(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the demo tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket.socket, "bind", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    result = run_cli(capsys, "demo")
    assert result.code == 0, result.err
    assert "Token refreshes: 1" in result.out
