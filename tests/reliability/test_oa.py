"""reliability.md §2.1 OA: authorization code, PKCE and the callback (one test per id)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import re
import ssl
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from tests.support.reliability import (
    PROPERTY,
    REDIRECT,
    Guard,
    Secrets,
    TokenServer,
    connect,
    form_of,
)
from truelayer_async import Environment, Session
from truelayer_async import errors as e
from truelayer_async._pkce import code_challenge, new_code_verifier, validate_code_verifier
from truelayer_async.services.auth import STATE_TTL
from truelayer_async.testing import FakeClock

VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
PACKAGE = Path(e.__file__).resolve().parent


def test_oa01_verifiers_come_from_the_csprng_in_the_rfc_alphabet(tl: Session) -> None:
    verifiers = [new_code_verifier() for _ in range(1000)]
    verifiers += [tl.auth.auth_link(scopes=["info"], pkce=True).code_verifier.get_secret_value()]  # type: ignore[union-attr]
    assert all(VERIFIER.fullmatch(v) for v in verifiers)
    assert len(set(verifiers)) == len(verifiers)
    for length in (43, 128):
        assert len(new_code_verifier(length)) == length


@PROPERTY
@given(st.text(max_size=200))
def test_oa01_bad_caller_verifiers_raise_a_typed_value_error(text: str) -> None:
    if VERIFIER.fullmatch(text):
        assert validate_code_verifier(text) == text
    else:
        with pytest.raises(e.InvalidParameterError) as info:
            validate_code_verifier(text)
        assert isinstance(info.value, ValueError)


def test_oa02_s256_only(tl: Session) -> None:
    vector = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(vector) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    link = tl.auth.auth_link(scopes=["info"], pkce=True)
    query = parse_qs(urlsplit(link.url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert link.code_verifier is not None
    digest = hashlib.sha256(link.code_verifier.get_secret_value().encode()).digest()
    assert query["code_challenge"] == [base64.urlsafe_b64encode(digest).rstrip(b"=").decode()]
    for path in PACKAGE.rglob("*.py"):
        if "testing" not in path.parts:  # the emulator implements `plain` as a server must
            assert '"plain"' not in path.read_text(), path


def test_oa03_state_is_long_single_use_and_expires(tl: Session, clock: FakeClock) -> None:
    link = tl.auth.auth_link(scopes=["info"])
    assert len(base64.urlsafe_b64decode(link.state + "=" * (-len(link.state) % 4))) >= 16
    tl.auth.parse_callback(f"code=c&state={link.state}", expected_state=link.state)
    with pytest.raises(e.StateMismatchError, match="already used"):
        tl.auth.parse_callback(f"code=c&state={link.state}", expected_state=link.state)
    old = tl.auth.auth_link(scopes=["info"])
    clock.advance(STATE_TTL + 1)
    with pytest.raises(e.StateExpiredError):
        tl.auth.parse_callback(f"code=c&state={old.state}", expected_state=old.state)
    with pytest.raises(e.StateMismatchError):  # and it stays consumed
        tl.auth.parse_callback(f"code=c&state={old.state}", expected_state=old.state)
    fresh = tl.auth.auth_link(scopes=["info"])
    clock.advance(STATE_TTL - 1)
    assert tl.auth.parse_callback(f"code=c&state={fresh.state}", expected_state=fresh.state)


def test_oa04_state_compared_in_constant_time_on_bytes(
    tl: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    tl.auth.parse_callback("code=c&state=abc", expected_state="abc")
    assert seen == [(b"abc", b"abc")]
    for query in ("code=c", "code=c&state=", "code=c&state=%C3%A9", "code=c&state=a&state=b"):
        with pytest.raises(e.StateMismatchError):
            tl.auth.parse_callback(query, expected_state="abc")
    with pytest.raises(e.StateMismatchError):
        tl.auth.parse_callback("code=c&state=" + "a" * 2000, expected_state="abc")


@PROPERTY
@given(state=st.text(max_size=300), expected=st.text(min_size=1, max_size=50))
def test_oa04_any_state_gives_the_code_or_a_typed_error(state: str, expected: str) -> None:
    tl = Session("c", "s", redirect_uri=REDIRECT)
    try:
        code = tl.auth.parse_callback({"code": "c", "state": state}, expected_state=expected)
    except e.AuthorizationCallbackError:
        return
    assert code == "c" and state == expected


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("error=access_denied&error_description=User+cancelled", "access_denied"),
        ("error=server_error", "server_error"),
        ("error=temporarily_unavailable&state=s", "temporarily_unavailable"),
    ],
)
def test_oa05_error_callbacks_map_to_authorization_denied(
    tl: Session, query: str, error: str
) -> None:
    with pytest.raises(e.AuthorizationDenied) as info:
        tl.auth.parse_callback(query, expected_state="s")
    assert info.value.error == error
    if "description" in query:
        assert info.value.description == "User cancelled"


def test_oa05_strict_parse_and_bounded_size(tl: Session) -> None:
    for query in ("state=s", "code=a&code=b&state=s", "code=&state=s"):
        with pytest.raises(e.AuthorizationCallbackError):
            tl.auth.parse_callback(query, expected_state="s")
    with pytest.raises(e.InvalidParameterError):
        tl.auth.parse_callback("code=c&state=s&pad=" + "x" * 10_000, expected_state="s")
    with pytest.raises(e.AuthorizationCallbackError):
        tl.auth.parse_callback({"code": 1, "state": "s"}, expected_state="s")  # type: ignore[dict-item]
    with pytest.raises(e.StateMismatchError):  # a denial with someone else's state
        tl.auth.parse_callback("error=access_denied&state=other", expected_state="s")


@PROPERTY
@given(st.from_regex(r"\A[a-z_%0-9=&;+ .\-é]{0,120}\Z"))
def test_oa05_arbitrary_query_strings_parse_or_raise_typed(query: str) -> None:
    tl = Session("c", "s", redirect_uri=REDIRECT)
    with contextlib.suppress(e.AuthorizationCallbackError, e.InvalidParameterError):
        tl.auth.parse_callback(query, expected_state="s")


@pytest.mark.asyncio
async def test_oa06_a_bad_callback_never_reaches_the_token_endpoint(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard
) -> None:
    for query in (
        f"code={secrets.code}&state=forged",
        f"code={secrets.code}&state={secrets.state}&iss=https://evil.example",
    ):
        with guard.raises(e.AuthorizationCallbackError):
            tl.auth.parse_callback(f"{REDIRECT}?{query}", expected_state=secrets.state)
    assert server.calls == []


@pytest.mark.asyncio
@PROPERTY
@given(
    path=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="#?"), max_size=20),
    port=st.integers(1, 65535),
    query=st.text(max_size=20),
)
async def test_oa07_the_exact_redirect_uri_is_sent(path: str, port: int, query: str) -> None:
    redirect = f"https://app.example:{port}/{path}?q={query}"
    with respx.mock:
        route = respx.post("https://auth.truelayer-sandbox.com/connect/token").mock(
            return_value=httpx.Response(
                200, json={"access_token": "a", "token_type": "Bearer", "expires_in": 60}
            )
        )
        async with Session("c", "s", redirect_uri="https://default.example/cb") as tl:
            link = tl.auth.auth_link(scopes=["info"], redirect_uri=redirect)
            await tl.auth.exchange_code("code", redirect_uri=link.redirect_uri)
        sent = form_of(route.calls[0].request)["redirect_uri"]
    assert sent == redirect == parse_qs(urlsplit(link.url).query)["redirect_uri"][0]


@PROPERTY
@given(
    scopes=st.lists(
        st.text(min_size=1).filter(lambda s: not any(c.isspace() for c in s)), min_size=1
    ),
    state=st.text(min_size=1),
    providers=st.lists(st.sampled_from(["uk-ob-all", "uk-oauth-all", "de-xs2a-all", "mock"])),
    user_email=st.one_of(st.none(), st.text()),
    tracking_id=st.one_of(st.none(), st.text()),
)
def test_oa08_auth_links_round_trip_through_parse_qs(
    scopes: list[str],
    state: str,
    providers: list[str],
    user_email: str | None,
    tracking_id: str | None,
) -> None:
    tl = Session("client&id=x", "s", redirect_uri="https://app.example/cb?a=1&b=2#frag")
    link = tl.auth.auth_link(
        scopes=scopes,
        state=state,
        providers=providers or None,
        user_email=user_email,
        tracking_id=tracking_id,
        pkce=True,
    )
    parts = urlsplit(link.url)
    query = parse_qs(parts.query, keep_blank_values=True)
    expected = {
        "response_type": "code",
        "client_id": "client&id=x",
        "redirect_uri": "https://app.example/cb?a=1&b=2#frag",
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge_method": "S256",
    }
    if providers:
        expected["providers"] = " ".join(providers)
    if user_email is not None:
        expected["user_email"] = user_email
    if tracking_id is not None:
        expected["tracking_id"] = tracking_id
    assert set(query) == {*expected, "code_challenge"}  # nothing injected
    for name, value in expected.items():
        assert query[name] == [value], name
    assert parts.fragment == ""


def test_oa09_issuer_mismatch(tl: Session) -> None:
    live = Session("c", "s", redirect_uri=REDIRECT, environment=Environment.PRODUCTION)
    sandbox_iss = "https%3A%2F%2Fauth.truelayer-sandbox.com"
    with pytest.raises(e.IssuerMismatchError):
        live.auth.parse_callback(f"code=c&state=s&iss={sandbox_iss}", expected_state="s")
    with pytest.raises(e.IssuerMismatchError):  # error responses are checked too
        live.auth.parse_callback(f"error=access_denied&iss={sandbox_iss}", expected_state="s")
    assert tl.auth.parse_callback(f"code=c&state=s&iss={sandbox_iss}", expected_state="s") == "c"
    assert tl.auth.parse_callback("code=c&state=t", expected_state="t") == "c"  # iss optional


@pytest.mark.asyncio
async def test_oa10_code_exchange_is_single_shot(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard
) -> None:
    server.script = [httpx.ReadTimeout("lost")]
    with guard.raises(e.CodeExchangeOutcomeUnknown):
        await tl.auth.exchange_code(secrets.code, user="u")
    assert server.count("authorization_code") == 1
    server.script = [httpx.ConnectError("refused")]
    await tl.auth.exchange_code(secrets.code, user="u")
    assert server.count("authorization_code") == 3
    server.script = [httpx.Response(503, json={"error": "temporarily_unavailable"})]
    with guard.raises(e.TokenEndpointUnavailable):
        await tl.auth.exchange_code(secrets.code, user="u")
    assert server.count("authorization_code") == 4


@pytest.mark.asyncio
@pytest.mark.parametrize("token_type", ["Bearer", "bearer", "BEARER"])
async def test_oa11_token_responses_are_validated(
    tl: Session, respx_mock: respx.MockRouter, token_type: str
) -> None:
    """The full table of bad token responses is §4 #1-#8 (test_bad_inputs.py)."""
    respx_mock.post("https://auth.truelayer-sandbox.com/connect/token").mock(
        return_value=httpx.Response(
            200,
            json={
                "access_token": "at",
                "token_type": token_type,
                "expires_in": 60,
                "unknown": {"member": True},
            },
        )
    )
    token = await tl.auth.exchange_code("c", user="u")
    assert token.refresh_token is None and token.expires_in == 60


@pytest.mark.asyncio
async def test_oa12_client_credentials_cached_by_sorted_scopes(
    tl: Session, server: TokenServer, clock: FakeClock
) -> None:
    first = await tl.auth.client_credentials(["payments", "info"])
    again = await tl.auth.client_credentials(["info", "payments", "info"])
    assert first == again and first.refresh_token is None
    assert server.count("client_credentials") == 1
    clock.advance(3600 - 61)
    await tl.auth.client_credentials(["info", "payments"])
    assert server.count("client_credentials") == 1
    clock.advance(2)  # inside the 60 s leeway: renewed early
    await tl.auth.client_credentials(["info", "payments"])
    assert server.count("client_credentials") == 2


@pytest.mark.asyncio
async def test_oa13_tokens_only_travel_in_the_authorization_header(
    tl: Session, server: TokenServer, secrets: Secrets, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    respx_mock.get(url__startswith="https://api.truelayer-sandbox.com/").mock(
        return_value=httpx.Response(200, json={"results": [], "status": "Succeeded"})
    )
    await tl.data.accounts(user="u")
    await tl.data.transactions("acc", user="u", from_=None)
    for call in respx_mock.calls:
        assert secrets.sentinel not in str(call.request.url)
        if call.request.url.host.startswith("api."):
            assert call.request.headers["authorization"] == f"Bearer {server.latest_access}"


@pytest.mark.asyncio
async def test_oa14_redirects_are_never_followed(
    tl: Session, server: TokenServer, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    other = respx_mock.route(host="other.example").mock(return_value=httpx.Response(200))
    server.script = [httpx.Response(307, headers={"location": "https://other.example/token"})]
    with guard.raises(e.UnexpectedRedirectError):
        await tl.auth.exchange_code(secrets.code, user="u")
    assert other.call_count == 0
    assert tl._core.requester().client.follow_redirects is False


def test_oa15_https_only_and_tls_verification_on() -> None:
    with pytest.raises(e.ConfigurationError):
        Environment.custom("http://auth.example.com")
    assert Environment.custom("http://127.0.0.1:8080").auth_url == "http://127.0.0.1:8080"
    from truelayer_async._http import create_client
    from truelayer_async.config import Timeouts

    client = create_client(Timeouts())
    pool = client._transport._pool  # type: ignore[attr-defined]
    assert pool._ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert pool._ssl_context.check_hostname is True
