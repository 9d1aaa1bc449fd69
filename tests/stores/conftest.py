"""Fixtures for the token-store tests: one harness per backend (the redis-server is the
suite-wide ``redis_url`` fixture of ``tests/conftest.py``).

``harness`` gives every contract test the same view of a store, whatever backs it: the
store itself, ``sibling()`` (another instance over the same data, as a second process
would have), ``raw_get`` / ``raw_put`` to look at and damage the stored bytes, and
``with_codec`` for the encrypting backends. The helpers are in ``tests.support.stores``.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.support.stores import (
    BACKENDS,
    Harness,
    open_harness,
)


@pytest_asyncio.fixture(params=BACKENDS)
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    opened = await open_harness(request.param, request, tmp_path)
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest_asyncio.fixture(params=["sqlite", "redis"])
async def persistent(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """Only the shipped persistent stores (they take a codec and share data)."""
    opened = await open_harness(request.param, request, tmp_path)
    try:
        yield opened
    finally:
        await opened.aclose()
