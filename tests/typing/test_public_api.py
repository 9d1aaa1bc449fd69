"""``mypy --strict`` over the public-API typing file (issue #14 §5)."""

from __future__ import annotations

from pathlib import Path

from mypy import api as mypy_api

HERE = Path(__file__).parent


def test_the_public_api_type_checks_as_users_see_it() -> None:
    stdout, stderr, status = mypy_api.run(
        ["--strict", "--no-incremental", "--warn-unused-ignores", str(HERE / "public_api.py")]
    )
    assert status == 0, stdout + stderr
