"""Fixtures shared by the whole suite: a fake wall clock, a recording sleep, a sentinel, a
real redis-server for the session.

Helpers live in ``tests.support``; this file holds fixtures only.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.support.binaries import require_binary
from tests.support.doubles import RecordingSleep
from tests.support.processes import free_port
from tests.support.stores import redis_answers
from truelayer_async.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """The public fake clock, started at the real time."""
    return FakeClock()


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def sentinel() -> str:
    """A secret-looking value to plant everywhere and scan for."""
    return "tlsecret_" + secrets.token_hex(12)


@pytest.fixture
def no_env_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("TRUELAYER_CLIENT_ID", "TRUELAYER_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    yield


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
