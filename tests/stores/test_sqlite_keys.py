"""SqliteTokenStore.keys(): what is stored, without reading any record."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.stores import NAMESPACE, key_for, make_record
from truelayer_async import TokenKey, TokenType
from truelayer_async.stores import FernetCodec, SqliteTokenStore
from truelayer_async.stores import sqlite as sqlite_module

pytestmark = pytest.mark.asyncio

KEYS = [
    key_for("alice"),
    key_for(None),
    key_for("bob", TokenType.PAYMENTS),
    key_for("odd|name u:x|y"),  # the separators in a user name
    TokenKey(NAMESPACE, TokenType.PAYMENTS, None, ("payments", "verification")),
    TokenKey("http://127.0.0.1:8765#sandbox-truelayer-async", TokenType.DATA, "alice"),
]


async def test_keys_lists_every_stored_key(tmp_path: Path) -> None:
    async with SqliteTokenStore(tmp_path / "tokens.db") as store:
        assert await store.keys() == []
        for key in KEYS:
            await store.set(key, make_record())
        listed = await store.keys()
        assert sorted(listed, key=str) == sorted(KEYS, key=str)
        assert all(isinstance(key, TokenKey) for key in listed)
        await store.delete(key_for("alice"))
        assert key_for("alice") not in await store.keys()


async def test_keys_never_reads_a_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Encrypted records are listed by a store that cannot decrypt them, and no record
    is decoded on the way."""
    path = tmp_path / "tokens.db"
    async with SqliteTokenStore(path, codec=FernetCodec(FernetCodec.generate_key())) as writer:
        await writer.set(key_for("alice"), make_record(access="at-secret", refresh="rt-secret"))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("keys() decoded a record")

    monkeypatch.setattr(sqlite_module, "load_record", refuse)
    async with SqliteTokenStore(path, codec=FernetCodec(FernetCodec.generate_key())) as other:
        listed = await other.keys()
    assert listed == [key_for("alice")]
    assert "secret" not in repr(listed)


async def test_keys_skips_rows_it_did_not_write(tmp_path: Path) -> None:
    path = tmp_path / "tokens.db"
    async with SqliteTokenStore(path) as store:
        await store.set(key_for("alice"), make_record())
        with sqlite3.connect(path) as conn:
            conn.execute(
                "INSERT INTO truelayer_tokens (key, version, encrypted, data) VALUES (?, 1, 0, ?)",
                ("not a token key", b"{}"),
            )
            conn.execute(
                "INSERT INTO truelayer_tokens (key, version, encrypted, data) VALUES (?, 1, 0, ?)",
                (f"{NAMESPACE}|refresh|u:x|-", b"{}"),
            )
        conn.close()
        assert await store.keys() == [key_for("alice")]
