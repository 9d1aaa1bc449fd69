"""`payouts create`, `mandates create` and `mandates revoke` against a served emulator:
signed requests that the emulator's state reflects, the hosted page link a user
authorises a mandate on, --wait, idempotency keys, and clean errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest

from tests.support.cli import assert_clean_error, live_emulator, run_cli, url_args
from truelayer_async import Session
from truelayer_async.cli import _errors as codes
from truelayer_async.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FakeTrueLayer,
)

pytestmark = pytest.mark.usefixtures("cli_env")

SORT_CODE = ["--sort-code", "04-06-68", "--account-number", "00000871"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def fake() -> Iterator[FakeTrueLayer]:
    """A served emulator on real time whose payouts move on within 50 ms (--wait)."""
    with live_emulator(0.05) as fake:
        yield fake


def created_id(out: str, kind: str) -> str:
    found = re.search(rf"{kind} (\S+) created", out)
    assert found is not None, out
    return found[1]


def payout_argv(fake: FakeTrueLayer, amount: str = "12.34") -> list[str]:
    gbp = fake.merchant_account_id("GBP")
    return ["payouts", "create", *url_args(fake), "--merchant-account-id", gbp,
            "--amount", amount, "--reference", "Winnings"]  # fmt: skip


@pytest.mark.usefixtures("signing_env")
def test_payout_to_an_external_account_is_created_and_shown(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, *payout_argv(fake), "--account-holder-name", "Jane Roe", *SORT_CODE)
    assert result.code == 0, result.err
    payout_id = created_id(result.out, "Payout")
    assert "12.34 GBP to Jane Roe" in result.out
    assert f"Payout {payout_id}" in result.out and "external_account: Jane Roe" in result.out
    assert fake.payout_status(payout_id) in ("pending", "authorized", "executed")
    sent = [r for r in fake.requests if r.method == "POST" and r.path == "/v3/payouts"]
    assert len(sent) == 1 and "tl-signature" in sent[0].headers


@pytest.mark.usefixtures("signing_env")
def test_the_same_idempotency_key_makes_one_payout(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*payout_argv(fake), "--iban", "GB33 BUKB 2020 1555 5555 55",
            "--account-holder-name", "Jane Roe", "--idempotency-key", "cli-retry-1",
            "--format", "json"]  # fmt: skip
    first = run_cli(capsys, *argv)
    again = run_cli(capsys, *argv)
    assert first.code == again.code == 0, (first.err, again.err)
    assert json.loads(first.out)["id"] == json.loads(again.out)["id"]
    identifiers = json.loads(first.out)["beneficiary"]["account_identifiers"]
    assert {"type": "iban", "iban": "GB33BUKB20201555555555"} in identifiers
    assert fake.count("/v3/payouts") == 2


def paid_in(fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """Pay 20.00 GBP into the merchant account with `pay`; its (payment source, user)."""
    gbp = fake.merchant_account_id("GBP")
    paid = run_cli(capsys, "pay", *url_args(fake), "--amount", "20.00",
                   "--merchant-account-id", gbp, "--auto-authorize", "test_executed")  # fmt: skip
    assert paid.code == 0, paid.err
    payment_id = created_id(paid.out, "Payment")

    async def source() -> tuple[str, str]:
        async with Session(
            DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, environment=fake.environment
        ) as tl:
            payment = await tl.payments.get(payment_id)
            user_id = payment.user.id
            found = await tl.merchant_accounts.payment_sources(gbp, user_id=user_id)
            return str(found[0].id), user_id

    return anyio.run(source)


@pytest.mark.usefixtures("signing_env")
def test_payout_back_to_a_payment_source_waits_until_executed(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    source_id, user_id = paid_in(fake, capsys)
    result = run_cli(
        capsys, *payout_argv(fake), "--payment-source-id", source_id, "--user-id", user_id,
        "--wait", "--timeout", "30", "--format", "json",
    )  # fmt: skip
    assert result.code == 0, result.err
    payout = json.loads(result.out)
    assert payout["status"] == "executed"
    beneficiary = payout["beneficiary"]
    assert beneficiary["type"] == "payment_source"
    assert (beneficiary["payment_source_id"], beneficiary["user_id"]) == (source_id, user_id)


@pytest.mark.usefixtures("signing_env")
def test_a_failed_payout_is_exit_1_with_the_reason(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    balance = fake.merchant_account_balance(fake.merchant_account_id("GBP"))
    argv = payout_argv(fake, amount=str(balance + 1))
    result = run_cli(capsys, *argv, "--account-holder-name", "Jane Roe", *SORT_CODE, "--wait")
    assert_clean_error(result, codes.FAILURE, "the payout failed (reason: insufficient_funds)")
    assert "failed (insufficient_funds)" in result.out


def test_payout_create_needs_the_signing_key(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, *payout_argv(fake), "--account-holder-name", "J", *SORT_CODE)
    assert_clean_error(result, codes.USAGE, "payments must be signed", "--signing-key-id")
    assert fake.count("/v3/payouts") == 0


def mandate_argv(fake: FakeTrueLayer, *extra: str) -> list[str]:
    gbp = fake.merchant_account_id("GBP")
    return ["mandates", "create", *url_args(fake), "--merchant-account-id", gbp,
            "--max-per-payment", "30.00", "--period-limit", "month=100.00",
            "--period-limit", "day=5000", "--reference", "SWEEP-9", *extra]  # fmt: skip


async def authorise_on_the_hosted_page(link: str) -> str:
    """Walk the emulator's mandate hosted page and mock bank; returns where it ends."""
    parts = urlsplit(link)
    fields = {k: v[0] for k, v in parse_qs(parts.fragment).items()}
    origin = f"{parts.scheme}://{parts.netloc}"
    async with httpx.AsyncClient(base_url=origin, trust_env=False) as browser:
        started = await browser.post("/hpp/mandates", data=fields)
        assert started.status_code == 303, started.text
        chosen = await browser.post(
            started.headers["location"], content="provider_id=mock-payments-gb-redirect",
            headers=FORM,
        )  # fmt: skip
        assert chosen.status_code == 303, chosen.text
        back = await browser.post(
            chosen.headers["location"], content="username=test_executed&action=authorise",
            headers=FORM,
        )  # fmt: skip
        return str(back.headers["location"])


@pytest.mark.usefixtures("signing_env")
def test_a_mandate_is_created_authorised_on_its_page_and_revoked(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, *mandate_argv(fake, "--return-uri", "https://shop.example/back"))
    assert result.code == 0, result.err
    mandate_id = created_id(result.out, "Mandate")
    assert "(sweeping, up to 30.00 GBP a payment): authorization_required" in result.out
    link = next(line for line in result.out.splitlines() if "/hpp/mandates#" in line)
    assert link.startswith(f"{fake.base_url}/hpp/mandates#mandate_id={mandate_id}&")
    back = anyio.run(authorise_on_the_hosted_page, link)
    assert back == f"https://shop.example/back?mandate_id={mandate_id}"

    shown = run_cli(capsys, "mandates", "show", mandate_id, *url_args(fake))
    assert "authorized" in shown.out and "0.00 GBP used of 100.00 GBP" in shown.out
    assert "0.00 GBP used of 50.00 GBP" in shown.out  # day=5000 minor units

    revoked = run_cli(capsys, "mandates", "revoke", mandate_id, *url_args(fake))
    assert revoked.code == 0, revoked.err
    assert f"Mandate {mandate_id} revoked." in revoked.out and "revoked (client)" in revoked.out
    sent = [r for r in fake.requests if r.path == f"/v3/mandates/{mandate_id}/revoke"]
    assert len(sent) == 1 and "tl-signature" in sent[0].headers
    again = run_cli(capsys, "mandates", "revoke", mandate_id, *url_args(fake))
    assert_clean_error(again, codes.FAILURE)


@pytest.mark.usefixtures("signing_env")
def test_mandate_json_has_the_wire_fields_and_no_bare_token(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, *mandate_argv(fake, "--type", "commercial", "--user-id", "u-9",
                                           "--format", "json"))  # fmt: skip
    assert result.code == 0, result.err
    body = json.loads(result.out)
    assert set(body) == {"id", "status", "user", "hosted_page"}
    assert body["status"] == "authorization_required" and body["user"] == {"id": "u-9"}
    assert body["hosted_page"]["uri"].startswith(f"{fake.base_url}/hpp/mandates#")
    listed = run_cli(capsys, "mandates", "list", *url_args(fake), "--format", "json",
                     "--scope", "recurring_payments:commercial")  # fmt: skip
    assert [m["type"] for m in json.loads(listed.out)] == ["commercial"]


@pytest.mark.parametrize(
    ("kind", "extra", "message"),
    [
        ("payouts", [], "who is paid?"),
        ("payouts", ["--account-holder-name", "Jane Roe"], "give the account"),
        ("payouts", ["--payment-source-id", "ps-1"], "--payment-source-id and --user-id go"),
        ("payouts", ["--user-id", "u", "--payment-source-id", "p", "--iban", "GB33"], "not both"),
        ("payouts", ["--account-holder-name", "J", "--sort-code", "040668"], "go together"),
        ("mandates", ["--period-limit", "quarter=10"], "PERIOD one of day, week"),
        ("mandates", ["--period-limit", "month=10", "--period-limit", "month=20"], "twice"),
        ("mandates", ["--max-per-payment", "1.234"], "--max-per-payment '1.234'"),
        ("mandates", ["--iban", "GB33"], "not both"),
    ],
)
@pytest.mark.usefixtures("signing_env")
def test_flag_mistakes_are_usage_errors_before_any_request(
    fake: FakeTrueLayer,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    extra: list[str],
    message: str,
) -> None:
    argv = payout_argv(fake) if kind == "payouts" else mandate_argv(fake)
    assert_clean_error(run_cli(capsys, *argv, *extra), codes.USAGE, message)
    assert fake.count(f"/v3/{kind}") == 0


@pytest.mark.usefixtures("signing_env")
def test_a_mandate_needs_a_limit_and_a_beneficiary(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = ["mandates", "create", *url_args(fake), "--max-per-payment", "30"]
    assert_clean_error(run_cli(capsys, *bare, "--merchant-account-id", "m"), codes.USAGE,
                       "at least one --period-limit")  # fmt: skip
    assert_clean_error(run_cli(capsys, *bare, "--period-limit", "month=40"), codes.USAGE,
                       "where should the money go?")  # fmt: skip


@pytest.mark.usefixtures("signing_env")
def test_pay_and_mandates_ask_where_the_money_goes_alike(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    mandate = ["mandates", "create", *url_args(fake), "--max-per-payment", "30"]
    mandate += ["--period-limit", "month=40"]
    pay = ["pay", *url_args(fake), "--amount", "100"]
    asked = []
    for argv in (mandate, pay):
        result = run_cli(capsys, *argv)
        assert_clean_error(result, codes.USAGE, "where should the money go?")
        asked.append(result.err.strip())
    assert asked[0] == asked[1]
    # An account without its holder's name is an incomplete external account, for both.
    iban = ["--iban", "GB33BUKB20201555555555", "--reference", "R"]
    for argv in (mandate, pay):
        assert_clean_error(run_cli(capsys, *argv, *iban), codes.USAGE,
                           "an external account needs --account-holder-name")  # fmt: skip
    assert fake.count("/v3/*") == 0


@pytest.mark.usefixtures("signing_env")
def test_revoking_an_unknown_mandate_is_not_found(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "mandates", "revoke", "no-such-mandate", *url_args(fake))
    assert_clean_error(result, codes.NOT_FOUND, "not found")
