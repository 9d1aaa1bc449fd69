"""Fixtures for the token-store tests: a real redis-server and one harness per backend.

``harness`` gives every contract test the same view of a store, whatever backs it: the
store itself, ``sibling()`` (another instance over the same data, as a second process
would have), ``raw_get`` / ``raw_put`` to look at and damage the stored bytes, and
``with_codec`` for the encrypting backends. The helpers are in ``tests.support.stores``.
"""

import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.support.binaries import require_binary
from tests.support.processes import free_port
from tests.support.stores import (
    BACKENDS,
    Harness,
    open_harness,
    redis_answers,
)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, no persistence, for the session."""
    binary = require_binary("redis-server")
    workdir = tmp_path_factory.mktemp("redis")
    port = free_port()
    with (workdir / "redis.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                binary,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(workdir),
                "--loglevel", "warning",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not redis_answers(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                text = (workdir / "redis.log").read_text(errors="replace")
                pytest.fail(f"redis-server did not start:\n{text}")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


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
