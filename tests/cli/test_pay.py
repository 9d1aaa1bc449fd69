"""`pay` against a served emulator: the hosted page walked with --auto-authorize (or by a
"browser" while the command serves the return URI), the status changes, refunds, and
clean errors for every way it can go wrong."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from tests.support.cli import Running, assert_clean_error, live_emulator, run_cli, url_args
from tests.support.processes import free_port
from truelayer_async.cli import _errors as codes
from truelayer_async.cli._errors import CliError
from truelayer_async.cli._pay import parse_amount
from truelayer_async.testing import FakeTrueLayer, complete_payment

pytestmark = pytest.mark.usefixtures("cli_env")

MERCHANT = ["--merchant-account-id", "3c8a3b4e-7f0e-4d55-9a43-2f3a0b1d9e10"]


@pytest.fixture
def fake() -> Iterator[FakeTrueLayer]:
    """A served emulator on real time, with short transitions (the CLI polls for real)."""
    with live_emulator(0.1) as fake:
        yield fake


def statuses(out: str, what: str) -> list[str]:
    return re.findall(rf"^  {what} status: (\S+)", out, re.MULTILINE)


@pytest.mark.usefixtures("signing_env")
def test_auto_authorized_payment_settles_and_is_refunded_in_part(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys, "pay", *url_args(fake), "--amount", "12.50", *MERCHANT,
        "--auto-authorize", "test_executed", "--refund-amount", "5.00",
    )  # fmt: skip
    assert result.code == 0, (result.out, result.err)
    created = re.search(r"Payment (\S+) created: 12\.50 GBP to merchant account", result.out)
    assert created is not None, result.out
    payment_id = created[1]
    assert fake.payment_ids == [payment_id]
    assert fake.payment_status(payment_id) == "settled"
    assert f"/payment-return?payment_id={payment_id}" in result.out
    seen = statuses(result.out, "payment")
    assert seen[0] == "authorized" and seen[-1] == "settled"
    assert seen == sorted(set(seen), key=seen.index)  # each change once, in order
    assert "Refund" in result.out and "(5.00 GBP) created" in result.out
    assert statuses(result.out, "refund")[-1] == "executed"
    assert "Refund executed." in result.out


@pytest.mark.usefixtures("signing_env")
@pytest.mark.parametrize(
    ("username", "reason"),
    [
        ("test_authorisation_failed", "stage: authorizing, reason: authorization_failed"),
        ("test_execution_rejected", "stage: authorized, reason: provider_rejected"),
    ],
)
def test_a_failed_payment_exits_non_zero_with_the_reason(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str], username: str, reason: str
) -> None:
    result = run_cli(
        capsys, "pay", *url_args(fake), "--amount", "700", *MERCHANT,
        "--auto-authorize", username, "--refund",
    )  # fmt: skip
    assert_clean_error(result, codes.FAILURE, f"the payment failed ({reason})")
    assert statuses(result.out, "payment")[-1] == "failed"
    assert "Refund" not in result.out


@pytest.mark.usefixtures("signing_env")
def test_an_external_account_payment_stops_at_executed(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys, "pay", *url_args(fake), "--amount", "3.00", "--account-holder-name",
        "Jane Roe", "--sort-code", "04-06-68", "--account-number", "00000871",
        "--reference", "Invoice 7", "--auto-authorize", "test_executed",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "3.00 GBP to Jane Roe" in result.out
    assert statuses(result.out, "payment")[-1] == "executed"
    assert "Payment executed." in result.out


def test_waiting_for_a_real_browser_serves_the_return_uri(
    fake: FakeTrueLayer, signing_env: tuple[str, Path]
) -> None:
    """Without --auto-authorize the command prints the link and waits; a "browser" pays
    and comes back to the loopback return URI, which the command answers."""
    return_uri = f"http://127.0.0.1:{free_port()}/back"
    running = Running(
        ["pay", *url_args(fake), "--amount", "9.99", *MERCHANT, "--no-browser",
         "--return-uri", return_uri]
    )  # fmt: skip
    link = running.wait_for("/hpp/payments#")

    async def browser() -> httpx.Response:
        async with httpx.AsyncClient(trust_env=False) as client:
            landed = await complete_payment(client, link)
            assert landed.redirect_url.startswith(f"{return_uri}?payment_id=")
            return await client.get(landed.redirect_url)

    page = anyio.run(browser)
    assert page.status_code == 200 and "Payment submitted" in page.text
    running.wait_for("payment status: settled", timeout=30)
    code, out, err = running.finish()
    assert code == 0, (out, err)
    assert "Waiting for the payment" in out


def test_missing_signing_key_is_a_clear_usage_error(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "pay", *url_args(fake), "--amount", "100", *MERCHANT)
    assert_clean_error(
        result, codes.USAGE, "payments must be signed", "TRUELAYER_SIGNING_KEY_ID",
        "TRUELAYER_SIGNING_KEY_FILE",
    )  # fmt: skip
    assert fake.payment_ids == []


def test_unusable_key_files_are_refused_without_showing_them(
    fake: FakeTrueLayer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRUELAYER_SIGNING_KEY_ID", "kid-1")
    argv = ["pay", *url_args(fake), "--amount", "100", *MERCHANT]
    result = run_cli(capsys, *argv, "--signing-key-file", str(tmp_path / "absent.pem"))
    assert_clean_error(result, codes.USAGE, "cannot read the signing key file")
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("SENTINEL-NOT-A-KEY")
    result = run_cli(capsys, *argv, "--signing-key-file", str(not_pem))
    assert_clean_error(result, codes.USAGE, "holds no PEM private key")
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN EC PRIVATE KEY-----\nSENTINEL\n-----END EC PRIVATE KEY-----\n")
    result = run_cli(capsys, *argv, "--signing-key-file", str(broken))
    assert result.code == codes.USAGE and "Traceback" not in result.err, result.err
    for output in (result.out, result.err):
        assert "SENTINEL" not in output
    assert fake.payment_ids == []


@pytest.mark.usefixtures("signing_env")
def test_a_key_the_server_does_not_know_is_refused(
    fake: FakeTrueLayer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys, "pay", *url_args(fake), "--amount", "100", *MERCHANT, "--signing-key-id",
        "unknown-kid",
    )  # fmt: skip
    assert_clean_error(result, codes.FAILURE, "TrueLayer answered with an error")
    assert fake.payment_ids == []


@pytest.mark.usefixtures("signing_env")
@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--amount", "12.505", *MERCHANT], "at most two places"),
        (["--amount", "0", *MERCHANT], "at least 0.01"),
        (["--amount", "ten", *MERCHANT], "give whole minor units"),
        (["--amount", "100"], "where should the money go"),
        (["--amount", "100", *MERCHANT, "--iban", "GB33BUKB20201555555555"], "not both"),
        (["--amount", "100", "--account-holder-name", "Jo", "--iban", "GB33BUKB20201555555555"],
         "needs --reference"),
        (["--amount", "100", "--account-holder-name", "Jo", "--reference", "R", "--iban",
          "GB33BUKB20201555555555", "--refund"], "--refund needs a payment into a merchant"),
        (["--amount", "100", *MERCHANT, "--sort-code", "12"], "not both"),
        (["--amount", "100", *MERCHANT, "--refund-amount", "0"], "--refund-amount '0' must be"),
        (["--amount", "100", *MERCHANT, "--refund-amount", "1.234"], "--refund-amount '1.234'"),
    ],
)  # fmt: skip
def test_bad_arguments_are_usage_errors(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    result = run_cli(capsys, "pay", *url_args(fake), *extra)
    assert_clean_error(result, codes.USAGE, needle)
    assert fake.payment_ids == []


@pytest.mark.usefixtures("signing_env")
def test_auto_authorize_is_for_the_emulator_only(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(
        capsys, "pay", "--environment", "sandbox", "--amount", "100", *MERCHANT,
        "--auto-authorize", "test_executed",
    )  # fmt: skip
    assert_clean_error(result, codes.USAGE, "--auto-authorize", "fake-server")


@pytest.mark.parametrize(
    ("text", "minor"), [("1250", 1250), ("12.50", 1250), ("12.5", 1250), ("0.01", 1), ("7", 7)]
)
def test_amounts(text: str, minor: int) -> None:
    assert parse_amount(text, flag="--amount") == minor


@pytest.mark.parametrize("text", ["1.234", "-5", "0.00", "1e3", "nan", "inf", ""])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(CliError):
        parse_amount(text, flag="--amount")


@pytest.mark.usefixtures("signing_env")
def test_a_payment_nobody_authorises_times_out_cleanly(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys, "pay", *url_args(fake), "--amount", "100", *MERCHANT, "--no-browser",
        "--return-uri", "https://shop.example/back", "--timeout", "0.2",
    )  # fmt: skip
    assert_clean_error(
        result, codes.FAILURE, "gave up waiting", "'authorization_required'", "--timeout 0.2"
    )
    assert statuses(result.out, "payment") == ["authorization_required"]
    assert fake.payment_status(fake.payment_ids[0]) == "authorization_required"


def test_a_failed_refund_exits_non_zero(
    fake: FakeTrueLayer, signing_env: tuple[str, Path]
) -> None:
    fake.payment_timing.refund_delay = 3600.0  # the refund waits until the test fails it
    running = Running(
        ["pay", *url_args(fake), "--amount", "100", *MERCHANT, "--auto-authorize",
         "test_executed", "--refund"]
    )  # fmt: skip
    line = running.wait_for("(in full) created", timeout=30)
    refund_id = line.split()[1]
    fake.fail_refund(fake.payment_ids[0], refund_id, "insufficient_funds")
    fake.advance(3 * 3600)  # due now: it fails instead of executing
    code, out, err = running.finish(timeout=30)
    assert code == codes.FAILURE, (out, err)
    assert "the refund failed (reason: insufficient_funds)" in err
    assert "Traceback" not in err


def test_help_names_the_signing_settings(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "pay", "--help")
    assert result.code == 0
    for needle in ("--signing-key-file", "TRUELAYER_SIGNING_KEY_ID", "--auto-authorize"):
        assert needle in result.out


@pytest.mark.usefixtures("signing_env")
def test_a_busy_return_port_fails_before_any_payment(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            capsys, "pay", *url_args(fake), "--amount", "100", *MERCHANT, "--no-browser",
            "--return-uri", f"http://127.0.0.1:{port}/back",
        )  # fmt: skip
    assert_clean_error(result, codes.USAGE, f"cannot listen on 127.0.0.1:{port}", "--return-uri")
    assert fake.payment_ids == []
