"""Answers for the Data API tests at the wire (respx): its base URL, the OpenAPI-shaped
fixtures of ``tests/fixtures`` and a 200 response."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.fixture_files import fixture_bytes

__all__ = ["DATA", "fixture", "ok"]

#: The sandbox's Data API base URL.
DATA = "https://api.truelayer-sandbox.com/data/v1"


def fixture(name: str) -> Any:
    """``tests/fixtures/NAME.json``, decoded by ``json`` (floats, as a server sends them)."""
    return json.loads(fixture_bytes(f"{name}.json"))


def ok(body: Any, **headers: str) -> httpx.Response:
    """A 200 JSON answer with a correlation id (and ``headers``)."""
    return httpx.Response(200, json=body, headers={"X-TL-Correlation-Id": "corr-ok", **headers})
