"""The emulator's hosted payouts page walked over plain HTTP, as a browser would."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

__all__ = ["choose_on_page", "walk_payouts_page"]


async def walk_payouts_page(client: httpx.AsyncClient, uri: str, action: str) -> httpx.Response:
    """What a browser does on the payouts hosted page: read the fragment, pick."""
    parts = urlsplit(uri)
    base = f"{parts.scheme}://{parts.netloc}"
    page = await client.get(f"{base}{parts.path}")
    assert 'id="hp2-start"' in page.text
    fields = {k: v[0] for k, v in parse_qs(parts.fragment).items()}
    started = await client.post(
        f"{base}/hpp/payouts",
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert started.status_code == 303, started.text
    return await choose_on_page(client, base + started.headers["location"], action)


async def choose_on_page(client: httpx.AsyncClient, url: str, action: str) -> httpx.Response:
    """On the payout's account page at ``url``, post ``action`` (``authorise``/``reject``)."""
    page = await client.get(url)
    assert 'id="payout-form"' in page.text and 'data-step="hp2-account"' in page.text
    chosen = await client.post(
        url,
        content=urlencode({"action": action}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert chosen.status_code == 303, chosen.text
    return chosen
