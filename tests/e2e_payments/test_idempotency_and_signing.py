"""Idempotent creates (a lost response retried, a caller's key replayed or misused, two
requests at once) and request signing (a key the emulator does not know, no key)."""

from __future__ import annotations

import uuid

import anyio
import pytest

from tests.e2e_payments.helpers import USER, create, merchant
from tests.support.signing_keys import new_key
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import CreatedPayment
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio


def create_keys(fake: FakeTrueLayer) -> list[str]:
    """The ``Idempotency-Key`` of every ``POST /v3/payments`` the emulator received."""
    return [
        r.headers["idempotency-key"]
        for r in fake.requests
        if (r.method, r.path) == ("POST", "/v3/payments")
    ]


async def test_a_lost_response_is_retried_into_one_payment(
    tl: Session, fake: FakeTrueLayer
) -> None:
    fake.drop_response_after_commit("/v3/payments", method="POST")
    created = await create(tl)
    assert fake.payment_ids == [created.id]
    keys = create_keys(fake)
    assert len(keys) == 2 and keys[0] == keys[1]


async def test_each_call_gets_its_own_key(tl: Session, fake: FakeTrueLayer) -> None:
    first = await create(tl)
    second = await create(tl)
    assert first.id != second.id and fake.payment_ids == [first.id, second.id]
    assert len(set(create_keys(fake))) == 2


async def test_the_callers_key_replays_the_same_payment(tl: Session, fake: FakeTrueLayer) -> None:
    key = str(uuid.uuid4())
    first = await create(tl, idempotency_key=key)
    again = await create(tl, idempotency_key=key)
    assert again.id == first.id
    assert fake.payment_ids == [first.id]
    assert create_keys(fake) == [key, key]


async def test_the_callers_key_with_another_body_is_refused(
    tl: Session, fake: FakeTrueLayer
) -> None:
    key = str(uuid.uuid4())
    first = await create(tl, idempotency_key=key)
    with pytest.raises(e.IdempotencyKeyReuseError) as reused:
        await create(tl, idempotency_key=key, amount_in_minor=2000)
    assert reused.value.status_code == 422
    assert fake.payment_ids == [first.id]
    assert create_keys(fake) == [key, key]  # a 422 is never retried


async def test_the_same_key_twice_at_once_is_a_conflict(tl: Session, fake: FakeTrueLayer) -> None:
    await tl.payments_providers.search(countries=["GB"])  # the token is fetched before
    fake.payment_processing_delay = 3.0  # real seconds the first request holds its key
    key = str(uuid.uuid4())
    results: list[CreatedPayment] = []

    async def first() -> None:
        results.append(await create(tl, idempotency_key=key))

    async with anyio.create_task_group() as group:
        group.start_soon(first)
        await anyio.sleep(0.5)  # an ordering aid only: the first is then being held
        with pytest.raises(e.IdempotencyConflictError) as conflict:
            await create(tl, idempotency_key=key)
    assert conflict.value.status_code == 409 and conflict.value.should_retry is False
    fake.payment_processing_delay = 0
    (created,) = results
    assert fake.payment_ids == [created.id]
    # Once the first is done, the same key and body replay its payment.
    assert (await create(tl, idempotency_key=key)).id == created.id


async def test_an_unregistered_signing_key_is_refused_then_accepted_once_registered(
    fake: FakeTrueLayer,
) -> None:
    key_id, private_pem, public_pem = new_key()
    async with fake.session(signing_key_id=key_id, signing_private_key=private_pem) as tl:
        with pytest.raises(e.RequestSignatureRejectedError) as refused:
            await create(tl)
        assert isinstance(refused.value, e.PaymentsApiError)
        assert (refused.value.status_code, refused.value.error) == (401, "Unauthenticated")
        assert refused.value.description == "Invalid request signature."
        assert (refused.value.problem_type or "").endswith("#unauthenticated")
        assert fake.payment_ids == []
        # A refused signature is no token problem: no second grant, no replay.
        assert fake.count("/connect/token") == 1
        assert len(create_keys(fake)) == 1
        fake.register_signing_key(key_id, public_pem)
        created = await create(tl)
        assert fake.payment_ids == [created.id]
    await fake.aclose()


async def test_a_key_registered_for_another_client_is_refused(fake: FakeTrueLayer) -> None:
    key_id, private_pem, public_pem = new_key()
    fake.register_signing_key(key_id, public_pem, client_id="someone-else")
    async with fake.session(signing_key_id=key_id, signing_private_key=private_pem) as tl:
        with pytest.raises(e.RequestSignatureRejectedError) as refused:
            await create(tl)
        assert refused.value.status_code == 401
    assert fake.payment_ids == [] and fake.count("/connect/token") == 1
    await fake.aclose()


async def test_no_signing_key_fails_before_any_request(fake: FakeTrueLayer) -> None:
    async with Session(
        "client",
        "secret",
        environment=fake.environment,
        http_client=fake.http_client(),
        clock=fake.clock,
    ) as tl:
        with pytest.raises(e.ConfigurationError) as missing:
            await tl.payments.create(
                amount_in_minor=100,
                currency="GBP",
                payment_method=merchant(),
                user=USER,
            )
        assert "sign" in str(missing.value)
    assert fake.requests == []
    await fake.aclose()
