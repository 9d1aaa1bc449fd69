"""Decoding Payments v3 responses: one model, an ``items`` list, or a cursor page."""

from __future__ import annotations

from typing import Any

from .. import errors as e
from .._converter import structure, structure_list
from .._http import Response
from ..pagination import Page

__all__ = ["decode", "decode_items", "decode_page"]


def decode(response: Response, model: Any) -> Any:
    """The response body as ``model`` (a class or a tagged union)."""
    return structure(
        response.json(),
        model,
        status_code=response.status_code,
        correlation_id=response.correlation_id,
    )


def _object(response: Response) -> dict[str, Any]:
    body = response.json()
    if type(body) is not dict:
        raise e.MalformedResponseError(
            "expected a JSON object with items",
            status_code=response.status_code,
            correlation_id=response.correlation_id,
            path="$",
        )
    return body


def decode_items(response: Response, model: Any) -> list[Any]:
    """The ``items`` of a ``{"items": [...]}`` body, each as ``model``."""
    return structure_list(
        _object(response).get("items"),
        model,
        status_code=response.status_code,
        correlation_id=response.correlation_id,
        path="$.items",
    )


def decode_page(response: Response, model: Any) -> Page[Any]:
    """A ``{"items": [...], "pagination": {"next_cursor": ...}}`` body as a :class:`Page`
    (no ``pagination`` or no ``next_cursor``: the last page)."""
    body = _object(response)
    items = structure_list(
        body.get("items"),
        model,
        status_code=response.status_code,
        correlation_id=response.correlation_id,
        path="$.items",
    )
    pagination = body.get("pagination")
    cursor = pagination.get("next_cursor") if type(pagination) is dict else None
    if cursor is not None and type(cursor) is not str:
        raise e.MalformedResponseError(
            "expected a string next_cursor",
            status_code=response.status_code,
            correlation_id=response.correlation_id,
            path="$.pagination.next_cursor",
        )
    return Page(tuple(items), cursor or None)
