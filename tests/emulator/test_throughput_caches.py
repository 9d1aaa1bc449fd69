"""The emulator's per-request shortcuts (#21) answer exactly what the long way did.

The encoder against ``json.dumps``; transactions written straight to JSON against the
general encoder of the same fields; spliced, cached transaction lists against a cold
emulator; remembered token claims against the HMAC check they skip.
"""

from __future__ import annotations

import enum
import gzip
import json
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import jwt
import pytest

from tests.support.emulator import START
from tests.support.served import bearer
from truelayer_async.testing import FakeClock, FakeTrueLayer, _render, _tokens
from truelayer_async.testing._data import Transaction
from truelayer_async.testing._encode import RawJSON, dumps
from truelayer_async.testing._timefmt import iso_milli_z, iso_naive, iso_offset

from .helpers import API

# -- the encoder -----------------------------------------------------------------------


class Colour(enum.IntEnum):
    RED = 1


class Name(str):
    pass


PLAIN_VALUES: list[Any] = [
    {"a": [1, 2, {"b": None}], "c": True, "d": False, "e": "x"},
    ['quote " backslash \\ slash / newline \n tab \t nul \x00', "émoji 🦊", "\u2028"],
    {"nested": {"deeper": [[], {}, [[[]]]]}, "big": 10**30, "neg": -7},
    ("a", "tuple"),
    OrderedDict([("z", 1), ("a", 2)]),
    {"enum": Colour.RED, Name("key"): Name("value")},
]


@pytest.mark.parametrize("value", PLAIN_VALUES)
def test_dumps_matches_the_stdlib_for_plain_json(value: Any) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert dumps(value) == expected.encode()


def test_dumps_writes_decimals_digit_for_digit_and_splices_raw_json() -> None:
    body = {"amount": Decimal("-0.10"), "big": Decimal("12345678901234567890.123"), "r": None}
    body["r"] = RawJSON('{"already":"json"}')
    assert dumps(body) == (
        b'{"amount":-0.10,"big":12345678901234567890.123,"r":{"already":"json"}}'
    )


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0.1, TypeError),
        (Decimal("NaN"), ValueError),
        (Decimal("Infinity"), ValueError),
        ({1: "x"}, TypeError),
        ({"set": {1}}, TypeError),
        (object(), TypeError),
    ],
)
def test_dumps_still_refuses_what_json_cannot_say_exactly(value: Any, error: type) -> None:
    with pytest.raises(error):
        dumps(value)


# -- transactions written straight to JSON ----------------------------------------------


def _as_dict(txn: Transaction, *, running_balance: bool, style: str) -> dict[str, Any]:
    """The transaction's fields as the Data API spells them (the dict the emulator used
    to build before encoding)."""
    spell = iso_milli_z if txn.pending else iso_naive if style == "naive" else iso_offset
    stamp = spell(txn.timestamp)
    body: dict[str, Any] = {
        "transaction_id": txn.transaction_id,
        "normalised_provider_transaction_id": txn.normalised_provider_transaction_id,
        "provider_transaction_id": txn.provider_transaction_id,
        "timestamp": stamp,
        "description": txn.description,
        "amount": txn.amount,
        "currency": "GBP",
        "transaction_type": txn.transaction_type,
        "transaction_category": txn.transaction_category,
        "transaction_classification": list(txn.transaction_classification),
    }
    if txn.merchant_name:
        body["merchant_name"] = txn.merchant_name
    if running_balance and txn.running_balance is not None:
        body["running_balance"] = {"amount": txn.running_balance, "currency": "GBP"}
    body["meta"] = dict(txn.meta)
    return body


ODD = Transaction(
    transaction_id='id "quoted" \\ back',
    normalised_provider_transaction_id="txn-é",
    provider_transaction_id="P\n1",
    timestamp=datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=1))),
    description="Café 🦊 \u2028 \x01",
    amount=Decimal("-1234.50"),
    transaction_type="DEBIT",
    transaction_category="PURCHASE",
    transaction_classification=(),
    merchant_name=None,
    running_balance=None,
    meta={},
)


def _all_transactions() -> list[Transaction]:
    fake = FakeTrueLayer(clock=FakeClock(START))
    found: list[Transaction] = [ODD]
    for username, password in (("john", "doe"), ("john2", "iban"), ("john3", "cards")):
        fake.create_connection(username=username, password=password)
    for connection in fake.connections:
        data = connection.data()
        for item in (*data.accounts, *(data.cards or ())):
            found += [*item.transactions, *item.pending]
    return found


@pytest.mark.parametrize("style", ["offset", "naive"])
@pytest.mark.parametrize("running_balance", [True, False])
def test_transaction_json_is_the_encoded_fields(style: str, running_balance: bool) -> None:
    transactions = _all_transactions()
    assert any(t.pending for t in transactions) and any(t.running_balance for t in transactions)
    for txn in transactions:
        text = _render.transaction(txn, running_balance=running_balance, style=style)
        expected = dumps(_as_dict(txn, running_balance=running_balance, style=style))
        assert text.encode() == expected, txn.transaction_id


# -- cached, spliced transaction lists ----------------------------------------------------


async def _get(fake: FakeTrueLayer, token: str, path: str) -> httpx.Response:
    async with fake.http_client() as http:
        response = await http.get(f"{API}{path}", headers=bearer(token))
        assert response.status_code == 200, response.text
        return response


# START is 2024-05-01: a fortnight, the default 90 days, an open start, all 184 days.
WINDOWS = ["?from=2024-04-01&to=2024-04-15", "", "?to=2024-04-10", "?from=2023-01-01"]


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["accounts", "cards"])
async def test_warm_transaction_lists_equal_a_cold_emulators(kind: str) -> None:
    # One emulator answers a narrow window first (so its cache holds a part of the list),
    # then wider ones; each answer must equal a fresh emulator's first answer.
    warm = FakeTrueLayer(clock=FakeClock(START))
    token = warm.create_connection()["access_token"]
    data = warm.connection(token).data()
    resource = (data.accounts if kind == "accounts" else data.cards or ())[0].account_id
    for window in WINDOWS:
        for suffix in ("transactions", "transactions/pending"):
            path = f"/data/v1/{kind}/{resource}/{suffix}{window}"
            cold = FakeTrueLayer(clock=FakeClock(START))
            cold_token = cold.create_connection()["access_token"]
            expected = (await _get(cold, cold_token, path)).content
            assert (await _get(warm, token, path)).content == expected, path
            assert (await _get(warm, token, path)).content == expected, path


@pytest.mark.asyncio
async def test_the_batch_shows_running_balances_only_on_booked_transactions() -> None:
    fake = FakeTrueLayer(clock=FakeClock(START))
    token = fake.create_connection()["access_token"]
    account = fake.connection(token).data().accounts[0].account_id
    # The transactions endpoint caches the list with running balances first.
    listed = (await _get(fake, token, f"/data/v1/accounts/{account}/transactions")).json()
    assert all("running_balance" in t for t in listed["results"])
    async with fake.http_client() as http:
        await http.post(
            f"{API}/data/v1/batch/transactions", headers=bearer(token), json={"pending": True}
        )
    batch = (await _get(fake, token, "/data/v1/batch/results")).json()["results"]["accounts"][0]
    assert batch["transactions"] == listed["results"]
    assert batch["pending_transactions"]
    assert all("running_balance" not in t for t in batch["pending_transactions"])


@pytest.mark.asyncio
async def test_gzip_is_level_one(fake: FakeTrueLayer) -> None:
    token = fake.create_connection()["access_token"]
    account = fake.connection(token).data().accounts[0].account_id
    async with fake.http_client() as http:
        request = http.build_request(
            "GET",
            f"{API}/data/v1/accounts/{account}/transactions",
            headers={**bearer(token), "Accept-Encoding": "gzip"},
        )
        response = await http.send(request, stream=True)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
    # The gzip header's XFL byte says how hard the compressor tried: 4 = fastest.
    assert raw[8] == 4
    assert json.loads(gzip.decompress(raw))["results"]


# -- remembered token claims --------------------------------------------------------------


def test_a_token_is_verified_once(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = _tokens.TokenSigner()
    token, jti = signer.mint({"exp": 10, "sub": "x", "scope": ["a"]})
    first = signer.read(token)
    assert first is not None and first["jti"] == jti

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("verified twice")

    monkeypatch.setattr(jwt, "decode", refuse)
    first["sub"] = "changed by a caller"
    assert signer.read(token) == {"exp": 10, "sub": "x", "scope": ["a"], "jti": jti}


def test_remembered_tokens_do_not_vouch_for_others() -> None:
    signer, other = _tokens.TokenSigner(), _tokens.TokenSigner()
    token, _ = signer.mint({"exp": 10, "sub": "x"})
    assert signer.read(token) is not None
    header, payload, signature = token.split(".")
    assert signer.read(f"{header}.{payload}.{signature[:-2]}AA") is None
    assert signer.read(token + " ") is None
    assert other.read(token) is None


def test_the_memo_is_bounded_and_forgotten_tokens_still_verify(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_tokens, "MEMO_SIZE", 3)
    signer = _tokens.TokenSigner()
    tokens = [signer.mint({"exp": 10, "n": n})[0] for n in range(5)]
    for token in tokens:
        assert signer.read(token) is not None
    assert len(signer._verified) == 3
    read = signer.read(tokens[0])
    assert read is not None and read["n"] == 0
