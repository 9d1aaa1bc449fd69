"""reliability.md §2.6 PR: parsing and data integrity (one test per id; PR-06 is n/a).

PR-01's property tests (``st.binary()`` through ``loads`` and through a data call) live in
test_properties.py.
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from tests.support.fixture_files import FIXTURES
from tests.support.reliability import (
    ACCOUNTS_URL,
    PROPERTY,
    Guard,
    Secrets,
    TokenServer,
    connect,
)
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async._converter import structure_results
from truelayer_async._http import TOKEN_MAX_BYTES
from truelayer_async._json import loads
from truelayer_async.models import Transaction

TXNS = f"{ACCOUNTS_URL}/acc-1/transactions"


def test_pr01_one_decode_function_maps_every_failure() -> None:
    for body in (b"[" * 100_000, b"1" * 5000, '"x"'.encode("utf-16"), b"{", b"", b"NaN"):
        with pytest.raises(e.MalformedResponseError):
            loads(body)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("application/problem+json", True),
        ("application/vnd.truelayer+json", True),
        ("text/html", False),
        ("text/plain", False),
        ("", False),
    ],
)
async def test_pr02_json_only_for_json_content_types(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    respx_mock: respx.MockRouter,
    content_type: str,
    ok: bool,
) -> None:
    await connect(tl, secrets)
    body = b'{"results": [], "status": "Succeeded"}'
    headers = {"content-type": content_type} if content_type else {}
    respx_mock.get(ACCOUNTS_URL).mock(
        return_value=httpx.Response(200, content=body, headers=headers)
    )
    if ok:
        assert await tl.data.accounts(user="u") == []
    else:
        with pytest.raises(e.MalformedResponseError):
            await tl.data.accounts(user="u")


def test_pr03_money_is_decimal_never_float() -> None:
    assert loads(b'{"amount": 0.1}') == {"amount": Decimal("0.1")}
    assert loads(b'{"amount": 12345678901234567.89}')["amount"] == Decimal("12345678901234567.89")
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        with pytest.raises(e.MalformedResponseError):
            loads(b'{"amount": ' + constant + b"}")


@PROPERTY
@given(st.decimals(places=2, allow_nan=False, allow_infinity=False))
def test_pr03_decimals_round_trip_exactly(value: Decimal) -> None:
    assert loads(f'{{"amount": {value}}}'.encode())["amount"] == value


BASE = loads((FIXTURES / "transactions.json").read_bytes())["results"][0]
MUTATIONS = st.sampled_from(["drop", "swap", "add", "nan"])


@PROPERTY
@given(
    field=st.sampled_from(sorted(BASE)),
    mutation=MUTATIONS,
    junk=st.one_of(
        st.integers(), st.text(max_size=5), st.none(), st.lists(st.integers(), max_size=2)
    ),
)
def test_pr04_mutated_models_validate_or_name_the_path(
    field: str, mutation: str, junk: Any
) -> None:
    item = copy.deepcopy(BASE)
    if mutation == "drop":
        item.pop(field)
    elif mutation == "swap":
        item[field] = junk
    elif mutation == "add":
        item[f"new_{field}"] = junk
    else:
        item[field] = "NaN"
    outcome = _structure(item)
    if isinstance(outcome, e.MalformedResponseError):
        assert outcome.path is not None and outcome.path.startswith("$.results[0]")
        return
    assert isinstance(outcome, Transaction)
    if mutation == "add":
        assert outcome.transaction_id == BASE["transaction_id"]  # unknown keys ignored


def _structure(item: dict[str, Any]) -> Transaction | e.MalformedResponseError:
    try:
        [txn] = structure_results({"results": [item]}, Transaction, status_code=200)
    except e.MalformedResponseError as exc:
        return exc
    return txn


def test_pr04_unknown_enum_values_are_kept() -> None:
    item = copy.deepcopy(BASE) | {"transaction_category": "BRAND_NEW", "transaction_type": "X"}
    [txn] = structure_results({"results": [item]}, Transaction, status_code=200)
    assert (txn.transaction_category, txn.transaction_type) == ("BRAND_NEW", "X")


@pytest.mark.asyncio
@pytest.mark.parametrize(("extra", "ok"), [(0, True), (1, False)])
async def test_pr05_token_endpoint_capped_at_1_mib(
    tl: Session, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter, extra: int, ok: bool
) -> None:
    """Endless streams and the memory bound are §4 #11 (test_bad_inputs.py)."""
    head = b'{"access_token":"at","token_type":"Bearer","expires_in":60,"pad":"'
    pad = b"x" * (TOKEN_MAX_BYTES - len(head) - 2 + extra)
    respx_mock.post("https://auth.truelayer-sandbox.com/connect/token").mock(
        return_value=httpx.Response(
            200, content=head + pad + b'"}', headers={"content-type": "application/json"}
        )
    )
    assert TOKEN_MAX_BYTES == 1024 * 1024
    if ok:
        assert await tl.auth.exchange_code(secrets.code, user="u")
    else:
        with guard.raises(e.ResponseTooLargeError):
            await tl.auth.exchange_code(secrets.code, user="u")


@pytest.mark.asyncio
async def test_pr07_dates_checked_before_sending(
    tl: Session, server: TokenServer, secrets: Secrets, respx_mock: respx.MockRouter
) -> None:
    await connect(tl, secrets)
    route = respx_mock.get(TXNS).mock(return_value=httpx.Response(200, json={"results": []}))
    with pytest.raises(e.InvalidParameterError) as info:
        await tl.data.transactions("acc-1", user="u", from_=date(2024, 2, 1), to=date(2024, 1, 1))
    assert isinstance(info.value, ValueError)
    with pytest.raises(e.InvalidParameterError):
        await tl.data.transactions("acc-1", user="u", from_=datetime(2024, 1, 1))  # naive
    assert route.call_count == 0
    aware = datetime(2024, 1, 1, tzinfo=timezone.utc)
    await tl.data.transactions("acc-1", user="u", from_=aware, to=date(2024, 1, 2))
    assert route.call_count == 1
    item = copy.deepcopy(BASE) | {"timestamp": "2024-01-01T00:00:00+02:00"}
    [txn] = structure_results({"results": [item]}, Transaction, status_code=200)
    assert txn.timestamp.utcoffset() is not None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "body", "content_type", "cls", "code"),
    [
        (
            400,
            {"error": "invalid_date_range", "error_description": "d"},
            None,
            e.DataApiError,
            "invalid_date_range",
        ),
        (
            400,
            {"type": "https://x", "title": "Bad", "trace_id": "t1"},
            "application/problem+json",
            e.DataApiError,
            "Bad",
        ),
        (500, {"unexpected": True}, None, e.DataApiError, None),
        (503, "<html>gateway</html>", "text/html", e.DataApiError, None),
        (418, "teapot", "text/plain", e.DataApiError, None),
    ],
)
async def test_pr08_error_bodies_parsed_tolerantly(
    tl: Session,
    server: TokenServer,
    secrets: Secrets,
    respx_mock: respx.MockRouter,
    status: int,
    body: Any,
    content_type: str | None,
    cls: type[Exception],
    code: str | None,
) -> None:
    await connect(tl, secrets)
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    headers = {"content-type": content_type or "application/json"}
    respx_mock.get(ACCOUNTS_URL).mock(
        return_value=httpx.Response(status, content=content, headers=headers)
    )
    with pytest.raises(cls) as info:
        await tl.data.accounts(user="u")
    assert info.value.status_code == status and info.value.error == code  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_pr08_token_200_with_error_is_an_error(
    tl: Session, secrets: Secrets, guard: Guard, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post("https://auth.truelayer-sandbox.com/connect/token").mock(
        return_value=httpx.Response(200, json={"error": "invalid_grant"})
    )
    with guard.raises(e.AuthApiError) as info:
        await tl.auth.exchange_code(secrets.code, user="u")
    assert info.value.error == "invalid_grant"
