"""pytest plugin (entry point ``truelayer_async``): emulator fixtures.

* ``truelayer_fake`` – a fresh ``FakeTrueLayer`` per test, used in-process.
* ``truelayer_fake_server`` – a fresh ``FakeTrueLayer`` served over loopback HTTP for the
  test (``fake.base_url`` / ``fake.environment`` point at it). ``fake.control()`` gives an
  ``EmulatorControl`` that drives it through its ``/_emulator/`` control API, as another
  process would. It keeps a ``FakeClock`` and records webhooks without sending them.

The emulator is imported only when a fixture is used, so loading the plugin costs nothing.
Clients made by ``fake.http_client()`` / ``fake.session()`` use an in-memory transport in
the first fixture (nothing to leak); close them with ``await fake.aclose()`` if you like.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._fake import FakeTrueLayer

__all__ = ["truelayer_fake", "truelayer_fake_server"]


@pytest.fixture
def truelayer_fake() -> FakeTrueLayer:
    """A fresh in-process TrueLayer emulator."""
    from ._fake import FakeTrueLayer

    return FakeTrueLayer()


@pytest.fixture
def truelayer_fake_server() -> Iterator[FakeTrueLayer]:
    """A fresh TrueLayer emulator served on a free loopback port for this test."""
    from ._fake import FakeTrueLayer

    fake = FakeTrueLayer()
    with fake.serve_in_thread():
        yield fake
