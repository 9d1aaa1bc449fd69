"""Removing known secrets from text a server sent back, in whatever form it echoed them.

A gateway that echoes the rejected request puts the client secret in its error text
percent-encoded (``%2B`` or ``%2b``, ``+`` for a space, even ``%252B`` twice encoded),
or JSON-escaped (``\\/``, ``\\u00e9``). Each character of a secret is matched in any of those
forms, mixed freely, so an exact-match replace is not the only line of defence.

No regular expression is built from a secret: ``re`` caches compiled patterns (and with
them the secret) for the life of the process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from ._secret import Secret

__all__ = ["redact"]

#: Shorter values are not real credentials; replacing them would garble ordinary text.
MIN_REDACTED = 8
REDACTED = "[redacted]"

_ENCODED = re.compile(r"[%\\+]")
_ESCAPES = frozenset("%\\+")  # what every encoded form of a character starts with
_ANCHOR = re.compile(r"[A-Za-z0-9_.-]{4}")
_WIDEST = 20  # the most characters one secret character takes: 4 UTF-8 bytes as "%25XX"
_HEX = frozenset("0123456789abcdefABCDEF")
_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n"}
_JSON_SHORT.update({"\r": "\\r", "\t": "\\t"})


def _hex_at(text: str, i: int, byte: int) -> int:
    """End of ``byte`` as two hex digits (either case) at ``i``, or -1."""
    pair = text[i : i + 2]
    if len(pair) == 2 and pair[0] in _HEX and pair[1] in _HEX and int(pair, 16) == byte:
        return i + 2
    return -1


def _percent_ends(text: str, i: int, ch: str) -> Iterable[int]:
    """Ends of ``ch`` percent-encoded (UTF-8, once or twice) at ``i``."""
    for prefix in ("%", "%25"):
        j = i
        for byte in ch.encode("utf-8", "surrogatepass"):
            if not text.startswith(prefix, j):
                break
            j = _hex_at(text, j + len(prefix), byte)
            if j < 0:
                break
        else:
            yield j


def _json_ends(text: str, i: int, ch: str) -> Iterable[int]:
    """Ends of ``ch`` JSON-escaped (short form, ``\\uXXXX`` or a surrogate pair) at ``i``."""
    short = _JSON_SHORT.get(ch)
    if short is not None and text.startswith(short, i):
        yield i + len(short)
    units = ch.encode("utf-16-be", "surrogatepass")
    j = i
    for k in range(0, len(units), 2):
        if not text.startswith(("\\u", "\\U"), j):
            return
        j = _hex_at(text, j + 2, units[k])
        j = -1 if j < 0 else _hex_at(text, j, units[k + 1])
        if j < 0:
            return
    yield j


def _char_ends(text: str, i: int, ch: str) -> set[int]:
    seen = text[i : i + 1]
    if seen not in _ESCAPES:  # the usual case: only the raw character can match here
        return {i + 1} if seen == ch else set()
    ends: set[int] = set()
    if seen == ch:
        ends.add(i + 1)
    if ch == " " and text.startswith("+", i):  # form encoding
        ends.add(i + 1)
    if text.startswith("%", i):
        ends.update(_percent_ends(text, i, ch))
        if ch == " ":  # form-encoded ("+"), then percent-encoded again ("%2B")
            ends.update(_percent_ends(text, i, "+"))
    if text.startswith("\\", i):
        ends.update(_json_ends(text, i, ch))
    return ends


def _match_end(text: str, start: int, secret: str) -> int:
    """Where an encoding of ``secret`` starting at ``start`` ends (the longest), or -1."""
    ends = {start}
    for ch in secret:
        ends = {end for i in ends for end in _char_ends(text, i, ch)}
        if not ends:
            return -1
    return max(ends)


def _starts(text: str, secret: str) -> Iterator[int]:
    """Where an encoded form of ``secret`` may begin in ``text``, in order.

    URL and JSON encoders never escape ASCII letters, digits, ``_ . -``: the first run of
    four of them in the secret (its anchor) appears raw in every form. Each place the
    anchor occurs bounds where the form can begin (each character before the anchor
    takes at most ``_WIDEST`` characters), so a long text costs a C-speed ``find`` plus
    a few tries per occurrence. A secret without an anchor is tried at every "%", "\\",
    "+" and at its first character.
    """
    anchor = _ANCHOR.search(secret)
    if anchor is None:
        first = re.escape(secret[0])  # a one-character class: no secret cached by ``re``
        yield from (m.start() for m in re.finditer(f"[%\\\\+{first}]", text))
        return
    run, before = anchor.group(), anchor.start()
    at = text.find(run)
    while at >= 0:
        yield from range(max(0, at - before * _WIDEST), at - before + 1)
        at = text.find(run, at + 1)


def _redact_text(text: str, secret: str) -> str:
    text = text.replace(secret, REDACTED)  # the raw form, at C speed
    if _ENCODED.search(text) is None:
        return text  # no "%", "\\" or "+": no other form can be there
    out: list[str] = []
    done = 0
    for start in _starts(text, secret):
        if start < done:
            continue  # inside a form already replaced
        end = _match_end(text, start, secret)
        if end >= 0:
            out.append(text[done:start])
            out.append(REDACTED)
            done = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def redact(value: Any, secrets: tuple[Secret, ...]) -> Any:
    """``value`` (a str, or tuples, lists and dicts of them) with every secret of
    ``MIN_REDACTED`` characters or more replaced by ``[redacted]``, in any encoding."""
    if isinstance(value, str):
        for secret in secrets:
            if len(secret) >= MIN_REDACTED:
                value = _redact_text(value, secret.get_secret_value())
        return value
    if isinstance(value, tuple | list):
        return type(value)(redact(v, secrets) for v in value)
    if isinstance(value, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    return value
