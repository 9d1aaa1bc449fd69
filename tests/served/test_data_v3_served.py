"""Data API v3 against the emulator served in its own process (live clock): a bulk
connection made through the control API, then the SDK pages every transaction."""

from __future__ import annotations

from datetime import date

import anyio
import httpx

from tests.support.served import Served
from truelayer_async import Session
from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, emulator_environment


def test_the_sdk_pages_a_bulk_connection_of_the_served_emulator(
    emulator: Served, http: httpx.Client
) -> None:
    made = http.post("/_emulator/data-v3/connections", json={"bulk_transactions": 1200})
    assert made.status_code == 200, made.text
    connection = made.json()["connection_id"]
    refused = http.post("/_emulator/data-v3/connections", json={"bulk_transactions": -1})
    assert refused.status_code == 400

    async def page_everything() -> tuple[int, int]:
        environment = emulator_environment(emulator.url)
        async with Session(
            DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, environment=environment
        ) as tl:
            accounts = [a async for a in tl.data_v3.connected_accounts(connection)]
            pages = tl.data_v3.transactions(
                accounts[0].id, date(2000, 1, 1), date(2100, 1, 1), connection_id=connection
            )
            sizes = [len(page.items) async for page in pages.pages()]
        return len(sizes), sum(sizes)

    count, total = anyio.run(page_everything)
    assert count >= 3 and total > 1200
