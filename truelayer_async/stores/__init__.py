"""Token stores: where tokens live between requests.

``MemoryTokenStore`` is the default. ``SqliteTokenStore`` persists tokens in one file
shared by the processes of one machine (standard library only); ``RedisTokenStore``
shares them across machines (the ``[redis]`` extra). Both accept a ``codec`` such as
``FernetCodec`` (the ``[crypto]`` extra) to encrypt records at rest. See docs/stores.md.

The SQLite and Redis stores are imported on first use, so importing the SDK needs
neither ``sqlite3`` nor ``redis``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .base import LockingTokenStore, TokenStore
from .codec import Codec, FernetCodec
from .memory import MemoryTokenStore

if TYPE_CHECKING:
    from .redis import RedisTokenStore
    from .sqlite import SqliteTokenStore

__all__ = [
    "Codec",
    "FernetCodec",
    "LockingTokenStore",
    "MemoryTokenStore",
    "RedisTokenStore",
    "SqliteTokenStore",
    "TokenStore",
]

_LAZY = {"RedisTokenStore": ".redis", "SqliteTokenStore": ".sqlite"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
