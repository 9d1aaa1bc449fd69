"""Reading request bodies the way the emulator's endpoints accept them."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

__all__ = ["BodyError", "read_fields", "read_json_object"]


class BodyError(Exception):
    """The body cannot be read as the endpoint expects."""


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_json_object(request: Request) -> dict[str, Any]:
    """A JSON object body; raises ``BodyError`` otherwise."""
    raw = await request.body()
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BodyError("The body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise BodyError("The body must be a JSON object.")
    return value


async def read_fields(request: Request) -> dict[str, str]:
    """Form fields from a form-encoded, multipart or JSON body (``/connect/token`` takes any).

    Repeated fields and non-string JSON values raise ``BodyError`` (RFC 6749 §3.2).
    """
    content_type = _content_type(request)
    if content_type == "application/json" or content_type.endswith("+json"):
        body = await read_json_object(request)
        fields: dict[str, str] = {}
        for key, value in body.items():
            if value is None:
                continue
            if not isinstance(value, str):
                raise BodyError(f"{key} must be a string.")
            fields[key] = value
        return fields
    if content_type == "multipart/form-data":
        async with request.form() as form:
            pairs = [(key, str(value)) for key, value in form.multi_items()]
    else:
        raw = await request.body()
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise BodyError("The body is not valid UTF-8.") from None
    fields = {}
    for key, value in pairs:
        if key in fields:
            raise BodyError(f"{key} is repeated.")
        fields[key] = value
    return fields
