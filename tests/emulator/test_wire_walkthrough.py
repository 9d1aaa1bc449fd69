"""The documented flow, by hand with plain httpx, exactly as truelayer-api.md describes the
wire: auth link → dialog forms (found by their documented ids) → code on the redirect →
form-encoded ``/connect/token`` → Data calls → refresh rotation → old refresh token refused
→ ``/api/delete``."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
import pytest

from tests.support.auth_links import AUTH, auth_link
from tests.support.served import bearer
from truelayer_async import _json
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeTrueLayer,
)

from .helpers import API


def form_action(html: str, form_id: str) -> str:
    match = re.search(rf'<form id="{form_id}" method="post" action="([^"]+)"', html)
    assert match, f"no #{form_id} in page"
    return match.group(1)


@pytest.mark.asyncio
async def test_documented_flow_by_hand(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    link = auth_link(scope="info accounts balance transactions cards offline_access", state="st-1")

    # 1. The auth link redirects into the dialog.
    response = await client.get(link)
    assert response.status_code == 302
    dialog = urljoin(link, response.headers["location"])

    # 2. Bank selection: one button per provider, ids documented.
    page = await client.get(dialog)
    assert 'data-step="provider"' in page.text
    assert 'id="provider-mock"' in page.text
    response = await client.post(
        form_action(page.text, "provider-form"), data={"provider_id": "mock"}
    )
    assert response.status_code == 303

    # 3. Mock bank login; a wrong password re-renders the form with an error.
    page = await client.get(urljoin(dialog, response.headers["location"]))
    for element in ('id="login-form"', 'id="username"', 'id="password"', 'id="login-submit"'):
        assert element in page.text
    action = form_action(page.text, "login-form")
    wrong = await client.post(action, data={"username": "john", "password": "nope"})
    assert wrong.status_code == 200 and 'id="login-error"' in wrong.text
    response = await client.post(action, data={"username": "john", "password": "doe"})
    assert response.status_code == 303

    # 4. Consent; Allow redirects to redirect_uri with code and state (and nothing else).
    page = await client.get(urljoin(dialog, response.headers["location"]))
    assert 'id="approve"' in page.text and 'id="cancel"' in page.text
    response = await client.post(
        form_action(page.text, "consent-form"), data={"action": "approve"}
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == DEFAULT_REDIRECT_URI
    params = parse_qs(location.query)
    assert set(params) == {"code", "state"} and params["state"] == ["st-1"]

    # 5. Code exchange, form-encoded.
    token_url = f"{AUTH}/connect/token"
    response = await client.post(
        token_url,
        data={
            "grant_type": "authorization_code",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "code": params["code"][0],
            "redirect_uri": DEFAULT_REDIRECT_URI,
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["scope"] == "info accounts balance transactions cards offline_access"
    header = jwt.get_unverified_header(tokens["access_token"])
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert header["typ"] == "at+jwt"
    assert claims["aud"] == "data_api" and claims["client_id"] == DEFAULT_CLIENT_ID
    assert claims["scope"] == [
        "info",
        "accounts",
        "balance",
        "transactions",
        "cards",
        "offline_access",
    ]
    assert claims["connector_id"] == "mock" and claims["exp"] - claims["iat"] == 3600
    assert claims["iss"] == AUTH

    # 6. Data calls: envelope, headers, exact decimals.
    accounts = await client.get(f"{API}/data/v1/accounts", headers=bearer(tokens["access_token"]))
    assert accounts.status_code == 200
    assert accounts.headers["content-type"] == "application/json; charset=utf-8"
    assert accounts.headers["x-credentials-id"] == claims["sub"]
    assert re.fullmatch(r"[0-9a-f-]{36}", accounts.headers["x-tl-correlation-id"])
    body = accounts.json()
    assert body["status"] == "Succeeded" and len(body["results"]) == 2
    account_id = body["results"][0]["account_id"]
    txns = await client.get(
        f"{API}/data/v1/accounts/{account_id}/transactions", headers=bearer(tokens["access_token"])
    )
    decoded = _json.loads(txns.content)
    amounts = [t["amount"] for t in decoded["results"]]
    assert amounts and all(isinstance(a, Decimal) for a in amounts)
    assert all(a == a.quantize(Decimal("0.01")) for a in amounts)
    assert all("running_balance" in t for t in decoded["results"])

    # 7. Refresh rotates both tokens; the old access token stops working at once.
    refreshed = await client.post(
        token_url,
        data={
            "grant_type": "refresh_token",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "refresh_token": tokens["refresh_token"],
        },
    )
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    old_call = await client.get(f"{API}/data/v1/me", headers=bearer(tokens["access_token"]))
    assert old_call.status_code == 401 and old_call.json()["error"] == "unauthorized"
    assert (
        await client.get(f"{API}/data/v1/me", headers=bearer(new["access_token"]))
    ).status_code == 200

    # 8. The old refresh token is refused (and, by default, revokes the family).
    reused = await client.post(
        token_url,
        data={
            "grant_type": "refresh_token",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "refresh_token": tokens["refresh_token"],
        },
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    after = await client.get(f"{API}/data/v1/me", headers=bearer(new["access_token"]))
    assert after.status_code == 401

    # 9. A fresh connection, deleted: 200 with no body, then 401 and invalid_grant.
    fresh = fake.create_connection()
    deleted = await client.delete(f"{AUTH}/api/delete", headers=bearer(fresh["access_token"]))
    assert deleted.status_code == 200 and deleted.content == b""
    gone = await client.get(f"{API}/data/v1/accounts", headers=bearer(fresh["access_token"]))
    assert gone.status_code == 401
    again = await client.delete(f"{AUTH}/api/delete", headers=bearer(fresh["access_token"]))
    assert again.status_code == 401
    refresh = await client.post(
        token_url,
        data={
            "grant_type": "refresh_token",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "refresh_token": fresh["refresh_token"],
        },
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


@pytest.mark.asyncio
async def test_token_endpoint_accepts_json_bodies(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    tokens = fake.create_connection()
    response = await client.post(
        f"{AUTH}/connect/token",
        json={
            "grant_type": "refresh_token",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "refresh_token": tokens["refresh_token"],
        },
    )
    assert response.status_code == 200
    assert fake.stats["refresh"] == 1
