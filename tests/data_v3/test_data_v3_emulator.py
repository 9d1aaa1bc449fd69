"""The emulator's Data API v3 over raw httpx: connections and the hosted journey,
``Connection-Id`` and scopes, connected-account pages, asynchronous transaction requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from truelayer_async.testing import FakeTrueLayer

from .helpers import BACK, DataV3, walk_journey

pytestmark = pytest.mark.anyio

WIDE = {"from": "2000-01-01", "to": "2100-01-01"}
HOSTED = {
    "scopes": ["accounts", "transactions"],
    "provider_selection": {"type": "user_selected"},
    "hosted_page": {"return_uri": BACK},
}


@pytest_asyncio.fixture
async def api(fake: FakeTrueLayer) -> AsyncIterator[DataV3]:
    async with fake.http_client() as client:
        data = DataV3(fake, client)
        await data.login()
        yield data


async def _first_account(api: DataV3, connection: str) -> str:
    response = await api.call("GET", "/v3/connected-accounts", connection=connection)
    assert response.status_code == 200, response.text
    return str(response.json()["items"][0]["id"])


async def test_create_walk_the_journey_and_use_the_connection(api: DataV3) -> None:
    created = await api.call("POST", "/v3/data-connections", HOSTED)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "authorization_required"
    connection, link = body["id"], body["hosted_page"]["uri"]
    early = await api.call("GET", "/v3/connected-accounts", connection=connection)
    assert early.status_code == 403  # not authorised yet
    back = await walk_journey(api.client, link)
    assert back.status_code == 303
    assert back.headers["location"] == f"{BACK}?connection_id={connection}"
    status = await api.call("GET", f"/v3/data-connections/{connection}")
    assert status.json() == {"id": connection, "status": "authorized"}
    assert await _first_account(api, connection)
    again = await api.client.get(link)
    assert again.status_code == 404  # a connection is authorised once


async def test_a_wrong_login_stays_on_the_journey(api: DataV3) -> None:
    created = (await api.call("POST", "/v3/data-connections", HOSTED)).json()
    refused = await walk_journey(api.client, created["hosted_page"]["uri"], "john", "nope")
    assert refused.status_code == 400 and 'id="login-error"' in refused.text


async def test_authorization_flow_answers_a_redirect_action(api: DataV3) -> None:
    body = {**HOSTED, "provider_selection": {"type": "preselected", "provider_id": "mock"}}
    del body["hosted_page"]
    body["authorization_flow"] = {"redirect": {"return_uri": BACK}}
    created = await api.call("POST", "/v3/data-connections", body)
    assert created.json()["authorization_flow"]["actions"]["next"]["type"] == "redirect"


@pytest.mark.parametrize(
    "change",
    [
        {"scopes": ["cards"]},
        {"scopes": []},
        {"provider_selection": {"type": "psychic"}},
        {"hosted_page": None},
        {"authorization_flow": {"redirect": {"return_uri": BACK}}},
        {"hosted_page": {}},
    ],
)
async def test_a_bad_connection_body_is_a_400(api: DataV3, change: dict[str, Any]) -> None:
    body = {k: v for k, v in {**HOSTED, **change}.items() if v is not None}
    response = await api.call("POST", "/v3/data-connections", body)
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid Parameters"


async def test_the_data_scope_is_required(api: DataV3, fake: FakeTrueLayer) -> None:
    await api.login("payments")
    response = await api.call("POST", "/v3/data-connections", HOSTED)
    assert response.status_code == 403 and response.json()["title"] == "Forbidden"


async def test_connection_id_is_enforced(api: DataV3, fake: FakeTrueLayer) -> None:
    missing = await api.call("GET", "/v3/connected-accounts")
    assert missing.status_code == 400 and "Connection-Id" in missing.json()["errors"]
    unknown = await api.call("GET", "/v3/connected-accounts", connection="nope")
    assert unknown.status_code == 404
    accounts_only = fake.connect_data_v3(["accounts"])
    account = await _first_account(api, accounts_only)
    path = f"/v3/connected-accounts/{account}/transactions/requests"
    forbidden = await api.call("POST", path, WIDE, connection=accounts_only)
    assert forbidden.status_code == 403 and "transactions" in forbidden.json()["detail"]
    no_accounts = fake.connect_data_v3(["transactions"])
    listed = await api.call("GET", "/v3/connected-accounts", connection=no_accounts)
    assert listed.status_code == 403


async def test_connected_accounts_come_in_cursor_pages(api: DataV3, fake: FakeTrueLayer) -> None:
    connection = fake.connect_data_v3()
    first = (await api.call("GET", "/v3/connected-accounts", connection=connection)).json()
    cursor = first["pagination"]["next_cursor"]
    second = await api.call(
        "GET", "/v3/connected-accounts", connection=connection, params={"cursor": cursor}
    )
    assert "pagination" not in second.json()
    accounts = [*first["items"], *second.json()["items"]]
    assert [a["account_type"] for a in accounts] == ["current", "savings"]
    for account in accounts:
        assert {i["type"] for i in account["account_identifiers"]} == {
            "sort_code_account_number",
            "iban",
        }
        assert account["currency"] == "GBP" and account["account_holder_names"] == ["John Doe"]
    bad = await api.call(
        "GET", "/v3/connected-accounts", connection=connection, params={"cursor": "x"}
    )
    assert bad.status_code == 400


async def test_a_request_is_pending_for_n_polls_then_completed_and_stable(
    api: DataV3, fake: FakeTrueLayer
) -> None:
    fake.data_v3_timing.pending_polls = 3
    fake.data_v3_timing.pending_seconds = 3600
    connection = fake.connect_data_v3()
    account = await _first_account(api, connection)
    path = f"/v3/connected-accounts/{account}/transactions/requests"
    created = await api.call("POST", path, {**WIDE, "page_size": 5}, connection=connection)
    request = f"{path}/{created.json()['id']}"
    statuses = [
        (await api.call("GET", request, connection=connection)).json()["status"] for _ in range(4)
    ]
    assert statuses == ["pending", "pending", "pending", "completed"]
    done = (await api.call("GET", request, connection=connection)).json()
    assert done == (await api.call("GET", request, connection=connection)).json()
    assert len(done["result"]["items"]) == 5


async def test_a_request_completes_after_n_seconds_on_the_emulator_clock(
    api: DataV3, fake: FakeTrueLayer
) -> None:
    fake.data_v3_timing.pending_polls = 1000
    fake.data_v3_timing.pending_seconds = 10
    connection = fake.connect_data_v3()
    account = await _first_account(api, connection)
    path = f"/v3/connected-accounts/{account}/transactions/requests"
    created = await api.call("POST", path, WIDE, connection=connection)
    request = f"{path}/{created.json()['id']}"
    assert (await api.call("GET", request, connection=connection)).json()["status"] == "pending"
    fake.advance(10)
    assert (await api.call("GET", request, connection=connection)).json()["status"] == "completed"


async def test_pages_are_ordered_capped_at_500_and_chained_by_new_requests(
    api: DataV3, fake: FakeTrueLayer
) -> None:
    connection = fake.connect_data_v3(bulk_transactions=1000)
    account = await _first_account(api, connection)
    first = await api.request_page(connection, account, {**WIDE, "page_size": 10_000})
    items = first["result"]["items"]
    assert len(items) == 500  # min(500, requested)
    keys = [(i["timestamp"], i["transaction_id"]) for i in items]
    assert keys == sorted(keys, reverse=True)
    assert all(isinstance(i["amount_in_minor"], int) for i in items)
    second = await api.request_page(
        connection, account, {"cursor": first["result"]["next_cursor"]}
    )
    assert second["id"] != first["id"]
    assert keys[-1] > (
        second["result"]["items"][0]["timestamp"],
        second["result"]["items"][0]["transaction_id"],
    )
    seen = {i["transaction_id"] for i in items}
    assert not seen & {i["transaction_id"] for i in second["result"]["items"]}


async def test_dates_are_inclusive_and_the_last_page_has_no_cursor(
    api: DataV3, fake: FakeTrueLayer
) -> None:
    connection = fake.connect_data_v3()
    account = await _first_account(api, connection)
    everything = (await api.request_page(connection, account, WIDE))["result"]
    assert everything["next_cursor"] is None
    day = everything["items"][3]["timestamp"][:10]
    one_day = (await api.request_page(connection, account, {"from": day, "to": day}))["result"]
    assert one_day["items"] and {i["timestamp"][:10] for i in one_day["items"]} == {day}


async def test_an_error_persona_fails_its_requests(api: DataV3, fake: FakeTrueLayer) -> None:
    connection = fake.connect_data_v3(username="error.provider_error")
    account = await _first_account(api, connection)
    failed = await api.request_page(connection, account, WIDE)
    assert failed["status"] == "failed" and failed["failure_reason"] == "provider_error"


@pytest.mark.parametrize(
    "body",
    [
        {"from": "2024-13-01", "to": "2024-01-01"},
        {"to": "2024-01-01"},
        {"from": "2024-02-01", "to": "2024-01-01"},
        {**WIDE, "page_size": 0},
        {"cursor": "garbage"},
    ],
)
async def test_bad_request_bodies_are_400(
    api: DataV3, fake: FakeTrueLayer, body: dict[str, Any]
) -> None:
    connection = fake.connect_data_v3()
    account = await _first_account(api, connection)
    path = f"/v3/connected-accounts/{account}/transactions/requests"
    response = await api.call("POST", path, body, connection=connection)
    assert response.status_code == 400, response.text


async def test_another_connections_request_or_account_is_not_found(
    api: DataV3, fake: FakeTrueLayer
) -> None:
    mine, other = fake.connect_data_v3(), fake.connect_data_v3(username="john7")
    account = await _first_account(api, mine)
    path = f"/v3/connected-accounts/{account}/transactions/requests"
    created = await api.call("POST", path, WIDE, connection=mine)
    read = await api.call("GET", f"{path}/{created.json()['id']}", connection=other)
    assert read.status_code == 404
    foreign = await api.call("POST", path, WIDE, connection=other)
    assert foreign.status_code == 404


def test_connect_data_v3_refuses_bad_credentials(fake: FakeTrueLayer) -> None:
    with pytest.raises(ValueError, match="Wrong username"):
        fake.connect_data_v3(username="mallory", password="x")


async def test_it_serves_over_http_too(fake: FakeTrueLayer) -> None:
    with fake.serve_in_thread() as base_url:
        async with httpx.AsyncClient(trust_env=False) as client:
            api = DataV3(fake, client)
            await api.login()
            created = (await api.call("POST", "/v3/data-connections", HOSTED)).json()
            assert created["hosted_page"]["uri"].startswith(f"{base_url}/data-v3/connect/")
            back = await walk_journey(client, created["hosted_page"]["uri"])
            assert back.status_code == 303
            assert await _first_account(api, created["id"])
