"""The trio leg is real: core and auth tests run on each backend they are parametrized for."""

from __future__ import annotations

import pytest
import sniffio  # a dependency of trio, which this leg needs anyway

from truelayer_async.testing import FakeTrueLayer


@pytest.mark.anyio
async def test_runs_on_the_backend_it_names(anyio_backend: str) -> None:
    assert sniffio.current_async_library() == anyio_backend
    async with FakeTrueLayer() as fake, fake.session() as tl:
        await fake.connect(tl, user="alice", username="john")
        assert len(await tl.data.accounts(user="alice")) == 2
