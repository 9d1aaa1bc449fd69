"""Decoding a Data API ``results`` envelope: a shortcut where one vouches, else cattrs.

The cattrs converter (:mod:`._converter`) is the reference; the two shortcuts are
:mod:`._fast_decode` (msgspec, the ``speedups`` extra) and :mod:`._plain_decode` (pure
Python, for a default install), and ``tests/core/test_fast_decode.py`` and
``tests/core/test_plain_decode.py`` hold them to the reference.
"""

from __future__ import annotations

from typing import TypeVar

from ._converter import structure_one_result, structure_results
from ._fast_decode import shortcut_results
from ._gc_pause import paused_for
from ._http import Response

__all__ = ["one_result_of", "results_of"]

T = TypeVar("T")


def _fast(response: Response, item: type[T]) -> list[T] | None:
    # A shortcut's results, where one vouches for a JSON body: the speedups decoder, else
    # the pure-Python one; None leaves the body to the reference decoder.
    if "json" not in response.media_type():
        return None
    return shortcut_results(response.content, item)


def results_of(response: Response, item: type[T]) -> list[T]:
    """The ``results`` list of a Data API answer as models of ``item`` (a large body is
    decoded with the garbage collector paused: see :mod:`._gc_pause`)."""
    with paused_for(len(response.content)):
        return _results_of(response, item)


def _results_of(response: Response, item: type[T]) -> list[T]:
    fast = _fast(response, item)
    if fast is not None:
        return fast
    return structure_results(  # response.json() raises the typed "not JSON" error
        response.json(),
        item,
        status_code=response.status_code,
        correlation_id=response.correlation_id,
    )


def one_result_of(response: Response, item: type[T]) -> T:
    """The single result of a Data API answer (``results`` must hold exactly one)."""
    fast = _fast(response, item)
    if fast is not None and len(fast) == 1:
        return fast[0]
    return structure_one_result(
        response.json(),
        item,
        status_code=response.status_code,
        correlation_id=response.correlation_id,
    )
