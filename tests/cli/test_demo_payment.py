"""`demo`'s payment: created with a hosted page, paid through it, settled, partly refunded."""

from __future__ import annotations

import re

import pytest

from tests.support.cli import run_cli


def test_the_demo_pays_settles_and_refunds(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "demo")
    assert result.code == 0, result.err
    out = result.out
    created = re.search(r"payment ([0-9a-f-]{36}): authorization_required", out)
    assert created is not None, out
    payment_id = created[1]
    assert f"returned to https://shop.example/checkout/done?payment_id={payment_id}" in out
    steps = out[out.index("10. Wait") : out.index("11. Refund")]
    assert re.findall(r"^   (\w+)", steps, re.MULTILINE) == ["authorized", "executed", "settled"]
    refund = out[out.index("11. Refund 10.00 GBP") : out.index("12. Summary")]
    assert re.findall(r"^   (\w+)", refund, re.MULTILINE) == [
        "refund",
        "pending",
        "authorized",
        "executed",
        "10",
    ]
    assert "10.00 GBP refunded; 15.00 GBP left on the payment" in refund
    assert re.search(r"Payments\s+│\s+1 \(settled\)", out)
    assert re.search(r"Refunds\s+│\s+1 \(executed\)", out)
    # The hosted page link is shown without its resource token.
    assert "resource_token=…" in out
    assert not re.search(r"resource_token=[^…]", out)
