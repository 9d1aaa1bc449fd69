"""FernetCodec, user-written codecs, and what the stores import (ST-04)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import sys

import pytest

from tests.support.processes import child_env
from tests.support.stores import (
    Harness,
    key_for,
    make_record,
    scan_for,
    secrets_of,
)
from truelayer_async.errors import ConfigurationError, StoreDecryptError, StoreError
from truelayer_async.stores import Codec, FernetCodec, RedisTokenStore


def test_round_trip_and_rotation_helper() -> None:
    old, new = FernetCodec.generate_key(), FernetCodec.generate_key()
    token = FernetCodec(old).encode(b"payload")
    assert token != b"payload"
    both = FernetCodec([new, old])
    assert both.decode(token) == b"payload"
    rotated = both.rotate(token)
    assert FernetCodec(new).decode(rotated) == b"payload"
    with pytest.raises(StoreDecryptError):
        FernetCodec(old).decode(rotated)
    assert FernetCodec(new.encode()).decode(both.encode(b"x")) == b"x"  # bytes keys too


@pytest.mark.parametrize("data", [b"", b"garbage", b"gAAAAA" + b"A" * 80])
def test_undecryptable_data(data: bytes) -> None:
    codec = FernetCodec(FernetCodec.generate_key())
    with pytest.raises(StoreDecryptError) as caught:
        codec.decode(data)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    with pytest.raises(StoreDecryptError):
        codec.rotate(data)


def test_bad_keys_are_configuration_errors_that_do_not_echo_the_key(sentinel: str) -> None:
    for keys in ([], [sentinel], [FernetCodec.generate_key(), sentinel], sentinel):
        with pytest.raises(ConfigurationError) as caught:
            FernetCodec(keys)
        assert scan_for(caught.value, [sentinel]) == []


def test_repr_shows_no_key() -> None:
    key = FernetCodec.generate_key()
    codec = FernetCodec([key, FernetCodec.generate_key()])
    assert repr(codec) == "FernetCodec(2 keys)"
    assert key not in repr(codec)
    assert isinstance(codec, Codec)


def test_missing_cryptography_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography.fernet", None)
    with pytest.raises(ConfigurationError, match=r"truelayer-async\[crypto\]"):
        FernetCodec("x")
    with pytest.raises(ConfigurationError, match=r"truelayer-async\[crypto\]"):
        FernetCodec.generate_key()


def test_missing_redis_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ConfigurationError, match=r"truelayer-async\[redis\]"):
        RedisTokenStore("redis://127.0.0.1:1/0")


def test_importing_the_sdk_loads_no_optional_backend() -> None:
    code = (
        "import sys, truelayer_async, truelayer_async.stores as s\n"
        "assert 'redis' not in sys.modules, 'redis'\n"
        "assert 'cryptography' not in sys.modules, 'cryptography'\n"
        "assert 'sqlite3' not in sys.modules, 'sqlite3'\n"
        "assert s.SqliteTokenStore.__name__ == 'SqliteTokenStore'\n"
        "assert s.RedisTokenStore.__name__ == 'RedisTokenStore'\n"
        "assert 'redis' not in sys.modules, 'redis on attribute access'\n"
        "from truelayer_async.stores import *\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# -- a codec written by a user ------------------------------------------------------------


class HmacBase64Codec:
    """Not encryption, just a user codec: base64 plus an HMAC that decode checks."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def encode(self, data: bytes) -> bytes:
        mac = hmac.new(self._secret, data, hashlib.sha256).digest()
        return base64.b64encode(mac + data)

    def decode(self, data: bytes) -> bytes:
        raw = base64.b64decode(data, validate=True)
        mac, body = raw[:32], raw[32:]
        if not hmac.compare_digest(mac, hmac.new(self._secret, body, hashlib.sha256).digest()):
            raise ValueError("bad mac")
        return body


class BrokenCodec:
    def encode(self, data: bytes) -> bytes:
        raise RuntimeError(f"cannot encode {data!r}")

    def decode(self, data: bytes) -> bytes:
        raise RuntimeError(f"cannot decode {data!r}")


@pytest.mark.asyncio
async def test_a_user_codec_plugs_in(persistent: Harness) -> None:
    codec = HmacBase64Codec(b"k1")
    assert isinstance(codec, Codec)
    store = persistent.with_codec(codec)
    await store.set(key_for(), make_record(1))
    assert secrets_of(await store.get(key_for())) == ("at-1", "rt-1")
    with pytest.raises(StoreDecryptError):
        await persistent.with_codec(HmacBase64Codec(b"k2")).get(key_for())


@pytest.mark.asyncio
async def test_a_failing_codec_never_leaks_or_writes(persistent: Harness, sentinel: str) -> None:
    good = HmacBase64Codec(b"k1")
    await persistent.with_codec(good).set(key_for(), make_record(1, refresh=sentinel))
    before = await persistent.raw_get(key_for())
    broken = persistent.with_codec(BrokenCodec())
    with pytest.raises(StoreDecryptError) as read_error:
        await broken.get(key_for())
    with pytest.raises(StoreError) as write_error:
        await broken.set(key_for(), make_record(2, refresh=sentinel))
    assert await persistent.raw_get(key_for()) == before
    for error in (read_error.value, write_error.value):
        assert scan_for(error, [sentinel]) == []
