"""The emulator served in a separate process (``python -m truelayer_async.testing --port 0``),
driven with plain httpx only: no SDK, no in-process access to its state.

Helpers are in ``tests.support.served``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.served import (
    FAST_RETRIES,
    Served,
)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The default served emulator (live clock, 1 h tokens, fast webhook retries)."""
    served = Served(
        "--webhook-retry-delays",
        FAST_RETRIES,
        "--log-level",
        "warning",
        log=tmp_path_factory.mktemp("emulator") / "stderr.log",
    )
    yield served
    served.stop()


@pytest.fixture
def http(emulator: Served) -> Iterator[httpx.Client]:
    """A plain httpx client on the served emulator, which is reset first."""
    with httpx.Client(base_url=emulator.url, trust_env=False, timeout=10) as client:
        assert client.post("/_emulator/reset").status_code == 200
        yield client
