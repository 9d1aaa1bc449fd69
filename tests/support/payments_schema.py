"""Checking Payments bodies against TrueLayer's payments-api-v3.json (errata patched in
memory by ``tests/support/openapi.py``): a response body against a named schema, and a
request's body against its operation's request schema."""

from __future__ import annotations

import functools
import json
from typing import Any

import httpx

from tests.support.openapi import PAYMENTS, Spec, spec

__all__ = ["check_schema", "payments_document", "request_fits"]


@functools.cache
def payments_document() -> Spec:
    """payments-api-v3.json as the model tests read it (one more erratum patched; cached)."""
    document = Spec(PAYMENTS)  # a private copy: the patch below stays in this module
    # PaymentCommon lists "beneficiary" as required but never defines it (it lives in
    # payment_method): drop that one stray requirement.
    common = document.doc["components"]["schemas"]["PaymentCommon"]
    common["required"] = [name for name in common["required"] if name != "beneficiary"]
    return document


def check_schema(body: dict[str, Any], schema: str) -> None:
    """``body`` fits the document's ``components/schemas/SCHEMA``."""
    payments_document().validate(body, "#/components/schemas/" + schema)


def request_fits(
    request: httpx.Request, path: str, method: str = "post", *, document: str = PAYMENTS
) -> dict[str, Any]:
    """The JSON body of ``request``, checked against the request schema ``document``
    (default: payments-api-v3.json) gives ``method path``."""
    doc = spec(document)  # the emulator tests' cached copy
    escaped = path.replace("~", "~0").replace("/", "~1")
    pointer = f"#/paths/{escaped}/{method}/requestBody"
    (media,) = doc.resolve(doc.pointer(pointer))["content"]
    body: dict[str, Any] = json.loads(request.content)
    doc.validate(body, f"{pointer}/content/{media.replace('/', '~1')}/schema")
    return body
