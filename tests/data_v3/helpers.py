"""A raw Data v3 client for the emulator tests (plain httpx), and the hosted journey walked
as a browser would."""

from __future__ import annotations

from typing import Any

import httpx

from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeTrueLayer

__all__ = ["BACK", "DataV3", "walk_journey"]

BACK = "https://shop.example/back"


async def walk_journey(
    client: httpx.AsyncClient, link: str, username: str = "john", password: str = "doe"
) -> httpx.Response:
    """Open the hosted journey page and log in; the answer (a 303 on success)."""
    page = await client.get(link)
    assert page.status_code == 200 and 'id="login-form"' in page.text, page.text
    return await client.post(link, data={"username": username, "password": password})


class DataV3:
    """Requests to the emulator's Data v3 API with a client-credentials token."""

    def __init__(self, fake: FakeTrueLayer, client: httpx.AsyncClient) -> None:
        self.fake, self.client, self.token = fake, client, ""

    async def login(self, scope: str = "data") -> None:
        response = await self.client.post(
            f"{self.fake.environment.auth_url}/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "scope": scope,
            },
        )
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        connection: str | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        if connection is not None:
            headers["Connection-Id"] = connection
        url = f"{self.fake.environment.api_url}{path}"
        response = await self.client.request(
            method, url, json=body, headers=headers, params=params
        )
        assert response.headers.get("tl-trace-id")
        return response

    async def request_page(
        self, connection: str, account: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Create a transactions request and read it until it is no longer pending."""
        path = f"/v3/connected-accounts/{account}/transactions/requests"
        created = await self.call("POST", path, body, connection=connection)
        assert created.status_code == 202, created.text
        assert created.json()["status"] == "pending"
        for _ in range(10):
            read = await self.call("GET", f"{path}/{created.json()['id']}", connection=connection)
            assert read.status_code == 200, read.text
            if read.json()["status"] != "pending":
                return dict(read.json())
        raise AssertionError("still pending")
