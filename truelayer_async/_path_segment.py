"""Ids that go into a URL path: checked so that none can leave its segment."""

from __future__ import annotations

import functools
import unicodedata
from urllib.parse import quote

from .errors import InvalidParameterError

__all__ = ["path_segment"]

# Characters that end a segment or that some server or proxy decodes into one that does:
# "/" and "\" (a separator on some servers), "?" and "#" (query, fragment), and "%" (an
# encoded "/", "." or "%" that a double-decoding hop would turn back into one).
_LEAVES_SEGMENT = frozenset("/\\?#%")


def path_segment(value: object, name: str) -> str:
    """``value`` percent-encoded as one URL path segment, or ``InvalidParameterError``.

    Refused before any request: a non-string, empty, ``.`` or ``..`` (also after Unicode
    compatibility normalisation, which maps e.g. fullwidth dots and slashes to ASCII),
    and any value holding ``/ \\ ? # %`` or a control or other non-printable character.
    The message names the parameter, never the value.
    """
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(f"{name} must be a non-empty string")
    return _checked(value, name)


@functools.lru_cache(maxsize=4096)
def _checked(value: str, name: str) -> str:
    # Cached: a batch asks for the same ids again and again (an account's balance, then
    # its transactions), and the checks cost ten times the lookup. A refusal is raised
    # again each time (lru_cache keeps only results); ids are not secrets.
    folded = unicodedata.normalize("NFKC", value)
    if (
        folded in (".", "..")
        or not value.isprintable()
        or not _LEAVES_SEGMENT.isdisjoint(value)
        or not _LEAVES_SEGMENT.isdisjoint(folded)
    ):
        raise InvalidParameterError(
            f"{name} is not a valid id: '.', '..', '/', '\\', '?', '#', '%' and control "
            "characters are refused"
        )
    return quote(value, safe="")
