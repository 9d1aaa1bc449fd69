"""TrueLayer's OpenAPI documents, vendored for the tests (see ``README.md`` here).

The files are TrueLayer's published documents, byte for byte; the tests patch their
known errata in memory (``tests/support/openapi.py``), never on disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OPENAPI_DIR = Path(__file__).resolve().parent

DATA = "data-api-v1.json"
AUTH = "authentication-api.json"
VERIFICATION = "verification-api.json"
PAYMENTS = "payments-api-v3.json"
DOCUMENTS = (DATA, AUTH, VERIFICATION, PAYMENTS)


def openapi_document(name: str) -> dict[str, Any]:
    """The vendored document ``name``, freshly parsed (callers may modify it)."""
    if name not in DOCUMENTS:
        raise ValueError(f"not a vendored OpenAPI document: {name!r} (have {DOCUMENTS})")
    document: dict[str, Any] = json.loads((OPENAPI_DIR / name).read_text("utf-8"))
    return document
