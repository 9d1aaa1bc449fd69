"""Seeded transactions, encoded once (#21).

A connection's bank data never changes once generated, and a transaction's JSON depends
only on the transaction and its spelling (timestamp style, running balance shown or
not). So each transaction is encoded the first time a response includes it, once per
spelling; later requests only pick the entries inside their date window and splice the
text into the body. The bytes on the wire are exactly those of encoding afresh.
"""

from __future__ import annotations

from datetime import datetime

from . import _render
from ._data import Transaction
from ._encode import RawJSON

__all__ = ["EncodedTransactions"]

_Key = tuple[int, bool, str]
_Entry = tuple[tuple[Transaction, ...], list[RawJSON | None]]


class EncodedTransactions:
    """One connection's transactions as JSON text (use under the state's lock)."""

    def __init__(self) -> None:
        self._lists: dict[_Key, _Entry] = {}

    def within(
        self,
        items: tuple[Transaction, ...],
        window: tuple[datetime, datetime],
        *,
        running_balance: bool,
        style: str,
    ) -> list[RawJSON]:
        """The encoded ``items`` whose timestamp lies in ``window`` (inclusive), in order;
        ``running_balance`` and ``style`` as for ``_render.transaction``."""
        key = (id(items), running_balance, style)
        entry = self._lists.get(key)
        if entry is None or entry[0] is not items:  # an id can be reused by a new tuple
            entry = (items, [None] * len(items))
            self._lists[key] = entry
        texts = entry[1]
        start, end = window
        picked: list[RawJSON] = []
        for index, txn in enumerate(items):
            if start <= txn.timestamp <= end:
                text = texts[index]
                if text is None:
                    text = texts[index] = _render.transaction(
                        txn, running_balance=running_balance, style=style
                    )
                picked.append(text)
        return picked
