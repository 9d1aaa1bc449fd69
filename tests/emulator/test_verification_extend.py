"""Verification v1 and connections/extend."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.served import bearer
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeTrueLayer,
    complete_consent,
)
from truelayer_async.testing._verification import match_score

from .helpers import API, token_request

DAY = 86_400


def verifier_token(fake: FakeTrueLayer, **kwargs: Any) -> dict[str, str]:
    kwargs.setdefault("scopes", ("accounts", "verification"))
    return bearer(fake.create_connection(**kwargs)["access_token"])


async def verify(client: httpx.AsyncClient, headers: dict[str, str], body: Any) -> httpx.Response:
    return await client.post(f"{API}/verification/v1/verify", headers=headers, json=body)


@pytest.mark.parametrize(
    ("given", "score"),
    [
        ("John Doe", 100),
        ("doe, john", 100),
        ("Mr. John Doe", 100),
        ("J Doe", 90),
        ("J. Doe", 90),
        ("", 0),
    ],
)
def test_match_score(given: str, score: int) -> None:
    assert match_score(given, "John Doe") == score


def test_match_score_for_strangers_is_low() -> None:
    assert match_score("Jane Smith", "John Doe") < 80
    assert 80 <= match_score("Jon Doe", "John Doe") < 100


@pytest.mark.asyncio
async def test_verify_match_and_report(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    response = await verify(client, verifier_token(fake), {"name": "John Doe"})
    body = response.json()
    assert response.status_code == 200
    assert body["verified"] is True and body["match_score"] == 100
    assert body["account_holder_name"] == "John Doe"
    kinds = [(r["account_type"], r["verifiable"]) for r in body["report"]]
    assert kinds == [("CURRENT", True), ("SAVINGS", True), ("CREDIT_CARD", False)]
    assert body["report"][2]["failure_code"] == "CREDIT_CARD"
    miss = (await verify(client, verifier_token(fake), {"name": "Jane Smith"})).json()
    assert miss["verified"] is False
    assert miss["report"][0]["account_holders"][0]["verified"] is False


@pytest.mark.asyncio
async def test_verify_errors(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    headers = verifier_token(fake)
    not_json = await client.post(
        f"{API}/verification/v1/verify", headers=headers, content=b"name=x"
    )
    assert not_json.status_code == 400
    assert not_json.headers["content-type"].startswith("application/problem+json")
    empty = await verify(client, headers, {"name": "   "})
    assert empty.status_code == 400 and "name" in empty.json()["errors"]
    fake.clock.advance(3600)
    expired = await verify(client, headers, {"name": "John Doe"})
    assert expired.status_code == 401 and expired.json()["title"] == "Unauthorized"
    revoked = verifier_token(fake, username="john9")
    fake.revoke("john9")
    assert (await verify(client, revoked, {"name": "John Doe"})).status_code == 403


# -- extend ------------------------------------------------------------------------------------


def extend_body(refresh_token: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "user_has_reconfirmed_consent": True,
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "refresh_token": refresh_token,
        "redirect_uri": DEFAULT_REDIRECT_URI,
        "user": {"id": "u-1", "name": "John Doe", "phone": "+447700900123"},
    }
    body.update(overrides)
    return body


async def extend(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"{API}/connections/extend", json=body)


@pytest.mark.asyncio
async def test_extend_eternal_rotates_and_renews_consent(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    tokens = fake.create_connection(password="eternal")
    fake.clock.advance(91 * DAY)  # consent has lapsed; extend still works
    response = await extend(client, extend_body(tokens["refresh_token"]))
    assert response.status_code == 200
    body = response.json()
    assert body["action_needed"] == "no_action_needed" and body["token_type"] == "Bearer"
    assert body["refresh_token"] != tokens["refresh_token"]
    me = await client.get(f"{API}/data/v1/me", headers=bearer(body["access_token"]))
    assert me.json()["results"][0]["consent_expires_at"] == "2024-10-29T10:00:00.000Z"
    old = await token_request(
        client, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert old.json()["error"] == "invalid_grant"


@pytest.mark.asyncio
async def test_extend_doe_needs_authentication(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    tokens = fake.create_connection()
    credentials_id = fake.credentials_id(tokens["access_token"])
    fake.clock.advance(80 * DAY)
    response = await extend(client, extend_body(tokens["refresh_token"], state="re-1"))
    body = response.json()
    assert body["action_needed"] == "authentication_needed"
    assert body["user_input_link"].startswith(f"{API}/dialog/auth-")

    with pytest.raises(Exception, match="log in as john"):
        await complete_consent(client, body["user_input_link"], username="john5")
    again = (await extend(client, extend_body(tokens["refresh_token"]))).json()
    result = await complete_consent(client, again["user_input_link"])
    assert result.params["code"]
    exchanged = await token_request(
        client,
        grant_type="authorization_code",
        code=result.params["code"],
        redirect_uri=DEFAULT_REDIRECT_URI,
    )
    new = exchanged.json()
    assert fake.credentials_id(new["access_token"]) == credentials_id
    assert fake.connection(credentials_id).consent_expires_at == fake.clock() + 90 * DAY
    assert (
        await client.get(f"{API}/data/v1/me", headers=bearer(tokens["access_token"]))
    ).status_code == 401


@pytest.mark.asyncio
async def test_extend_reconfirm_asks_for_consent_only(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    tokens = fake.create_connection(password="reconfirm")
    credentials_id = fake.credentials_id(tokens["access_token"])
    fake.clock.advance(80 * DAY)
    body = (await extend(client, extend_body(tokens["refresh_token"], state="r-1"))).json()
    assert body["action_needed"] == "reconfirmation_of_consent_needed"
    assert body["user_input_link"].startswith(f"{API}/dialog/auth-")
    page = await client.get(body["user_input_link"])
    assert 'name="password"' not in page.text  # no bank login, consent only
    result = await complete_consent(client, body["user_input_link"])
    assert result.params["state"] == "r-1"
    exchanged = await token_request(
        client,
        grant_type="authorization_code",
        code=result.params["code"],
        redirect_uri=DEFAULT_REDIRECT_URI,
    )
    assert fake.credentials_id(exchanged.json()["access_token"]) == credentials_id
    assert fake.connection(credentials_id).consent_expires_at == fake.clock() + 90 * DAY


@pytest.mark.asyncio
async def test_extend_state_and_form_post(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    tokens = fake.create_connection()
    body = (
        await extend(
            client, extend_body(tokens["refresh_token"], state="s9", response_mode="form_post")
        )
    ).json()
    result = await complete_consent(client, body["user_input_link"])
    assert result.form is not None and result.form["state"] == "s9"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"client_id": None}, 400, "ClientId"),
        ({"user": None}, 400, "User"),
        ({"user_has_reconfirmed_consent": False}, 400, "UserHasReconfirmedConsent"),
        ({"user": {"name": "John Doe"}}, 400, "User"),
        ({"user": "john"}, 400, "User"),
        ({"redirect_uri": "https://evil.example/cb"}, 400, "RedirectUri"),
        ({"response_mode": "query"}, 400, "ResponseMode"),
        ({"client_secret": "wrong"}, 401, None),
        ({"refresh_token": "unknown"}, 401, None),
    ],
)
async def test_extend_errors(
    fake: FakeTrueLayer,
    client: httpx.AsyncClient,
    overrides: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    tokens = fake.create_connection()
    body = {**extend_body(tokens["refresh_token"]), **overrides}
    response = await extend(client, {k: v for k, v in body.items() if v is not None})
    assert response.status_code == status
    problem = response.json()
    assert problem["status"] == status and problem["instance"] == "/connections/extend"
    assert problem["trace_id"] == response.headers["x-tl-correlation-id"]
    if field:
        assert field in problem["errors"]


@pytest.mark.asyncio
async def test_extend_for_regulated_clients_needs_no_contact(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    fake.register_client("sandbox-regulated", "s", [DEFAULT_REDIRECT_URI], regulated=True)
    tokens = fake.create_connection(client_id="sandbox-regulated")
    body = extend_body(
        tokens["refresh_token"], client_id="sandbox-regulated", client_secret="s", user={"id": "1"}
    )
    assert (await extend(client, body)).status_code == 200


@pytest.mark.asyncio
async def test_extend_with_a_rotated_token_revokes_the_family(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    first = fake.create_connection(password="eternal")
    second = (
        await token_request(
            client, grant_type="refresh_token", refresh_token=first["refresh_token"]
        )
    ).json()
    assert (await extend(client, extend_body(first["refresh_token"]))).status_code == 401
    assert (await extend(client, extend_body(second["refresh_token"]))).status_code == 401
