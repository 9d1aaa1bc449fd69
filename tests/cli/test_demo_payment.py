"""`demo`'s Payments v3 part: a payment created with a hosted page, paid through it,
settled and partly refunded; the payer's account holder verification; a payout back to
the payer; a sweeping mandate paid on
once; the merchant account's transactions."""

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
    refund = out[out.index("11. Refund 10.00 GBP") : out.index("12. Check the payer")]
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


def test_the_demo_pays_back_sweeps_and_lists_the_ledger(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_cli(capsys, "demo")
    assert result.code == 0, result.err
    out = result.out
    payout = out[out.index("13. Pay 5.00 GBP back") : out.index("14. A sweeping mandate")]
    assert re.search(r"payment source [0-9a-f-]{36} \(John Doe\)", payout), payout
    assert re.findall(r"^   (\w+)$", payout, re.MULTILINE) == ["pending", "executed"]
    mandate = out[out.index("14. A sweeping mandate") : out.index("15. The merchant")]
    made = re.search(r"mandate ([0-9a-f-]{36}): authorization_required", mandate)
    assert made is not None, mandate
    assert f"returned to https://shop.example/mandate/done?mandate_id={made[1]}" in mandate
    assert "mandate authorized" in mandate
    assert re.findall(r"^   (\w+)", mandate[mandate.index("no user journey") :], re.MULTILINE)[
        :3
    ] == ["authorized", "executed", "settled"]
    assert "15.00 GBP used of 85.00 GBP" in mandate  # 100.00 a month, 15.00 paid
    ledger = out[out.index("15. The merchant") : out.index("16. Summary")]
    assert "4 transactions in 1 page" in ledger
    rows = [
        (kind.strip(), amount)
        for kind, amount in re.findall(r"│ ([a-z ]+?)\s+│\s+(-?[\d.,]+) GBP", ledger)
    ]
    assert rows == [
        ("payment in", "25.00"),
        ("refund", "-10.00"),
        ("payout", "-5.00"),
        ("payment in", "15.00"),
    ]
    statuses = re.findall(r"│ (settled|executed)\s+│", ledger)
    assert statuses == ["settled", "executed", "executed", "settled"]
    # The seeded account opened at 100,000.00: +25 -10 -5 +15.
    assert "balance now: 100,025.00 GBP" in ledger
    assert re.search(r"Payouts\s+│\s+1 \(executed\)", out)
    assert re.search(r"Mandates\s+│\s+1 \(authorized; its payment settled\)", out)
    assert re.search(r"Merchant-account transactions\s+│\s+4 \(1 page\)", out)


def test_the_demo_verifies_the_payer_before_paying_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run_cli(capsys, "demo")
    assert result.code == 0, result.err
    out = result.out
    step = out[out.index("12. Check the payer's name") : out.index("13. Pay 5.00 GBP back")]
    assert re.search(r"is 'John Doe' the holder of sort code \d{6}, account \d{8}\?", step), step
    assert re.search(r"request [0-9a-f-]{36} \(signed, idempotent\)", step), step
    assert re.findall(r"^   (\w+)", step, re.MULTILINE)[2:] == ["pending", "completed"]
    assert "completed, match: the name is the account holder's" in step
    assert re.search(r"Account holder verifications\s+│\s+1 \(match\)", out)
