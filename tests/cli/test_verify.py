"""`verify` against a served emulator: each outcome of an account holder verification
with its exit code, the wait's time limit, and clean errors for bad arguments."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import assert_clean_error, run_cli, url_args
from truelayer_async.cli import _errors as codes
from truelayer_async.testing import FakeTrueLayer, LiveClock

pytestmark = pytest.mark.usefixtures("cli_env")

UK = ["--sort-code", "04-00-04", "--account-number"]


@pytest.fixture
def fake() -> Iterator[FakeTrueLayer]:
    """A served emulator on real time whose banks answer after 0.1 s."""
    fake = FakeTrueLayer(clock=LiveClock())
    fake.payment_timing.verification_delay = 0.1
    with fake.serve_in_thread():
        yield fake


@pytest.fixture
def signing_env(fake: FakeTrueLayer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_id, pem = fake.client_signing_key
    key_file = tmp_path / "signing-key.pem"
    key_file.write_text(pem)
    monkeypatch.setenv("TRUELAYER_SIGNING_KEY_ID", key_id)
    monkeypatch.setenv("TRUELAYER_SIGNING_KEY_FILE", str(key_file))


@pytest.mark.usefixtures("signing_env")
@pytest.mark.parametrize(
    ("name", "account", "code", "answer"),
    [
        ("John Doe", [*UK, "12345678"], codes.OK,
         "Verification match: the name is the account holder's."),
        ("J Doe", [*UK, "12345678"], codes.PARTIAL_MATCH,
         "Verification partial match: the bank holds the name 'John Doe'."),
        ("Jane Smith", ["--iban", "GB33 BUKB 2020 1555 5555 55"], codes.NO_MATCH,
         "Verification no match: the name is not the account holder's."),
        ("John Doe", [*UK, "12340000"], codes.MATCH_NOT_POSSIBLE,
         "Verification match not possible (reason: Bank unable to match)."),
        ("John Doe", [*UK, "12349999"], codes.VERIFICATION_FAILED,
         "Verification failed (reason: provider_error)."),
    ],
)  # fmt: skip
def test_each_outcome_is_printed_with_its_exit_code(
    fake: FakeTrueLayer,
    capsys: pytest.CaptureFixture[str],
    name: str,
    account: list[str],
    code: int,
    answer: str,
) -> None:
    result = run_cli(capsys, "verify", *url_args(fake), "--name", name, *account)
    assert result.code == code, (result.out, result.err)
    assert result.err == ""
    created = re.search(rf"^Verification (\S+) created: is '{name}' the holder of ", result.out)
    assert created is not None, result.out
    assert result.out.splitlines()[-1] == answer
    if "--iban" in account:
        assert "IBAN GB33BUKB20201555555555?" in result.out
    else:
        assert f"sort code 040004, account {account[-1]}?" in result.out


def test_a_missing_signing_key_is_a_usage_error(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "verify", *url_args(fake), "--name", "John Doe", *UK, "12345678")
    assert_clean_error(
        result, codes.USAGE, "account holder verifications must be signed",
        "TRUELAYER_SIGNING_KEY_ID",
    )  # fmt: skip


@pytest.mark.usefixtures("signing_env")
@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--name", "John Doe"], "give the account"),
        (["--name", "John Doe", "--sort-code", "040004"], "go together"),
        (["--name", "John Doe", "--account-number", "12345678"], "go together"),
        (["--name", "John Doe", "--iban", "GB33BUKB20201555555555", *UK, "1"], "not both"),
        (["--name", "John Doe", "--sort-code", "12", "--account-number", "12345678"],
         "must be 6 digits"),
        (["--name", "  ", "--iban", "GB33BUKB20201555555555"], "--name must be 1 to 200"),
        (["--name", "x" * 201, "--iban", "GB33BUKB20201555555555"], "--name must be 1 to 200"),
        (["--name", "John Doe", "--iban", "GB33BUKB20201555555555", "--timeout", "0"],
         "--timeout"),
    ],
)  # fmt: skip
def test_bad_arguments_are_usage_errors(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    result = run_cli(capsys, "verify", *url_args(fake), *extra)
    assert result.code == codes.USAGE, (result.out, result.err)
    assert "Traceback" not in result.err and needle in result.err, result.err
    assert "Verification" not in result.out  # nothing was sent


@pytest.mark.usefixtures("signing_env")
def test_the_name_is_required(fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "verify", *url_args(fake), "--iban", "GB33BUKB20201555555555")
    assert result.code == codes.USAGE and "--name" in result.err, result.err


@pytest.mark.usefixtures("signing_env")
def test_a_bank_that_does_not_answer_in_time_gives_up_cleanly(
    fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.payment_timing.verification_delay = 3600.0
    result = run_cli(
        capsys, "verify", *url_args(fake), "--name", "John Doe", *UK, "12345678",
        "--timeout", "0.2",
    )  # fmt: skip
    created = re.search(r"^Verification (\S+) created", result.out)
    assert created is not None, result.out
    assert_clean_error(result, codes.FAILURE, "gave up waiting", "--timeout 0.2", created[1])


def test_help_names_the_exit_codes_and_signing(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "verify", "--help")
    assert result.code == 0, result.err
    out = " ".join(result.out.split())
    for needle in ("--signing-key-file", "--sort-code", "10 for a partial match", "13"):
        assert needle in out
