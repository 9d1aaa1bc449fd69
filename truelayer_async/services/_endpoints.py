"""An API endpoint described once: path, model, one or many, dated."""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast

import attrs

from .._http import Response
from .._path_segment import path_segment
from .._results import one_result_of, results_of
from ._scopes import required_scopes

__all__ = ["Endpoint", "many", "one"]

R = TypeVar("R")
T = TypeVar("T")


@attrs.frozen
class Endpoint(Generic[R]):
    """One Data API v1 endpoint: its operation's name in logs, spans and event hooks
    (``truelayer.data.<name>``), its path under ``/data/v1`` (with at most one ``{id}``),
    the model it returns, whether a list (``many``) and whether it takes ``from``/``to``."""

    name: str
    path: str
    model: type[Any]
    many: bool
    dated: bool = False
    #: ``truelayer.data.<name>``, the logical call's name.
    operation: str = attrs.field(
        init=False,
        default=attrs.Factory(lambda self: f"truelayer.data.{self.name}", takes_self=True),
    )
    #: The scopes a call needs, worked out once from ``path`` (not on every request).
    scopes: tuple[str, ...] = attrs.field(
        init=False, default=attrs.Factory(lambda self: required_scopes(self.path), takes_self=True)
    )

    def path_for(self, ident: str | None) -> str:
        """The path with its id checked and encoded as one segment."""
        if ident is None:
            return self.path
        head, _, rest = self.path.partition("{")
        name, _, tail = rest.partition("}")
        return f"{head}{path_segment(ident, name)}{tail}"

    def decode(self, response: Response) -> R:
        """The response's models (the fast path where it vouches, else cattrs)."""
        if self.many:
            return cast(R, results_of(response, self.model))
        return cast(R, one_result_of(response, self.model))


def one(name: str, path: str, model: type[T]) -> Endpoint[T]:
    """An endpoint answering one ``model`` (in a one-item ``results`` list)."""
    return Endpoint(name, path, model, many=False)


def many(name: str, path: str, model: type[T], *, dated: bool = False) -> Endpoint[list[T]]:
    """An endpoint answering a list of ``model``; ``dated`` if it takes ``from``/``to``."""
    return Endpoint(name, path, model, many=True, dated=dated)
