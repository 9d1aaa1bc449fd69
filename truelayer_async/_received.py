"""A response body that arrived whole with the response head.

The SDK's aiohttp transport hands such a body over as a :class:`ReceivedBody` (its
connection is already back in the pool), and the Requester takes the bytes from it
directly: nothing to stream, nothing to close. To anything else it is an ordinary
one-chunk ``httpx.AsyncByteStream``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

__all__ = ["ReceivedBody"]


class ReceivedBody(httpx.AsyncByteStream):
    """A body already in memory, iterated as one chunk."""

    __slots__ = ("body",)

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.body:
            yield self.body
