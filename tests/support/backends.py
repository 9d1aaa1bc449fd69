"""The event loops the core and auth tests run on (anyio's pytest plugin)."""

from __future__ import annotations

__all__ = ["BACKENDS"]

#: ``anyio_backend`` parameters: the trio leg checks the SDK never assumes asyncio.
BACKENDS = ["asyncio", "trio"]
