"""Shared helpers for the model and converter tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from truelayer_async import _json

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
SHARED_OPENAPI = REPO_ROOT.parent / "shared" / "openapi"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture(name: str) -> Any:
    """A fixture decoded exactly as the SDK decodes responses (Decimal for fractions)."""
    return _json.loads(fixture_bytes(name))


def openapi_document(name: str) -> dict[str, Any]:
    """One of the shared OpenAPI documents; fail on CI, skip elsewhere, when missing."""
    path = SHARED_OPENAPI / name
    if not path.is_file():
        message = f"shared OpenAPI document not found: {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document
