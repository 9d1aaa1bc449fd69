"""One JSON call to a v3-family API whose models keep their whole object in ``raw``
(Data API v3, Signup+): the request, the decoding, and ``raw`` filled at every level."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from .._converter import structure
from .._error_mapping import Api
from .._path_segment import path_segment

if TYPE_CHECKING:
    from .._core import Core
    from .._http import Response

__all__ = ["decode", "request_json"]

T = TypeVar("T")


async def request_json(
    core: Core,
    method: str,
    path: str,
    ids: Mapping[str, str] | None = None,
    *,
    product: str,
    api: Api,
    scopes: tuple[str, ...],
    json_body: Mapping[str, Any] | None = None,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> tuple[Any, Response]:
    """Send ``method path`` (``{names}`` filled from ``ids``, each one checked path
    segment) with a client-credentials token for ``scopes``; the decoded JSON body and the
    response. The call is named ``truelayer.<product>.<METHOD> <path template>``; its
    errors are ``api``'s (``DataApiError`` for Data v3, ``SignupPlusApiError``)."""
    segments = {name: path_segment(value, name) for name, value in (ids or {}).items()}
    response = await core.payments_request(
        method,
        path.format(**segments),
        scopes=scopes,
        json_body=json_body,
        params=params,
        headers=headers,
        base_url=base_url,
        api=api,
        operation=f"truelayer.{product}.{method} {path}",
    )
    return response.json(), response


def decode(data: Any, model: type[T], response: Response) -> T:
    """``data`` as ``model``, with ``raw`` filled from ``data`` wherever a model has it."""
    result = structure(
        data, model, status_code=response.status_code, correlation_id=response.correlation_id
    )
    return cast(T, _with_raw(result, data))


def _with_raw(obj: Any, data: Any) -> Any:
    # ``obj`` (built from ``data``) with each nested model's ``raw`` set to its object.
    if not attrs.has(type(obj)) or not isinstance(data, dict):
        return obj
    changes: dict[str, Any] = {}
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name)
        wire = data.get(field.name)
        if field.name == "raw":
            changes["raw"] = data
        elif isinstance(value, tuple) and isinstance(wire, list) and len(wire) == len(value):
            if value and attrs.has(type(value[0])):
                changes[field.name] = tuple(map(_with_raw, value, wire))
        elif attrs.has(type(value)):
            changes[field.name] = _with_raw(value, wire)
    return attrs.evolve(obj, **changes) if changes else obj  # a leaf without raw: as built
