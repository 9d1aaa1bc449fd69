"""Async mode: a request TrueLayer answers later, polled at ``results_uri``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

import anyio

from .. import errors as e
from .._converter import structure_one_result, structure_results
from .._core import UserToken
from .._error_mapping import Api
from ..models import AsyncTask

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["PendingResult"]

T = TypeVar("T")

_DONE = "Succeeded"
_FAILED = "Failed"


class PendingResult(Generic[T]):
    """A Data API request running in TrueLayer's async mode.

    ``task`` is the 202 answer (``task_id``, ``results_uri``). ``await result()`` polls
    ``results_uri`` with exponential back-off until the task ``Succeeded`` (returning the
    same models the plain method returns) or ``Failed`` (raising ``DataApiError``).
    """

    def __init__(
        self, core: Core, task: AsyncTask, item: type[Any], *, single: bool, user: str | None
    ) -> None:
        self._core = core
        self.task = task
        self._item = item
        self._single = single
        self._user = user
        _check_same_origin(task.results_uri, core.environment.api_url)

    def __repr__(self) -> str:
        return f"PendingResult(task_id={self.task.task_id!r})"

    async def result(
        self, *, max_wait: float = 300.0, initial_interval: float = 0.5, max_interval: float = 8.0
    ) -> T:
        """Poll until the task is done; ``TransportTimeout`` after ``max_wait`` seconds."""
        interval = initial_interval
        with anyio.move_on_after(max_wait):
            while True:
                response = await self._core.authorized_request(
                    "GET", self.task.results_uri, source=UserToken(self._user), api=Api.DATA
                )
                body = response.json()
                status = body.get("status") if isinstance(body, dict) else None
                if status == _FAILED:
                    raise e.DataApiError(
                        response.status_code,
                        str(body.get("error") or "async_task_failed"),
                        str(body.get("error_description") or "the async task failed"),
                        correlation_id=response.correlation_id,
                    )
                if status == _DONE:
                    parse = structure_one_result if self._single else structure_results
                    return cast(
                        T,
                        parse(
                            body,
                            self._item,
                            status_code=response.status_code,
                            correlation_id=response.correlation_id,
                        ),
                    )
                await self._core.sleep(interval)
                interval = min(interval * 2, max_interval)
        raise e.TransportTimeout(f"async task {self.task.task_id} not done within {max_wait} s")


def _check_same_origin(url: str, api_url: str) -> None:
    # The bearer token is sent to results_uri: never to a host other than the API's.
    got, want = urlsplit(url), urlsplit(api_url)
    if (got.scheme, got.hostname, got.port) != (want.scheme, want.hostname, want.port):
        raise e.MalformedResponseError("results_uri points outside the configured API host")
