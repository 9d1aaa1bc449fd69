"""``_wakeups.Wakeups``: a poll's pause ended early by a webhook about its resource."""

from __future__ import annotations

import anyio
import pytest

from truelayer_async._wakeups import Wakeups


class About:
    def __init__(self, **ids: str) -> None:
        self.__dict__.update(ids)


async def _forever(seconds: float) -> None:
    await anyio.sleep_forever()


@pytest.mark.anyio
async def test_only_a_webhook_about_the_resource_wakes_its_pause() -> None:
    wakeups = Wakeups()
    done: list[str] = []

    async def pause(resource_id: str) -> None:
        await wakeups.sleep(resource_id, 5.0, _forever)
        done.append(resource_id)

    async with anyio.create_task_group() as group:
        group.start_soon(pause, "pay-1")
        group.start_soon(pause, "pay-2")
        await anyio.wait_all_tasks_blocked()
        wakeups.wake(About(payment_id="pay-9"))  # about another payment
        wakeups.wake(About(refund_id="pay-1"))  # any id field counts
        await anyio.wait_all_tasks_blocked()
        assert done == ["pay-1"]
        wakeups.wake(About(payment_id="pay-2"))
    assert sorted(done) == ["pay-1", "pay-2"]
    assert wakeups._waiting == {}  # nothing left behind


@pytest.mark.anyio
async def test_a_pause_without_a_webhook_runs_its_course_and_leaves_nothing() -> None:
    wakeups = Wakeups()
    slept: list[float] = []

    async def instant(seconds: float) -> None:
        slept.append(seconds)

    await wakeups.sleep("ahv-1", 2.0, instant)
    assert slept == [2.0] and wakeups._waiting == {}
    wakeups.wake(About(account_holder_verification_id="ahv-1"))  # nobody waiting: no-op
