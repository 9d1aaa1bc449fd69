"""The emulator over real loopback HTTP: in a thread, and as ``python -m``."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from tests.support.auth_links import auth_link
from tests.support.processes import child_env, free_port
from tests.support.served import bearer
from truelayer_async.testing import DEFAULT_REDIRECT_URI, FakeTrueLayer, complete_consent

from .helpers import connect, token_request


@pytest.mark.asyncio
async def test_serve_in_thread_full_flow() -> None:
    fake = FakeTrueLayer()
    with fake.serve_in_thread(port=0) as base_url:
        assert base_url.startswith("http://127.0.0.1:") and fake.base_url == base_url
        assert fake.environment.auth_url == fake.environment.api_url == base_url
        async with httpx.AsyncClient() as http:
            tokens = await connect(http, base_url, response_mode="form_post")
            accounts = await http.get(
                f"{base_url}/data/v1/accounts", headers=bearer(tokens["access_token"])
            )
            assert accounts.status_code == 200
            assert accounts.headers["content-type"] == "application/json; charset=utf-8"
            async_call = await http.get(
                f"{base_url}/data/v1/accounts?async=true", headers=bearer(tokens["access_token"])
            )
            assert async_call.json()["results_uri"].startswith(f"{base_url}/data/v1/results/")
        assert fake.stats["authorization_code"] == 1
    assert fake.base_url is None


@pytest.mark.asyncio
async def test_drop_response_over_a_real_server() -> None:
    fake = FakeTrueLayer()
    with fake.serve_in_thread() as base_url:
        tokens = fake.create_connection()
        fake.drop_response_after_commit("/connect/token")
        async with httpx.AsyncClient() as http:
            await http.get(f"{base_url}/api/providers")  # a pooled keep-alive connection
            with pytest.raises(httpx.RemoteProtocolError):
                await token_request(
                    http,
                    base_url,
                    grant_type="refresh_token",
                    refresh_token=tokens["refresh_token"],
                )
            # The rotation happened; the emulator keeps serving on new connections.
            reuse = await token_request(
                http, base_url, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
            )
            assert reuse.json()["error"] == "invalid_grant"
        assert fake.requests[-2].fault == "drop" and fake.requests[-2].status == 200


@pytest.mark.asyncio
async def test_http_client_and_session_follow_the_server(fake: FakeTrueLayer) -> None:
    with fake.serve_in_thread() as base_url:
        http = fake.http_client()
        response = await http.get("/api/providers")
        assert response.status_code == 200 and str(response.url).startswith(base_url)
        await fake.aclose()
        assert http.is_closed


def test_serve_in_thread_refuses_remote_hosts() -> None:
    with (
        pytest.raises(ValueError, match="non-loopback"),
        FakeTrueLayer().serve_in_thread(host="0.0.0.0"),
    ):
        pass


def test_python_dash_m_serves() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "truelayer_async.testing",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/providers", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert response.status_code == 200
        assert any(p["provider_id"] == "mock" for p in response.json())
        link = httpx.get(auth_link(f"http://127.0.0.1:{port}"), timeout=5)
        assert link.status_code == 302
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=10)
    assert b"TrueLayer emulator on http://127.0.0.1:" in stdout, stderr


def test_python_dash_m_refuses_remote_hosts() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "truelayer_async.testing", "--host", "0.0.0.0"],
        env=child_env(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and b"--allow-remote" in result.stderr


@pytest.mark.asyncio
async def test_complete_consent_against_the_real_server_with_pkce() -> None:
    from .helpers import pkce_pair

    fake = FakeTrueLayer()
    verifier, challenge = pkce_pair()
    with fake.serve_in_thread() as base_url:
        async with httpx.AsyncClient(follow_redirects=True) as http:
            result = await complete_consent(
                http, auth_link(base_url, code_challenge=challenge, code_challenge_method="S256")
            )
            assert result.redirect_url.startswith(DEFAULT_REDIRECT_URI)
            response = await token_request(
                http,
                base_url,
                grant_type="authorization_code",
                code=result.params["code"],
                redirect_uri=DEFAULT_REDIRECT_URI,
                code_verifier=verifier,
            )
            assert response.status_code == 200
