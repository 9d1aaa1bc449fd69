"""The SDK against the emulator served in its own process (``python -m
truelayer_async.testing --clock frozen``), driven only over HTTP: the SDK for the
Payments API, ``EmulatorControl`` for the bank's answers and the clock. The SDK's waits
advance the emulator's clock through the control API, so nothing sleeps for real."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e_payments.helpers import RETURN, create
from tests.support.served import Served
from tests.support.signing_keys import new_key
from truelayer_async import Environment, Session
from truelayer_async import errors as e
from truelayer_async.models import (
    HostedPageOptions,
    PaymentAuthorizationRequired,
    PaymentFailed,
    PaymentSettled,
    ProviderReturnPayment,
    RefundExecuted,
)
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    EmulatorControl,
    FakeClock,
    complete_payment,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    process = Served(
        "--clock",
        "frozen",
        "--no-webhook-delivery",
        "--log-level",
        "warning",
        log=tmp_path_factory.mktemp("emulator") / "stderr.log",
    )
    yield process
    process.stop()


@pytest.fixture
async def control(served: Served) -> AsyncIterator[EmulatorControl]:
    async with EmulatorControl(served.url) as emulator:
        await emulator.reset()
        yield emulator


@pytest.fixture
async def tl(served: Served, control: EmulatorControl) -> AsyncIterator[Session]:
    """A Session signing with a key registered through the control API; its waits move
    its own clock and the emulator's together."""
    key_id, private_pem, public_pem = new_key()
    await control.register_signing_key(key_id, public_pem)
    clock = FakeClock((await control.clock()).now)

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await control.advance_clock(seconds)

    environment = Environment.custom(
        served.url, served.url, name="served", hosted_page_url=f"{served.url}/hpp"
    )
    async with Session(
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        environment=environment,
        signing_key_id=key_id,
        signing_private_key=private_pem,
        clock=clock,
        sleep=sleep,
    ) as session:
        yield session


async def test_hosted_page_settle_and_refund(
    served: Served, control: EmulatorControl, tl: Session
) -> None:
    created = await create(tl, hosted_page=HostedPageOptions(return_uri=RETURN))
    assert created.hosted_page is not None
    async with httpx.AsyncClient(base_url=served.url, trust_env=False) as browser:
        back = await complete_payment(browser, created.hosted_page.uri)
    returned = await tl.payments.submit_provider_return(query=urlsplit(back.redirect_url).query)
    assert returned.resource == ProviderReturnPayment(payment_id=created.id)
    settled = await tl.payments.wait_for(created.id, timeout=60)
    assert isinstance(settled, PaymentSettled)
    refund = await tl.payments.create_refund(created.id, reference="Back", amount_in_minor=250)
    await control.advance_clock(5)
    assert isinstance(await tl.payments.get_refund(created.id, refund.id), RefundExecuted)


async def test_bank_outcomes_and_cancel_through_the_control_api(
    control: EmulatorControl, tl: Session
) -> None:
    rejected = await create(tl)
    assert await control.authorize_payment(rejected.id, "execution_rejected") == "authorized"
    failed = await tl.payments.wait_for(rejected.id, timeout=60)
    assert isinstance(failed, PaymentFailed)
    assert (failed.failure_stage, failed.failure_reason) == ("authorized", "provider_rejected")
    with pytest.raises(e.PaymentsApiError) as late:
        await tl.payments.cancel(rejected.id)
    assert (late.value.status_code, late.value.error) == (400, "Invalid State")
    fresh = await create(tl)
    assert isinstance(await tl.payments.get(fresh.id), PaymentAuthorizationRequired)
    await tl.payments.cancel(fresh.id)
    canceled = await tl.payments.get(fresh.id, resource_token=fresh.resource_token)
    assert isinstance(canceled, PaymentFailed) and canceled.failure_reason == "canceled"


async def test_a_lost_response_is_retried_with_the_same_key(
    control: EmulatorControl, tl: Session
) -> None:
    await control.add_fault("/v3/payments", method="POST", drop_response_after_commit=True)
    created = await create(tl)
    posts = [r for r in await control.requests() if (r.method, r.path) == ("POST", "/v3/payments")]
    assert [r.fault for r in posts] == ["drop", None]
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert (await tl.payments.get(created.id)).id == created.id
