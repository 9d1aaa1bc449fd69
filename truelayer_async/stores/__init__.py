"""Token stores: where tokens live between requests.

``MemoryTokenStore`` is the default. Persistent stores for one machine (SQLite) and for
many (Redis) live in their own modules.
"""

from .base import LockingTokenStore, TokenStore
from .memory import MemoryTokenStore

__all__ = ["LockingTokenStore", "MemoryTokenStore", "TokenStore"]
