"""What a test needs from outside the repository (programs such as redis-server and
chromium, optional modules): under CI a missing one fails the test instead of skipping it."""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType
from typing import NoReturn

import pytest

__all__ = ["missing", "require_binary", "require_module"]


def missing(message: str) -> NoReturn:
    """Fail the test under CI (``CI=true``), skip it elsewhere: ``message`` says what is absent."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required in CI: {message}")
    pytest.skip(message)


def require_binary(name: str) -> str:
    """Path of ``name``; under CI a missing binary fails the test instead of skipping it."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed")
    return path


def require_module(name: str, hint: str = "the [dev] extra installs it") -> ModuleType:
    """The module ``name``; under CI a missing one fails the test instead of skipping it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"{name} is not installed ({hint})")
