"""Wire details: legacy provider lists, gzip, Cache-Control, headers on injected faults."""

from __future__ import annotations

import gzip

import httpx
import pytest

from tests.support.auth_links import AUTH
from tests.support.served import bearer
from truelayer_async.testing import FakeTrueLayer

from .helpers import API


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("kind", "included", "excluded"),
    [
        ("credentialssharing", "mock", "ob-lloyds-business"),
        ("oauth/openbanking", "ob-lloyds-business", "mock"),
        ("oauth", "ob-lloyds-business", "mock"),
    ],
)
async def test_legacy_provider_lists_by_type(
    client: httpx.AsyncClient, kind: str, included: str, excluded: str
) -> None:
    response = await client.get(f"{AUTH}/api/providers/{kind}")
    assert response.status_code == 200
    ids = {p["provider_id"] for p in response.json()}
    assert included in ids and excluded not in ids


@pytest.mark.asyncio
async def test_legacy_provider_lists_keep_the_filters_and_refuse_unknown_types(
    client: httpx.AsyncClient,
) -> None:
    filtered = await client.get(
        f"{AUTH}/api/providers/oauth/openbanking", params={"clientId": "nobody"}
    )
    assert filtered.json() == []
    unknown = await client.get(f"{AUTH}/api/providers/carrier-pigeon")
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


@pytest.mark.asyncio
async def test_gzip_when_asked(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    token = fake.create_connection()["access_token"]
    account = fake.connection(token).data().accounts[0].account_id
    url = f"{API}/data/v1/accounts/{account}/transactions"
    zipped = await client.get(url, headers={**bearer(token), "Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.json()["results"]  # httpx undid the compression
    plain = await client.get(url, headers={**bearer(token), "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.json() == zipped.json()


def test_gzip_over_the_wire(fake: FakeTrueLayer) -> None:
    token = fake.create_connection()["access_token"]
    with fake.serve_in_thread() as base_url, httpx.Client() as http:
        request = http.build_request(
            "GET",
            f"{base_url}/data/v1/accounts",
            headers={**bearer(token), "Accept-Encoding": "gzip"},
        )
        response = http.send(request, stream=True)
        raw = b"".join(response.iter_raw())
        response.close()
    assert response.headers["content-encoding"] == "gzip"
    assert b'"results"' in gzip.decompress(raw)


@pytest.mark.asyncio
async def test_data_responses_say_max_age(fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
    token = fake.create_connection()["access_token"]
    for path in ("/data/v1/accounts", "/data/v1/accounts?async=true", "/data/v1/accounts/x"):
        response = await client.get(f"{API}{path}", headers=bearer(token))
        assert response.headers["cache-control"] == "max-age=0", path


@pytest.mark.asyncio
async def test_injected_faults_carry_the_usual_headers(
    fake: FakeTrueLayer, client: httpx.AsyncClient
) -> None:
    token = fake.create_connection()["access_token"]
    normal = await client.get(f"{API}/data/v1/accounts", headers=bearer(token))
    fake.fail_next("/data/v1/accounts", 503, headers={"Retry-After": "2"})
    faulted = await client.get(f"{API}/data/v1/accounts", headers=bearer(token))
    assert faulted.status_code == 503
    assert faulted.headers["retry-after"] == "2"
    for name in (
        "x-credentials-id",
        "cache-control",
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
    ):
        assert faulted.headers[name] == normal.headers[name], name
    assert faulted.headers["x-credentials-id"] == fake.credentials_id(token)
    assert faulted.headers["x-tl-correlation-id"] != normal.headers["x-tl-correlation-id"]
    # Without a usable token there is no credentials id to echo.
    fake.fail_next("/data/v1/accounts", 500)
    anonymous = await client.get(f"{API}/data/v1/accounts", headers=bearer("nope"))
    assert "x-credentials-id" not in anonymous.headers
    assert anonymous.headers["x-frame-options"] == "deny"
