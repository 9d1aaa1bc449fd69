"""The garbage collector is paused while one large body is decoded, and only then.

It is restored after success and after a typed error, survives nesting and concurrent
threads, and an application that disabled it keeps it disabled.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from truelayer_async import MalformedResponseError
from truelayer_async import _results as results_module
from truelayer_async._fast_decode import decode_results
from truelayer_async._gc_pause import LARGE_BODY, paused_for
from truelayer_async._http import Response
from truelayer_async.models import Transaction


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    was_on = gc.isenabled()
    gc.enable()  # never leave the rest of the suite without a collector
    assert was_on, "the collector was left disabled"


def transactions_body(count: int) -> bytes:
    item = {
        "transaction_id": "t",
        "timestamp": "2024-04-28T10:11:12+00:00",
        "description": "CARD PAYMENT TO A SHOP SOMEWHERE IN LONDON ON 28-04",
        "amount": -12.34,
        "currency": "GBP",
        "transaction_type": "DEBIT",
        "transaction_category": "PURCHASE",
        "transaction_classification": ["Shopping", "Groceries"],
        "running_balance": {"amount": 1234.56, "currency": "GBP"},
        "meta": {"provider_category": "DEB", "provider_reference": "REF0123456789"},
    }
    items = [dict(item, transaction_id=f"t{i:08d}") for i in range(count)]
    return json.dumps({"results": items, "status": "Succeeded"}).encode()


def response(body: bytes) -> Response:
    raw = httpx.Response(200, content=body, headers={"content-type": "application/json"})
    return Response(
        status_code=200,
        headers=raw.headers,
        content=body,
        correlation_id=None,
        retries_taken=0,
        source=raw,
    )


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the collector was enabled, each time a Data API list body was decoded."""
    states: list[bool] = []
    real = results_module._fast

    def spy(response: Any, item: Any) -> Any:
        states.append(gc.isenabled())
        return real(response, item)

    monkeypatch.setattr(results_module, "_fast", spy)
    return states


LARGE = transactions_body(1500)
SMALL = transactions_body(20)


def test_the_bodies_are_on_either_side_of_the_threshold() -> None:
    assert len(SMALL) < LARGE_BODY <= len(LARGE)


def test_a_large_body_is_decoded_paused_and_the_collector_comes_back(seen: list[bool]) -> None:
    models = results_module.results_of(response(LARGE), Transaction)
    assert len(models) == 1500
    assert seen == [False]
    assert gc.isenabled()


def test_a_small_body_is_left_alone(seen: list[bool]) -> None:
    assert len(results_module.results_of(response(SMALL), Transaction)) == 20
    assert seen == [True]


def test_the_collector_comes_back_after_a_typed_error(seen: list[bool]) -> None:
    broken = LARGE[:-10]  # truncated JSON
    with pytest.raises(MalformedResponseError):
        results_module.results_of(response(broken), Transaction)
    with pytest.raises(MalformedResponseError):
        decode_results(broken, Transaction)
    assert seen == [False]
    assert gc.isenabled()


def test_an_application_that_disabled_the_collector_keeps_it_disabled() -> None:
    gc.disable()
    try:
        assert len(decode_results(LARGE, Transaction)) == 1500
        with pytest.raises(MalformedResponseError):
            decode_results(LARGE[:-10], Transaction)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_nested_pauses_restore_only_at_the_outermost() -> None:
    with paused_for(LARGE_BODY):
        assert not gc.isenabled()
        with paused_for(LARGE_BODY):
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner exit does not re-enable
        with paused_for(10):  # small: nothing happens
            assert not gc.isenabled()
    assert gc.isenabled()
    with paused_for(10):
        assert gc.isenabled()


def test_overlapping_threads_enable_it_once_the_last_one_finishes() -> None:
    inside = threading.Barrier(4)
    leave = [threading.Event() for _ in range(4)]
    states: list[bool] = []

    def decode(index: int) -> None:
        with paused_for(LARGE_BODY):
            inside.wait(timeout=30)
            leave[index].wait(timeout=30)
            states.append(gc.isenabled())

    threads = [threading.Thread(target=decode, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for index, thread in enumerate(threads):
        leave[index].set()
        thread.join(timeout=30)
        if index < 3:
            assert not gc.isenabled()  # others are still decoding
    assert states == [False] * 4
    assert gc.isenabled()
