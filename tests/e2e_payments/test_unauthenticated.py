"""401s from the v3 APIs: a refused client-credentials token is replaced once (one new
grant, one replay) and then raised typed; a refused ``Tl-Signature`` costs no new grant."""

from __future__ import annotations

import pytest

from tests.e2e_payments.helpers import create
from tests.support.signing_keys import new_key
from truelayer_async import Session
from truelayer_async import errors as e
from truelayer_async.models import SortCodeAccountNumber
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.anyio

TOKEN_REFUSED = "The access token is invalid or expired."
UK = SortCodeAccountNumber(sort_code="040668", account_number="00000871")


def gets(fake: FakeTrueLayer, payment_id: str) -> int:
    return fake.count(f"/v3/payments/{payment_id}", method="GET")


async def test_one_refused_token_is_replaced_and_the_call_replayed(
    tl: Session, fake: FakeTrueLayer
) -> None:
    created = await create(tl)
    fake.fail_next("/v3/payments/*", 401, "unauthenticated", description=TOKEN_REFUSED)
    payment = await tl.payments.get(created.id)
    assert payment.id == created.id
    assert fake.count("/connect/token") == 2 and gets(fake, created.id) == 2


async def test_a_token_refused_twice_raises_the_typed_error(
    tl: Session, fake: FakeTrueLayer
) -> None:
    created = await create(tl)
    fake.fail_next("/v3/payments/*", 401, "unauthenticated", description=TOKEN_REFUSED, times=3)
    with pytest.raises(e.PaymentsUnauthenticatedError) as refused:
        await tl.payments.get(created.id)
    assert isinstance(refused.value, e.PaymentsApiError)  # existing handlers still match
    assert not isinstance(refused.value, e.RequestSignatureRejectedError)
    assert refused.value.status_code == 401 and refused.value.detail == TOKEN_REFUSED
    assert (refused.value.problem_type or "").endswith("#unauthenticated")
    # One new grant and one replay, not more.
    assert fake.count("/connect/token") == 2 and gets(fake, created.id) == 2


async def test_a_refused_signature_on_verification_v3_costs_no_new_grant(
    fake: FakeTrueLayer,
) -> None:
    key_id, private_pem, _ = new_key()  # never registered with the emulator
    async with fake.session(signing_key_id=key_id, signing_private_key=private_pem) as tl:
        with pytest.raises(e.VerificationApiError) as refused:
            await tl.verification.account_holder(name="John Doe", account_identifier=UK)
    assert not isinstance(refused.value, e.PaymentsApiError)
    assert refused.value.status_code == 401 and "signature" in (refused.value.detail or "")
    assert fake.count("/connect/token") == 1
    assert fake.count("/v3/account-holder-verifications/requests", method="POST") == 1
    await fake.aclose()
