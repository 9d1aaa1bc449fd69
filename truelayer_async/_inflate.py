"""Decompressing a response body a slice at a time, never past a size cap.

httpx decodes a whole received chunk at once: one 64 KiB chunk of a gzip bomb becomes
tens of MiB before any cap can look at it. :class:`Inflater` asks zlib for at most
``_SLICE`` bytes a call and stops once the cap is passed, so the memory a body can take
is bounded by the cap, whatever its compression ratio.
"""

from __future__ import annotations

import zlib

__all__ = ["InflateError", "Inflater", "inflater_for"]

_SLICE = 64 * 1024
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class InflateError(Exception):
    """The compressed body is corrupt."""


class Inflater:
    """Inflates one gzip or deflate body; produces at most ``limit + 1`` bytes in all."""

    def __init__(self, encoding: str, limit: int) -> None:
        self._deflate = encoding == "deflate"
        # "deflate" is meant to be zlib-wrapped but is often raw: try zlib first, as httpx does.
        self._obj = zlib.decompressobj(zlib.MAX_WBITS if self._deflate else _GZIP_WBITS)
        self._first = True
        self._room = limit + 1  # one byte past the cap is enough to know it was passed

    def feed(self, data: bytes) -> list[bytes]:
        """The decompressed bytes of ``data``; fewer once the cap is passed."""
        out: list[bytes] = []
        while self._room > 0 and not self._obj.eof:
            piece = self._decompress(data, min(self._room, _SLICE))
            data = self._obj.unconsumed_tail
            if not piece and not data:
                break  # needs more input
            self._room -= len(piece)
            out.append(piece)
        return out

    def _decompress(self, data: bytes, max_length: int) -> bytes:
        first, self._first = self._first, False
        try:
            return self._obj.decompress(data, max_length)
        except zlib.error:
            pass  # leave the except block: nothing to chain
        if not (first and self._deflate):
            raise InflateError("the compressed body is corrupt")
        self._obj = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate
        return self._decompress(data, max_length)


def inflater_for(content_encoding: str | None, limit: int) -> Inflater | None:
    """An Inflater for a single ``gzip`` or ``deflate`` encoding; None for anything else
    (no encoding, identity, or one the caller leaves to httpx)."""
    if not content_encoding:
        return None
    encoding = content_encoding.strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        return Inflater("deflate" if encoding == "deflate" else "gzip", limit)
    return None
