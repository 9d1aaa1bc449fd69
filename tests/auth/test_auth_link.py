"""Auth links, PKCE and the callback: pure functions, no network."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.processes import REPO
from truelayer_async import (
    DATA_SCOPES,
    PAYMENTS_SCOPES,
    AuthorizationCallbackError,
    AuthorizationDenied,
    InvalidParameterError,
    Secret,
    Session,
    StateMismatchError,
)
from truelayer_async._pkce import code_challenge, new_code_verifier

REDIRECT = "http://127.0.0.1:8080/callback"


@pytest.fixture
def tl() -> Session:
    return Session("sandbox-client", "client-secret", redirect_uri=REDIRECT)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)


def test_minimal_link(tl: Session) -> None:
    link = tl.auth.auth_link(scopes=DATA_SCOPES)
    assert link.url.startswith("https://auth.truelayer-sandbox.com/?")
    assert str(link) == link.url
    q = query(link.url)
    assert q == {
        "response_type": ["code"],
        "client_id": ["sandbox-client"],
        "redirect_uri": [REDIRECT],
        "scope": [" ".join(DATA_SCOPES)],
        "state": [link.state],
    }
    assert link.code_verifier is None and link.nonce is None
    assert link.redirect_uri == REDIRECT


def test_every_parameter_round_trips(tl: Session) -> None:
    tricky = "a&b=c#d+e f ünï 🏦"
    link = tl.auth.auth_link(
        scopes=["info", "accounts"],
        state=tricky,
        nonce=tricky,
        redirect_uri="https://app.example/cb?x=1&y=2",
        providers=["uk-ob-all", "uk-cs-mock"],
        provider_id="ob-monzo",
        disable_providers=["ob-lloyds", "ob-hsbc"],
        response_mode="form_post",
        user_email="jane+tl@example.com",
        language_id="fr",
        country_id="GB",
        tracking_id=tricky,
        enable_mock=True,
        pkce=True,
    )
    q = query(link.url)
    assert q["state"] == [tricky] and q["nonce"] == [tricky] and q["tracking_id"] == [tricky]
    assert q["redirect_uri"] == ["https://app.example/cb?x=1&y=2"]
    assert q["scope"] == ["info accounts"]
    assert q["providers"] == ["uk-ob-all uk-cs-mock"]
    assert q["provider_id"] == ["ob-monzo"]
    assert q["disable_providers"] == ["ob-lloyds ob-hsbc"]
    assert q["response_mode"] == ["form_post"]
    assert q["user_email"] == ["jane+tl@example.com"]
    assert q["language_id"] == ["fr"] and q["country_id"] == ["GB"]
    assert q["enable_mock"] == ["true"]
    assert q["code_challenge_method"] == ["S256"]
    assert link.code_verifier is not None
    assert q["code_challenge"] == [code_challenge(link.code_verifier.get_secret_value())]
    assert all(len(v) == 1 for v in q.values())  # nothing injected, nothing duplicated


def test_state_is_random_and_long(tl: Session) -> None:
    states = {tl.auth.auth_link(scopes=["info"]).state for _ in range(50)}
    assert len(states) == 50
    for state in states:
        raw = base64.urlsafe_b64decode(state + "=" * (-len(state) % 4))
        assert len(raw) * 8 >= 128


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ""}, "scopes"),
        ({"scopes": ["info"], "provider_id": "ob-monzo"}, "provider_id"),
        ({"scopes": ["info"], "provider_id": "ob-monzo", "providers": ["ob-barclays"]}, "covered"),
        ({"scopes": ["info"], "language_id": "xx"}, "language_id"),
        ({"scopes": ["info"], "language_id": "EN"}, "language_id"),
        ({"scopes": ["info"], "country_id": "GBR"}, "country_id"),
        ({"scopes": ["info"], "country_id": "1A"}, "country_id"),
        ({"scopes": ["info"], "response_mode": "query"}, "response_mode"),
        ({"scopes": ["info"], "response_mode": "fragment"}, "response_mode"),
    ],
)
def test_validation_errors_are_value_errors(
    tl: Session, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(InvalidParameterError, match=match) as info:
        tl.auth.auth_link(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)


def test_provider_covered_by_all_selector(tl: Session) -> None:
    link = tl.auth.auth_link(scopes=["info"], providers="uk-ob-all", provider_id="ob-monzo")
    assert query(link.url)["provider_id"] == ["ob-monzo"]


def test_no_redirect_uri_anywhere_is_an_error() -> None:
    tl = Session("id", "secret")
    with pytest.raises(InvalidParameterError, match="redirect_uri"):
        tl.auth.auth_link(scopes=["info"])
    assert tl.auth.auth_link(scopes=["info"], redirect_uri=REDIRECT).redirect_uri == REDIRECT


def test_link_repr_hides_state_and_verifier(tl: Session) -> None:
    link = tl.auth.auth_link(scopes=["info"], pkce=True)
    assert link.code_verifier is not None
    assert link.state not in repr(link)
    assert link.code_verifier.get_secret_value() not in repr(link)


def test_pkce_rfc7636_appendix_b_vector() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_verifiers() -> None:
    verifiers = {new_code_verifier() for _ in range(200)}
    assert len(verifiers) == 200
    for v in verifiers:
        assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", v)
        challenge = code_challenge(v)
        expected = (
            base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode()
        )
        assert challenge == expected and len(challenge) == 43
    for length in (43, 128):
        assert len(new_code_verifier(length)) == length
    for bad in (42, 129):
        with pytest.raises(InvalidParameterError):
            new_code_verifier(bad)


@pytest.mark.parametrize("bad", ["short", "x" * 129, "a" * 42 + "!", "é" * 50])
def test_bad_verifier_is_rejected(bad: str) -> None:
    with pytest.raises(InvalidParameterError):
        code_challenge(bad)


def test_no_plain_pkce_anywhere_in_the_package() -> None:
    package = REPO / "truelayer_async"
    for path in package.rglob("*.py"):
        if "testing" in path.parts:
            continue  # the emulator must reject "plain", so it names it
        assert '"plain"' not in path.read_text(), path


def test_scope_constants(tl: Session) -> None:
    assert DATA_SCOPES == (
        "accounts",
        "balance",
        "transactions",
        "cards",
        "info",
        "standing_orders",
        "direct_debits",
        "offline_access",
    )
    assert PAYMENTS_SCOPES == ("payments",)
    assert tl.auth.data_scopes() == DATA_SCOPES
    assert tl.auth.payments_scopes() == PAYMENTS_SCOPES


# -- parse_callback --------------------------------------------------------------------


def test_callback_returns_the_code(tl: Session) -> None:
    url = f"{REDIRECT}?code=the-code&state=s1&scope=info"
    assert tl.auth.parse_callback(url, expected_state="s1") == "the-code"
    assert tl.auth.parse_callback("code=c2&state=s2", expected_state="s2") == "c2"
    assert tl.auth.parse_callback({"code": "c3", "state": "s3"}, expected_state="s3") == "c3"
    assert tl.auth.parse_callback({"code": ["c4"], "state": ["s4"]}, expected_state="s4") == "c4"


@pytest.mark.parametrize(
    "params",
    [
        "code=c",
        "code=c&state=",
        "code=c&state=wrong",
        "code=c&state=expected&state=expected",
        "code=c&state=%C3%A9xpected",
        "code=c&state=" + "x" * 5000,
    ],
)
def test_bad_state_raises_state_mismatch(tl: Session, params: str) -> None:
    with pytest.raises(StateMismatchError):
        tl.auth.parse_callback(params, expected_state="expected")


def test_state_is_compared_in_constant_time_on_bytes(
    tl: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    tl.auth.parse_callback("code=c&state=abc", expected_state="abc")
    assert calls == [(b"abc", b"abc")]


def test_state_can_be_used_once(tl: Session) -> None:
    tl.auth.parse_callback("code=c&state=once", expected_state="once")
    with pytest.raises(StateMismatchError, match="already used"):
        tl.auth.parse_callback("code=c&state=once", expected_state="once")


def test_denial_carries_error_and_description(tl: Session) -> None:
    with pytest.raises(AuthorizationDenied) as info:
        tl.auth.parse_callback(
            "error=access_denied&error_description=User+cancelled&state=s", expected_state="s"
        )
    assert info.value.error == "access_denied"
    assert info.value.description == "User cancelled"
    with pytest.raises(AuthorizationDenied) as other:
        tl.auth.parse_callback("error=server_error", expected_state="s")
    assert other.value.error == "server_error"


@pytest.mark.parametrize("params", ["state=s", "code=&state=s", "code=a&code=b&state=s"])
def test_missing_or_duplicated_code(tl: Session, params: str) -> None:
    with pytest.raises(AuthorizationCallbackError):
        tl.auth.parse_callback(params, expected_state="s")


def test_secret_wrapper() -> None:
    value = "v" * 40 + "WXYZ"
    secret = Secret(value)
    assert value not in repr(secret) and value not in str(secret) and value not in f"{secret}"
    assert repr(secret).endswith("WXYZ')")
    assert "short" not in repr(Secret("short"))
    assert secret == Secret(value) and secret != Secret("other")
    assert secret.get_secret_value() == value
    assert Secret.of(secret) is secret
