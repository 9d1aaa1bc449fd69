"""Auth link validation, the dialog, and the token endpoint's OAuth rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.auth_links import AUTH, auth_link
from tests.support.emulator import START
from tests.support.served import bearer
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    ConsentFlowError,
    FakeClock,
    FakeTrueLayer,
    complete_consent,
)

from .helpers import API, connect, pkce_pair, token_request

DAY = 86_400


async def code_for(client: httpx.AsyncClient, **params: str | None) -> str:
    result = await complete_consent(client, auth_link(**params))
    assert result.code is not None
    return result.code


async def exchange(client: httpx.AsyncClient, code: str, **fields: str) -> httpx.Response:
    fields.setdefault("redirect_uri", DEFAULT_REDIRECT_URI)
    return await token_request(client, grant_type="authorization_code", code=code, **fields)


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await token_request(client, grant_type="refresh_token", refresh_token=refresh_token)


async def me(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await client.get(f"{API}/data/v1/me", headers=bearer(access_token))


# -- the dialog ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_complete_consent_query_mode(client: httpx.AsyncClient) -> None:
    result = await complete_consent(client, auth_link(state="abc"))
    assert result.form is None
    assert result.redirect_url.startswith(DEFAULT_REDIRECT_URI + "?code=")
    assert result.state == "abc" and result.code and result.error is None


@pytest.mark.asyncio
async def test_complete_consent_form_post_mode(client: httpx.AsyncClient) -> None:
    result = await complete_consent(client, auth_link(response_mode="form_post"))
    assert result.redirect_url == DEFAULT_REDIRECT_URI
    assert result.form is not None and set(result.form) == {"code", "state"}
    assert result.params == result.form and result.state == "state-123"
    assert (await exchange(client, result.form["code"])).status_code == 200


@pytest.mark.asyncio
async def test_form_post_page_auto_submits(client: httpx.AsyncClient) -> None:
    response = await client.get(auth_link(response_mode="form_post", provider_id="mock"))
    page = await client.get(response.headers["location"])
    login = await client.post(
        page.text.split('action="')[1].split('"')[0], data={"username": "john", "password": "doe"}
    )
    consent = await client.get(login.headers["location"])
    action = consent.text.split('id="consent-form" method="post" action="')[1].split('"')[0]
    final = await client.post(action, data={"action": "approve"})
    assert final.status_code == 200
    assert f'<form id="redirect-form" method="post" action="{DEFAULT_REDIRECT_URI}">' in final.text
    assert "document.getElementById('redirect-form').submit()" in final.text


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", [None, "form_post"])
async def test_cancel_returns_access_denied(client: httpx.AsyncClient, mode: str | None) -> None:
    result = await complete_consent(client, auth_link(response_mode=mode), approve=False)
    assert result.params == {"error": "access_denied", "state": "state-123"}
    if mode is None:
        assert result.redirect_url == f"{DEFAULT_REDIRECT_URI}?error=access_denied&state=state-123"


@pytest.mark.asyncio
async def test_state_is_optional(client: httpx.AsyncClient) -> None:
    result = await complete_consent(client, auth_link(state=None))
    assert set(result.params) == {"code"}


@pytest.mark.asyncio
async def test_provider_id_skips_bank_selection(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    await complete_consent(client, auth_link(provider_id="mock"))
    assert fake.count("/dialog/*", method="POST") == 2  # login + consent only


@pytest.mark.asyncio
async def test_any_offered_provider_uses_the_mock_login(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    tokens = await connect(client, providers="uk-ob-all", provider_id="ob-monzo", scope="accounts")
    assert fake.connection(tokens["access_token"]).provider_id == "ob-monzo"


@pytest.mark.asyncio
async def test_mock_is_not_offered_by_default(client: httpx.AsyncClient) -> None:
    with pytest.raises(ConsentFlowError, match="uk-cs-mock"):
        await complete_consent(client, auth_link(providers=None))
    result = await complete_consent(
        client, auth_link(providers=None, scope="accounts"), provider_id="ob-monzo"
    )
    assert result.code


@pytest.mark.asyncio
async def test_legacy_enable_mock_switch(client: httpx.AsyncClient) -> None:
    result = await complete_consent(client, auth_link(providers=None, enable_mock="true"))
    assert result.code


@pytest.mark.asyncio
async def test_wrong_password_is_reported(client: httpx.AsyncClient) -> None:
    with pytest.raises(ConsentFlowError, match="login rejected") as info:
        await complete_consent(client, auth_link(), password="wrong")
    assert info.value.error == "login_rejected"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("john", "iban"),
        ("john42", "doe7"),
        ("john", "eternal"),
        ("error.wrong_credentials", "error"),
    ],
)
async def test_persona_logins(client: httpx.AsyncClient, username: str, password: str) -> None:
    result = await complete_consent(client, auth_link(), username=username, password=password)
    assert result.code


@pytest.mark.asyncio
async def test_dialog_session_is_single_use_and_expires(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    response = await client.get(auth_link())
    dialog = response.headers["location"]
    fake.clock.advance(1801)
    expired = await client.get(dialog)
    assert expired.status_code == 404 and 'id="error-code"' in expired.text
    unknown = await client.get(f"{AUTH}/dialog/auth-nope")
    assert unknown.status_code == 404


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"client_id": None}, 400, "invalid_request"),
        ({"redirect_uri": None}, 400, "invalid_request"),
        ({"client_id": "sandbox-unknown"}, 401, "unauthorized_client"),
        ({"redirect_uri": "https://evil.example/callback"}, 401, "unauthorized_client"),
        ({"redirect_uri": DEFAULT_REDIRECT_URI + "/"}, 401, "unauthorized_client"),
        ({"response_type": "token"}, 400, "unsupported_response_type"),
        ({"response_type": None}, 400, "unsupported_response_type"),
        ({"scope": ""}, 400, "invalid_scope"),
        ({"scope": "accounts payments"}, 400, "invalid_scope"),
        ({"scope": "accounts telepathy"}, 400, "invalid_scope"),
        ({"response_mode": "query"}, 400, "invalid_request"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, 400, "invalid_request"),
        ({"code_challenge_method": "S256"}, 400, "invalid_request"),
        ({"code_challenge": "x" * 43}, 400, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, 400, "invalid_request"),
        ({"language_id": "xx"}, 400, "invalid_request"),
        ({"country_id": "GBR"}, 400, "invalid_request"),
        ({"provider_id": "ob-monzo", "providers": "uk-cs-mock"}, 400, "invalid_request"),
        ({"provider_id": "mock", "providers": None}, 400, "invalid_request"),
        ({"provider_id": "mock", "disable_providers": "mock"}, 400, "invalid_request"),
        ({"provider_id": "nosuchbank"}, 400, "invalid_request"),
        ({"providers": "fr-stet-all", "scope": "cards"}, 400, "invalid_request"),
    ],
)
async def test_bad_auth_links_show_an_error_page(
    client: httpx.AsyncClient, params: dict[str, Any], status: int, error: str
) -> None:
    response = await client.get(auth_link(**params))
    assert response.status_code == status
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert f'<code id="error-code">{error}</code>' in response.text
    with pytest.raises(ConsentFlowError) as info:
        await complete_consent(client, auth_link(**params))
    assert info.value.status_code == status and info.value.error == error


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "params",
    [
        {"language_id": "pl"},
        {"country_id": "GB"},
        {"redirect_uri": "http://localhost:8080/callback"},
        {"nonce": "n-1", "tracking_id": "t-1", "user_email": "a@example.com"},
    ],
)
async def test_good_auth_link_variants(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    result = await complete_consent(client, auth_link(**params))
    assert result.code


@pytest.mark.asyncio
async def test_language_is_reflected(client: httpx.AsyncClient) -> None:
    response = await client.get(auth_link(language_id="de"))
    page = await client.get(response.headers["location"])
    assert '<html lang="de">' in page.text


# -- codes and PKCE --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_pkce_success_and_failures(client: httpx.AsyncClient) -> None:
    verifier, challenge = pkce_pair()
    link = {"code_challenge": challenge, "code_challenge_method": "S256"}

    code = await code_for(client, **link)
    missing = await exchange(client, code)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"
    wrong = await exchange(client, code, code_verifier=pkce_pair()[0])
    assert wrong.json()["error"] == "invalid_grant"
    ok = await exchange(client, code, code_verifier=verifier)  # failures did not use the code
    assert ok.status_code == 200

    plain_code = await code_for(client)
    downgrade = await exchange(client, plain_code, code_verifier=verifier)
    assert downgrade.json()["error"] == "invalid_grant"


def test_pkce_known_answer() -> None:
    from truelayer_async.testing._state import pkce_challenge

    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.mark.asyncio
async def test_code_reuse_revokes_what_the_code_produced(client: httpx.AsyncClient) -> None:
    code = await code_for(client)
    first = (await exchange(client, code)).json()
    second = await exchange(client, code)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert (await me(client, first["access_token"])).status_code == 401
    assert (await refresh(client, first["refresh_token"])).json()["error"] == "invalid_grant"


@pytest.mark.asyncio
async def test_code_expires_after_five_minutes(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    code = await code_for(client)
    fake.clock.advance(299)
    assert (await exchange(client, code)).status_code == 200
    late = await code_for(client)
    fake.clock.advance(301)
    response = await exchange(client, late)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.asyncio
async def test_code_is_bound_to_redirect_uri_and_client(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    code = await code_for(client)
    other = await exchange(client, code, redirect_uri="http://localhost:8080/callback")
    assert other.json()["error"] == "invalid_grant"
    fake.register_client("sandbox-other", "other-secret", [DEFAULT_REDIRECT_URI])
    stolen = await exchange(client, code, client_id="sandbox-other", client_secret="other-secret")
    assert stolen.json()["error"] == "invalid_grant"
    unknown = await exchange(client, "nope")
    assert unknown.json()["error"] == "invalid_grant"


# -- tokens ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_access_token_expiry_via_clock(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    tokens = fake.create_connection()
    fake.clock.advance(3599)
    assert (await me(client, tokens["access_token"])).status_code == 200
    fake.clock.advance(1)
    response = await me(client, tokens["access_token"])
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_token"
    assert body["error_description"] == "The token expired at '2024-05-01 11:00:00Z'"


@pytest.mark.asyncio
async def test_access_token_ttl_is_configurable(client: httpx.AsyncClient) -> None:
    fake = FakeTrueLayer(access_token_ttl=60)
    assert fake.create_connection()["expires_in"] == 60


@pytest.mark.asyncio
async def test_only_the_newest_access_token_works(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    first = fake.create_connection()
    second = (await refresh(client, first["refresh_token"])).json()
    third = (await refresh(client, second["refresh_token"])).json()
    assert (await me(client, first["access_token"])).json()["error"] == "unauthorized"
    assert (await me(client, second["access_token"])).status_code == 401
    assert (await me(client, third["access_token"])).status_code == 200
    assert fake.latest_access_token("john") == third["access_token"]
    assert (
        fake.latest_refresh_token(fake.credentials_id(first["access_token"]))
        == third["refresh_token"]
    )


@pytest.mark.asyncio
async def test_no_refresh_token_without_offline_access(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    tokens = await connect(client, scope="accounts balance")
    assert "refresh_token" not in tokens and tokens["scope"] == "accounts balance"


@pytest.mark.asyncio
async def test_consent_expires_after_90_days(client: httpx.AsyncClient) -> None:
    fake = FakeTrueLayer(
        clock=FakeClock(START), access_token_ttl=100 * DAY, refresh_token_idle_ttl=100 * DAY
    )
    async with fake.http_client() as http:
        tokens = fake.create_connection()
        fake.clock.advance(90 * DAY - 1)
        assert (await me(http, tokens["access_token"])).status_code == 200
        fake.clock.advance(1)
        response = await me(http, tokens["access_token"])
        assert response.status_code == 403 and response.json()["error"] == "access_denied"
        assert (await refresh(http, tokens["refresh_token"])).json()["error"] == "invalid_grant"


@pytest.mark.asyncio
async def test_refresh_token_dies_after_30_idle_days(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    tokens = fake.create_connection()
    fake.clock.advance(29 * DAY)
    tokens = (await refresh(client, tokens["refresh_token"])).json()
    fake.clock.advance(30 * DAY + 1)
    assert (await refresh(client, tokens["refresh_token"])).json()["error"] == "invalid_grant"


@pytest.mark.asyncio
async def test_refresh_reuse_policy_reject_keeps_the_family() -> None:
    fake = FakeTrueLayer(refresh_token_reuse="reject")
    async with fake.http_client() as http:
        first = fake.create_connection()
        second = (await refresh(http, first["refresh_token"])).json()
        assert (await refresh(http, first["refresh_token"])).json()["error"] == "invalid_grant"
        assert (await me(http, second["access_token"])).status_code == 200
        assert (await refresh(http, second["refresh_token"])).status_code == 200


@pytest.mark.asyncio
async def test_refresh_reuse_policy_grace_allows_one_retry() -> None:
    fake = FakeTrueLayer(refresh_token_reuse="grace")
    async with fake.http_client() as http:
        first = fake.create_connection()
        lost = (await refresh(http, first["refresh_token"])).json()  # pretend it never arrived
        retried = await refresh(http, first["refresh_token"])
        assert retried.status_code == 200
        assert (await me(http, lost["access_token"])).status_code == 401
        assert (await refresh(http, first["refresh_token"])).json()["error"] == "invalid_grant"
        # Once the newest pair was used, the previous token gets no grace.
        current = retried.json()
        newer = (await refresh(http, current["refresh_token"])).json()
        assert (await me(http, newer["access_token"])).status_code == 200
        assert (await refresh(http, current["refresh_token"])).json()["error"] == "invalid_grant"


def test_bad_refresh_reuse_policy() -> None:
    with pytest.raises(ValueError, match="refresh_token_reuse"):
        FakeTrueLayer(refresh_token_reuse="whatever")  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_revoke(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    tokens = fake.create_connection()
    other = fake.create_connection(username="john7")
    assert fake.revoke("john") == 1
    denied = await me(client, tokens["access_token"])
    assert denied.status_code == 403 and denied.json()["error"] == "access_denied"
    assert (await refresh(client, tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await me(client, other["access_token"])).status_code == 200
    assert fake.revoke(fake.credentials_id(other["access_token"])) == 1
    with pytest.raises(LookupError):
        fake.revoke("nobody")


@pytest.mark.asyncio
async def test_client_credentials(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    response = await token_request(client, grant_type="client_credentials")
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
    assert body["scope"] == (
        "data mandates payments recurring_payments:commercial recurring_payments:sweeping "
        "signupplus verification verification:bank_lookup verification:fr"
    )
    scoped = (
        await token_request(client, grant_type="client_credentials", scope="payments")
    ).json()
    assert scoped["scope"] == "payments"
    assert (await me(client, scoped["access_token"])).json()["error"] == "unauthorized"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"grant_type": "client_credentials", "client_secret": "wrong"}, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "sandbox-nobody"}, "invalid_client"),
        ({"grant_type": "client_credentials", "client_secret": ""}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": ""}, "invalid_request"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, "unsupported_grant_type"),
    ],
)
async def test_token_endpoint_errors(
    client: httpx.AsyncClient, fields: dict[str, str], error: str
) -> None:
    response = await token_request(client, **fields)
    assert response.status_code == 400 and response.json()["error"] == error


@pytest.mark.asyncio
async def test_token_endpoint_rejects_odd_bodies(client: httpx.AsyncClient) -> None:
    repeated = await client.post(
        f"{AUTH}/connect/token",
        content=b"grant_type=client_credentials&grant_type=client_credentials",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert repeated.json()["error"] == "invalid_request"
    not_string = await client.post(f"{AUTH}/connect/token", json={"grant_type": 1})
    assert not_string.json()["error"] == "invalid_request"
    not_object = await client.post(f"{AUTH}/connect/token", json=["x"])
    assert not_object.json()["error"] == "invalid_request"


def test_register_client(fake: FakeTrueLayer) -> None:
    fake.register_client(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, ["https://app.example/cb"])
    assert "https://app.example/cb" in fake._state.clients[DEFAULT_CLIENT_ID].redirect_uris
    with pytest.raises(ValueError, match="different secret"):
        fake.register_client(DEFAULT_CLIENT_ID, "other", [])


@pytest.mark.asyncio
async def test_client_scopes_limit_the_auth_link(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    fake.register_client("sandbox-narrow", "s", [DEFAULT_REDIRECT_URI], scopes=["accounts"])
    bad = await client.get(auth_link(client_id="sandbox-narrow", scope="accounts info"))
    assert bad.status_code == 400 and "invalid_scope" in bad.text
    ok = await complete_consent(client, auth_link(client_id="sandbox-narrow", scope="accounts"))
    assert ok.code


def test_create_connection_validates(fake: FakeTrueLayer) -> None:
    with pytest.raises(ValueError, match="refuses"):
        fake.create_connection(password="wrong")
    with pytest.raises(ValueError, match="scopes"):
        fake.create_connection(scopes=("payments",))
    with pytest.raises(ValueError, match="provider"):
        fake.create_connection(provider_id="nope")


# -- delete and providers ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_delete_needs_a_valid_token(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    missing = await client.delete(f"{AUTH}/api/delete")
    assert missing.status_code == 401 and missing.json()["error"] == "unauthorized"
    tokens = fake.create_connection()
    fake.revoke("john")  # a revoked connection can still be deleted
    assert (
        await client.delete(f"{AUTH}/api/delete", headers=bearer(tokens["access_token"]))
    ).status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            {
                "mock",
                "ob-monzo",
                "ob-transferwise",
                "ob-lloyds-business",
                "oauth-monzo",
                "ob-bank-of-ireland",
                "stet-credit-agricole",
            },
        ),
        (f"?clientId={DEFAULT_CLIENT_ID}&country=uk&scopes=cards", {"mock", "ob-lloyds-business"}),
        ("?clientId=sandbox-unknown", set()),
        ("?country=fr%20ie", {"stet-credit-agricole", "ob-bank-of-ireland"}),
        (
            "?scopes=direct_debits+standing_orders&country=uk",
            {"mock", "ob-monzo", "ob-lloyds-business"},
        ),
        ("?country=de", set()),
    ],
)
async def test_providers_filters(
    client: httpx.AsyncClient, query: str, expected: set[str]
) -> None:
    response = await client.get(f"{AUTH}/api/providers{query}")
    assert response.status_code == 200
    assert {p["provider_id"] for p in response.json()} == expected
