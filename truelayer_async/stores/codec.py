"""Encryption at rest for persistent token stores, and the record format they share.

A :class:`Codec` turns the serialised record into the bytes that are stored and back.
:class:`FernetCodec` (the ``[crypto]`` extra) encrypts with ``cryptography``'s
``MultiFernet``: the first key encrypts, every key decrypts, so keys can be rotated
without losing records.

Record format (SQLite and Redis): the store keeps the version and an "encrypted" flag
next to an opaque payload. The payload is UTF-8 JSON ``{"format": 1, "key": str(key),
"record": record.to_dict()}``, passed through the codec when there is one. The embedded
key binds a payload to its row: a payload copied under another user's key is refused.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..errors import ConfigurationError, StoreCorruptedError, StoreDecryptError, StoreError
from ..tokens import TokenRecord

if TYPE_CHECKING:
    from cryptography.fernet import Fernet, MultiFernet

__all__ = ["Codec", "FernetCodec"]

FORMAT = 1


@runtime_checkable
class Codec(Protocol):
    """Turns a serialised record into stored bytes (``encode``) and back (``decode``).

    ``decode`` must refuse data it did not produce (raise any exception; the store turns
    it into :class:`~truelayer_async.errors.StoreDecryptError`). Neither method may log
    or put its input into an exception message.
    """

    def encode(self, data: bytes) -> bytes: ...

    def decode(self, data: bytes) -> bytes: ...


class FernetCodec:
    """Authenticated encryption with ``cryptography.fernet.MultiFernet``.

    ``keys`` is one Fernet key or a sequence of them (url-safe base64 of 32 bytes, as
    made by :meth:`generate_key`). The first key encrypts; every key decrypts. To rotate:
    put the new key first, keep the old ones, re-encrypt the records (the stores'
    ``reencrypt()``, or :meth:`rotate` in your own store), then drop the old keys.

    Needs the ``[crypto]`` extra (``pip install 'truelayer-async[crypto]'``).
    """

    def __init__(self, keys: str | bytes | Sequence[str | bytes]) -> None:
        self._count = 0
        try:
            from cryptography.fernet import MultiFernet
        except ImportError:
            raise ConfigurationError(
                "FernetCodec needs the cryptography package: pip install 'truelayer-async[crypto]'"
            ) from None
        fernets = _fernets(keys)
        del keys  # keep key material out of any traceback's frame locals
        if fernets is None:
            raise ConfigurationError(
                "FernetCodec needs one or more valid Fernet keys "
                "(32 url-safe base64-encoded bytes; see FernetCodec.generate_key())"
            )
        self._fernet: MultiFernet = MultiFernet(fernets)
        self._count = len(fernets)

    def __repr__(self) -> str:
        return f"FernetCodec({self._count} key{'s' if self._count != 1 else ''})"

    @staticmethod
    def generate_key() -> str:
        """A new random Fernet key. Keep it out of the store and out of source control."""
        try:
            from cryptography.fernet import Fernet
        except ImportError:
            raise ConfigurationError(
                "FernetCodec needs the cryptography package: pip install 'truelayer-async[crypto]'"
            ) from None
        return Fernet.generate_key().decode("ascii")

    def encode(self, data: bytes) -> bytes:
        """Encrypt ``data`` with the first key."""
        return self._fernet.encrypt(data)

    def decode(self, data: bytes) -> bytes:
        """Decrypt ``data`` with any key; :class:`StoreDecryptError` if none fits."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(data)
        except (InvalidToken, TypeError, ValueError):
            pass  # raise outside the except block: keep the data out of the chain
        raise StoreDecryptError(
            "a stored record could not be decrypted: no configured key fits, or the "
            "data was altered; it was left untouched"
        )

    def rotate(self, data: bytes) -> bytes:
        """Re-encrypt ``data`` (made with any key) under the first key."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.rotate(data)
        except (InvalidToken, TypeError, ValueError):
            pass  # raise outside the except block: keep the data out of the chain
        raise StoreDecryptError(
            "a stored record could not be decrypted for rotation; it was left untouched"
        )


def _fernets(keys: str | bytes | Sequence[str | bytes]) -> list[Fernet] | None:
    from cryptography.fernet import Fernet

    key_list = [keys] if isinstance(keys, (str, bytes)) else list(keys)
    fernets: list[Fernet] = []
    for key in key_list:
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            return None  # no exception escapes: its message or cause could hold the key
    return fernets or None


# -- the record format shared by SqliteTokenStore and RedisTokenStore ----------------------


def dump_record(key: str, record: TokenRecord, codec: Codec | None) -> tuple[bytes, bool]:
    """The payload to store for ``record`` under ``key`` (``str(TokenKey)``); encrypted?"""
    if record.version < 1:
        raise StoreError("a record's version must be at least 1")
    document = {"format": FORMAT, "key": key, "record": record.to_dict()}
    plain = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
    if codec is None:
        return plain, False
    return codec.encode(plain), True


def safe_dump_record(
    key: str, record: TokenRecord, codec: Codec | None
) -> tuple[bytes, bool] | StoreError:
    """:func:`dump_record`, with any failure *returned* as a cause-free StoreError."""
    failed: StoreError
    try:
        return dump_record(key, record, codec)
    except Exception:  # no cause or context: the codec's exception could hold the record
        failed = StoreError("the token store codec failed to encode a record")
    return failed


def reencrypt_error(undecryptable: int, unreadable: int) -> StoreError | None:
    """What ``reencrypt()`` raises after skipping records it could not read."""
    if undecryptable:
        return StoreDecryptError(
            f"{undecryptable} token record(s) could not be decrypted and "
            f"{unreadable} could not be read; they were left untouched"
        )
    if unreadable:
        return StoreCorruptedError(
            f"{unreadable} token record(s) could not be read; they were left untouched"
        )
    return None


def load_record(
    key: str,
    version: object,
    encrypted: bool,
    payload: bytes,
    codec: Codec | None,
    *,
    accept_plaintext: bool = False,
) -> TokenRecord | StoreError:
    """Decode the payload stored under ``key``, or *return* (not raise) the error to raise.

    Returning the error lets the caller drop the payload before raising, so neither the
    exception, its cause, nor the frames of its traceback hold record values.
    """
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return StoreCorruptedError(
            "a stored token record has no valid version; it was left untouched"
        )
    if encrypted and codec is None:
        return StoreDecryptError(
            "a stored token record is encrypted but this store has no codec; it was left untouched"
        )
    if not encrypted and codec is not None and not accept_plaintext:
        return StoreDecryptError(
            "a stored token record is not encrypted but this store has a codec; "
            "run reencrypt() to encrypt existing records. It was left untouched"
        )
    plain: bytes | None = payload
    if encrypted and codec is not None:
        try:
            plain = codec.decode(payload)
        except Exception:
            plain = None
        if not isinstance(plain, bytes):
            return StoreDecryptError(
                "a stored token record could not be decrypted (wrong or removed key, or "
                "altered data); it was left untouched"
            )
    return _parse(key, version, plain)


def _parse(key: str, version: int, plain: bytes | None) -> TokenRecord | StoreError:
    corrupted = StoreCorruptedError("a stored token record is unreadable; it was left untouched")
    try:
        document: Any = json.loads(plain or b"")
    except Exception:  # ValueError, UnicodeDecodeError, RecursionError
        return corrupted
    if (
        not isinstance(document, dict)
        or document.get("format") != FORMAT
        or not isinstance(document.get("record"), dict)
    ):
        return corrupted
    if document.get("key") != key:
        return StoreCorruptedError(
            "a stored token record belongs to another key (it was copied or moved); "
            "it was left untouched"
        )
    record: TokenRecord | None = None
    with contextlib.suppress(StoreCorruptedError):  # dropped: its frames hold the values
        record = TokenRecord.from_dict(document["record"])
    if record is None:
        return corrupted
    if record.version != version:
        return StoreCorruptedError(
            "a stored token record's version does not match its row; it was left untouched"
        )
    return record
