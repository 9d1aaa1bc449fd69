"""Fixtures for the command-line tool's tests: an emulator on loopback, a temp store,
and ways to run the CLI in-process or as a real subprocess.

Helpers are in ``tests.support.cli``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FakeTrueLayer,
)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store" / "tokens.db"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: Path) -> dict[str, str]:
    """Credentials of the emulator's default client, a temp store, no stray settings."""
    monkeypatch.setenv("TRUELAYER_CLIENT_ID", DEFAULT_CLIENT_ID)
    monkeypatch.setenv("TRUELAYER_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
    monkeypatch.setenv("TRUELAYER_ASYNC_STORE", str(store))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.delenv("TRUELAYER_ENVIRONMENT", raising=False)
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}


@pytest.fixture
def fake() -> Iterator[FakeTrueLayer]:
    """The emulator, served on a free loopback port; its clock and faults stay ours."""
    fake = FakeTrueLayer()
    with fake.serve_in_thread():
        yield fake


@pytest.fixture
def signing_env(
    fake: FakeTrueLayer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, Path]:
    """The emulator's client signing key in a file, named by the CLI's variables."""
    key_id, pem = fake.client_signing_key
    key_file = tmp_path / "signing-key.pem"
    key_file.write_text(pem)
    monkeypatch.setenv("TRUELAYER_SIGNING_KEY_ID", key_id)
    monkeypatch.setenv("TRUELAYER_SIGNING_KEY_FILE", str(key_file))
    return key_id, key_file
