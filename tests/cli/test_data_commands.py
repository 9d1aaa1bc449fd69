"""accounts, transactions and fetch-all against the emulator on loopback."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import connect, run_cli, url_args
from truelayer_async.cli import _errors as codes
from truelayer_async.testing import FakeTrueLayer

pytestmark = pytest.mark.usefixtures("cli_env")

DECIMAL = re.compile(r"-?\d+(\.\d+)?")


def no_floats(text: str) -> Any:
    """Parse JSON, failing on any number with a fraction (money must be a string)."""

    def refuse(literal: str) -> Any:
        raise AssertionError(f"a float in the JSON output: {literal}")

    return json.loads(text, parse_float=refuse)


@pytest.fixture
def alice(fake: FakeTrueLayer, store: Path) -> FakeTrueLayer:
    connect(fake, store, "alice")
    return fake


def first_account(fake: FakeTrueLayer, capsys: pytest.CaptureFixture[str]) -> str:
    result = run_cli(capsys, "accounts", *url_args(fake), "--user", "alice", "--format", "json")
    account_id: str = no_floats(result.out)[0]["account_id"]
    return account_id


def test_accounts_table(alice: FakeTrueLayer, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "accounts", *url_args(alice), "--user", "alice")
    assert result.code == 0, result.err
    assert "Accounts (2)" in result.out
    assert "Everyday Current" in result.out
    assert "Rainy Day Saver" in result.out
    assert "GBP" in result.out
    assert result.err == ""


def test_accounts_json(alice: FakeTrueLayer, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "accounts", *url_args(alice), "--user", "alice", "--format", "json")
    assert result.code == 0, result.err
    accounts = no_floats(result.out)
    assert [a["display_name"] for a in accounts] == ["Everyday Current", "Rainy Day Saver"]
    for account in accounts:
        balance = account["balance"]
        assert isinstance(balance["current"], str)
        assert DECIMAL.fullmatch(balance["current"])
        assert datetime.fromisoformat(account["update_timestamp"]).tzinfo is not None
        assert account["account_number"]["sort_code"]


def test_accounts_csv_without_balances(
    alice: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(
        capsys, "accounts", *url_args(alice), "--user", "alice", "--format", "csv", "--no-balance"
    )
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert len(rows) == 2
    assert rows[0]["display_name"] == "Everyday Current"
    assert rows[0]["balance_current"] == ""


def test_accounts_csv_with_balances(
    alice: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, "accounts", *url_args(alice), "--user", "alice", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert all(DECIMAL.fullmatch(row["balance_current"]) for row in rows)


def test_transactions_json_in_the_window(
    alice: FakeTrueLayer, capsys: pytest.CaptureFixture[str]
) -> None:
    account = first_account(alice, capsys)
    today = alice.clock.utcnow().date()
    start = date.fromordinal(today.toordinal() - 30)
    result = run_cli(
        capsys,
        "transactions",
        *url_args(alice),
        "--user",
        "alice",
        "--account",
        account,
        "--from",
        start.isoformat(),
        "--to",
        today.isoformat(),
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    txns = no_floats(result.out)
    assert txns, "the mock bank has transactions every few days"
    for txn in txns:
        assert DECIMAL.fullmatch(txn["amount"])
        stamp = datetime.fromisoformat(txn["timestamp"])
        assert stamp.tzinfo is not None
        assert start <= stamp.date() <= today
    total = sum(Decimal(t["amount"]) for t in txns)
    assert total == total.quantize(Decimal("0.01"))  # exact, not float noise


def test_transactions_csv(alice: FakeTrueLayer, capsys: pytest.CaptureFixture[str]) -> None:
    account = first_account(alice, capsys)
    result = run_cli(
        capsys,
        "transactions",
        *url_args(alice),
        "--user",
        "alice",
        "--account",
        account,
        "--format",
        "csv",
    )
    assert result.code == 0, result.err
    reader = csv.DictReader(io.StringIO(result.out))
    assert reader.fieldnames is not None
    assert reader.fieldnames[:4] == ["timestamp", "description", "amount", "currency"]
    rows = list(reader)
    assert rows
    assert all(DECIMAL.fullmatch(row["amount"]) for row in rows)
    assert all(datetime.fromisoformat(row["timestamp"]).tzinfo for row in rows)


def test_transactions_table(alice: FakeTrueLayer, capsys: pytest.CaptureFixture[str]) -> None:
    account = first_account(alice, capsys)
    result = run_cli(
        capsys, "transactions", *url_args(alice), "--user", "alice", "--account", account
    )
    assert result.code == 0, result.err
    assert f"Transactions of {account}" in result.out
    assert "Balance after" in result.out


def test_the_default_user(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, None)
    result = run_cli(capsys, "accounts", *url_args(fake))
    assert result.code == 0, result.err
    assert "Everyday Current" in result.out


def test_fetch_all_reports_each_user(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice", username="john1")
    connect(fake, store, "bob", username="john2")  # john2 has no cards
    connect(fake, store, "carol", username="john3")
    fake.revoke("john3")
    result = run_cli(
        capsys,
        "fetch-all",
        *url_args(fake),
        "--users",
        "alice,bob,carol,dave",
        "--concurrency",
        "2",
    )
    assert result.code == codes.PARTIAL
    assert "fetch-all: 2 of 4 users ok" in result.out
    assert "Traceback" not in result.err
    assert "user 'carol' failed" in result.err and "run login again" in result.err
    assert "user 'dave' failed" in result.err and "run login first" in result.err
    assert "2 of 4 users failed" in result.err


def test_fetch_all_json(
    fake: FakeTrueLayer, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connect(fake, store, "alice", username="john1")
    connect(fake, store, "bob", username="john2")
    result = run_cli(
        capsys, "fetch-all", *url_args(fake), "--users", "alice,bob", "--format", "json"
    )
    assert result.code == 0, result.err
    results = no_floats(result.out)
    assert [r["user"] for r in results] == ["alice", "bob"]
    assert all(r["ok"] and r["error"] is None for r in results)
    alice = results[0]
    assert len(alice["accounts"]) == 2
    assert alice["accounts"][0]["transactions"]
    assert DECIMAL.fullmatch(alice["accounts"][0]["balance"]["current"])
    assert len(alice["cards"]) == 1 and results[1]["cards"] == []


def test_fetch_all_needs_users_when_the_store_cannot_list(
    alice: FakeTrueLayer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from truelayer_async.stores import SqliteTokenStore

    monkeypatch.delattr(SqliteTokenStore, "keys")  # as a store without keys() would be
    result = run_cli(capsys, "fetch-all", *url_args(alice))
    assert result.code == codes.USAGE
    assert "--users" in result.err
