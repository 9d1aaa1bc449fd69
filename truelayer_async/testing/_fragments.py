"""Seeded transactions, encoded once (#21).

A connection's bank data never changes once generated, and a transaction's JSON depends
only on the transaction and its spelling (timestamp style, running balance shown or
not). So each list of transactions is rendered and encoded once per spelling; a request
then only picks the entries inside its date window and splices their text into the body.
The bytes on the wire are exactly those of rendering every transaction afresh.
"""

from __future__ import annotations

from datetime import datetime

from . import _render
from ._data import Transaction
from ._encode import RawJSON, encode_now

__all__ = ["EncodedTransactions"]

_Key = tuple[int, bool, str]
_Entry = tuple[tuple[Transaction, ...], tuple[tuple[datetime, RawJSON], ...]]


class EncodedTransactions:
    """One connection's transaction lists, each encoded on first use (under its lock)."""

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
            encoded = tuple(
                (
                    txn.timestamp,
                    encode_now(
                        _render.transaction(txn, running_balance=running_balance, style=style)
                    ),
                )
                for txn in items
            )
            entry = (items, encoded)
            self._lists[key] = entry
        start, end = window
        return [text for stamp, text in entry[1] if start <= stamp <= end]
