"""`merchant-accounts`, `mandates` and `payouts` against a served emulator: tables and
JSON agree with the emulator's state, transactions come page by page under a progress
bar, and mistakes are clean errors."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import anyio
import pytest
from rich.progress import Progress, TaskID

import truelayer_async as tla
from tests.support.cli import assert_clean_error, run_cli, url_args
from truelayer_async.cli import _errors as codes
from truelayer_async.models import (
    ExternalAccountBeneficiary,
    MandateConstraintsInput,
    MandateMerchantAccount,
    PaymentUser,
    PeriodicLimitInput,
    PeriodicLimitsInput,
    SortCodeAccountNumber,
    SweepingMandate,
    UserSelectedProvider,
)
from truelayer_async.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeTrueLayer

pytestmark = pytest.mark.usefixtures("cli_env")

PAGE = 25  # the emulator's page size for merchant-account transactions


def sdk(fake: FakeTrueLayer, work: Any) -> Any:
    """Run ``work(tl)`` with an SDK session on the served emulator (signing key set)."""

    key_id, pem = fake.client_signing_key

    async def run() -> Any:
        async with tla.Session(
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            environment=fake.environment,
            signing_key_id=key_id,
            signing_private_key=pem,
        ) as tl:
            return await work(tl)

    return anyio.run(run)


def test_list_and_show_agree_with_the_emulator(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    gbp = fake.merchant_account_id("GBP")
    result = run_cli(capsys, "merchant-accounts", "list", *url_args(fake), "--format", "json")
    assert result.code == 0, result.err
    listed = json.loads(result.out)
    assert {a["currency"] for a in listed} == {"GBP", "EUR", "PLN"}
    mine = next(a for a in listed if a["id"] == gbp)
    assert mine["current_balance_in_minor"] == fake.merchant_account_balance(gbp)

    table = run_cli(capsys, "merchant-accounts", "list", *url_args(fake))
    assert table.code == 0, table.err
    assert "Merchant accounts (3)" in table.out and gbp[:8] + "…" in table.out
    balance = fake.merchant_account_balance(gbp)
    assert f"{balance // 100:,}.{balance % 100:02d} GBP" in table.out

    shown = run_cli(capsys, "merchant-accounts", "show", gbp, *url_args(fake))
    assert shown.code == 0, shown.err
    assert "04-06-62 00002723" in shown.out and "not set up" in shown.out

    async def sweep(tl: Any) -> None:
        await tl.merchant_accounts.setup_sweeping(
            gbp, max_amount_in_minor=50_000, currency="GBP", frequency="weekly"
        )

    sdk(fake, sweep)
    swept = run_cli(capsys, "merchant-accounts", "show", gbp, *url_args(fake), "--format", "json")
    assert swept.code == 0, swept.err
    body = json.loads(swept.out)
    assert body["merchant_account"]["id"] == gbp
    assert body["sweeping"]["frequency"] == "weekly"
    assert body["sweeping"]["max_amount_in_minor"] == 50_000
    again = run_cli(capsys, "merchant-accounts", "show", gbp, *url_args(fake))
    assert "weekly, above 500.00 GBP" in again.out


def test_transactions_are_fetched_page_by_page_under_the_progress_bar(
    fake: FakeTrueLayer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bar update comes right after its page's request: the bar moves with the
    pages, not once at the end."""
    gbp = fake.merchant_account_id("GBP")
    fake.seed_transactions(gbp, 240)
    path = f"/v3/merchant-accounts/{gbp}/transactions"
    seen: list[tuple[int, int]] = []  # (transactions so far, page requests so far)
    update = Progress.update

    def record(self: Progress, task_id: TaskID, **fields: Any) -> None:
        completed = fields.get("completed")
        if isinstance(completed, int):
            seen.append((completed, fake.count(path)))
        update(self, task_id, **fields)

    monkeypatch.setattr(Progress, "update", record)
    result = run_cli(capsys, "merchant-accounts", "transactions", gbp, *url_args(fake),
                     "--format", "json")  # fmt: skip
    assert result.code == 0, result.err
    found = json.loads(result.out)
    assert len(found) == 240
    assert len({t["id"] for t in found}) == 240
    pages = -(-240 // PAGE)
    assert fake.count(path) == pages
    assert seen == [(min(n * PAGE, 240), n) for n in range(1, pages + 1)]


def test_limit_stops_fetching_pages(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    gbp = fake.merchant_account_id("GBP")
    fake.seed_transactions(gbp, 100)
    path = f"/v3/merchant-accounts/{gbp}/transactions"
    result = run_cli(capsys, "merchant-accounts", "transactions", gbp, *url_args(fake),
                     "--limit", "30", "--format", "csv")  # fmt: skip
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert len(rows) == 30
    assert fake.count(path) == 2


def test_a_payout_shows_as_money_out_and_by_id(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    gbp = fake.merchant_account_id("GBP")

    async def pay_out(tl: Any) -> str:
        created = await tl.payouts.create(
            merchant_account_id=gbp,
            amount_in_minor=1234,
            currency="GBP",
            beneficiary=ExternalAccountBeneficiary(
                account_holder_name="Jane Roe",
                account_identifier=SortCodeAccountNumber(
                    sort_code="040668", account_number="00000871"
                ),
                reference="Winnings",
            ),
        )
        return str(created.id)

    payout_id = sdk(fake, pay_out)
    pending = run_cli(capsys, "payouts", "show", payout_id, *url_args(fake))
    assert pending.code == 0, pending.err
    assert f"Payout {payout_id}" in pending.out and "12.34 GBP" in pending.out
    assert fake.payout_status(payout_id) in pending.out
    fake.advance(3600)
    assert fake.payout_status(payout_id) == "executed"
    shown = run_cli(capsys, "payouts", "show", payout_id, *url_args(fake), "--format", "json")
    assert json.loads(shown.out)["status"] == "executed"

    result = run_cli(capsys, "merchant-accounts", "transactions", gbp, *url_args(fake),
                     "--type", "payout", "--format", "csv")  # fmt: skip
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [(r["type"], r["amount_in_minor"], r["payout_id"]) for r in rows] == [
        ("payout", "-1234", payout_id)
    ]
    table = run_cli(capsys, "merchant-accounts", "transactions", gbp, *url_args(fake))
    assert "-12.34 GBP" in table.out and "Jane Roe" in table.out


def test_mandates_list_and_show_with_limits_in_use(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    gbp = fake.merchant_account_id("GBP")

    async def create(tl: Any) -> list[str]:
        ids = []
        for _ in range(3):
            created = await tl.mandates.create(
                mandate=SweepingMandate(
                    provider_selection=UserSelectedProvider(),
                    beneficiary=MandateMerchantAccount(merchant_account_id=gbp),
                    reference="SWEEP-7",
                ),
                currency="GBP",
                user=PaymentUser(id="user-7", name="Jane Doe", email="jane@example.com"),
                constraints=MandateConstraintsInput(
                    maximum_individual_amount=3000,
                    periodic_limits=PeriodicLimitsInput(
                        month=PeriodicLimitInput(maximum_amount=9000, period_alignment="consent")
                    ),
                ),
            )
            ids.append(created.id)
        return ids

    ids = sdk(fake, create)
    fake.authorize_mandate(ids[0])
    fake.authorize_mandate(ids[1], "authorization_failed")
    listed = run_cli(capsys, "mandates", "list", *url_args(fake), "--format", "json")
    assert listed.code == 0, listed.err
    assert [m["id"] for m in json.loads(listed.out)] == ids
    few = run_cli(capsys, "mandates", "list", *url_args(fake), "--limit", "2",
                  "--user-id", "user-7")  # fmt: skip
    assert few.code == 0, few.err
    assert "Mandates (2)" in few.out and "30.00 GBP" in few.out
    nobody = run_cli(capsys, "mandates", "list", *url_args(fake), "--user-id", "nobody")
    assert "Mandates (0)" in nobody.out

    shown = run_cli(capsys, "mandates", "show", ids[0], *url_args(fake))
    assert shown.code == 0, shown.err
    assert "authorized" in shown.out
    assert "0.00 GBP used of 90.00 GBP" in shown.out
    failed = run_cli(capsys, "mandates", "show", ids[1], *url_args(fake), "--format", "json")
    body = json.loads(failed.out)
    assert body["mandate"]["status"] == "failed" and body["constraints"] is None
    assert (
        "failed (authorization_failed)"
        in run_cli(capsys, "mandates", "show", ids[1], *url_args(fake)).out
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["payouts", "show", "no-such-payout"],
        ["merchant-accounts", "show", "no-such-account"],
        ["mandates", "show", "no-such-mandate"],
    ],
)
def test_unknown_ids_are_not_found(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    result = run_cli(capsys, *argv, *url_args(fake))
    assert_clean_error(result, codes.NOT_FOUND, "not found")


def test_a_window_that_ends_before_it_starts_is_a_usage_error(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    gbp = fake.merchant_account_id("GBP")
    result = run_cli(capsys, "merchant-accounts", "transactions", gbp, *url_args(fake),
                     "--from", "2026-02-10", "--to", "2026-02-01")  # fmt: skip
    assert_clean_error(result, codes.USAGE, "--from (2026-02-10) is after --to (2026-02-01)")
    assert fake.count(f"/v3/merchant-accounts/{gbp}/transactions") == 0


def test_missing_credentials_are_a_usage_error(
    fake: FakeTrueLayer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TRUELAYER_CLIENT_SECRET")
    result = run_cli(capsys, "mandates", "list", *url_args(fake))
    assert_clean_error(result, codes.USAGE, "TRUELAYER_CLIENT_SECRET")
