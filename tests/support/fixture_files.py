"""The JSON documents of ``tests/fixtures``, read as bytes or decoded as the SDK decodes."""

from __future__ import annotations

from typing import Any

from tests.support.processes import REPO
from truelayer_async import _json

__all__ = ["FIXTURES", "fixture", "fixture_bytes"]

FIXTURES = REPO / "tests" / "fixtures"


def fixture_bytes(name: str) -> bytes:
    """``tests/fixtures/NAME`` as stored."""
    return (FIXTURES / name).read_bytes()


def fixture(name: str) -> Any:
    """A fixture decoded exactly as the SDK decodes responses (Decimal for fractions)."""
    return _json.loads(fixture_bytes(name))
