"""The generic cursor paginator (issue #18's helper, first used by payment links)."""

from __future__ import annotations

import gc
import weakref

import pytest

from truelayer_async import AsyncPaginator, Page
from truelayer_async import errors as e


class Pages:
    """A fake cursor API: ``total`` items in pages of ``size``; records each cursor."""

    def __init__(self, total: int, size: int, *, last_cursor: str | None = None) -> None:
        self.total, self.size, self.last_cursor = total, size, last_cursor
        self.cursors: list[str | None] = []

    async def __call__(self, cursor: str | None) -> Page[int]:
        self.cursors.append(cursor)
        start = 0 if cursor is None else int(cursor)
        end = min(start + self.size, self.total)
        more = end < self.total
        return Page(tuple(range(start, end)), str(end) if more else self.last_cursor)


@pytest.mark.anyio
async def test_every_item_in_order_one_page_at_a_time() -> None:
    pages = Pages(250, 100)
    assert [item async for item in AsyncPaginator(pages)] == list(range(250))
    assert pages.cursors == [None, "100", "200"]


@pytest.mark.anyio
async def test_pages_hands_out_whole_pages() -> None:
    sizes = [len(page.items) async for page in AsyncPaginator(Pages(250, 100)).pages()]
    assert sizes == [100, 100, 50]


@pytest.mark.anyio
async def test_an_empty_list_is_one_empty_page() -> None:
    pages = Pages(0, 10)
    assert [item async for item in AsyncPaginator(pages)] == []
    assert pages.cursors == [None]


@pytest.mark.anyio
@pytest.mark.parametrize("last", [None, ""])
async def test_a_last_page_without_a_cursor_ends_it(last: str | None) -> None:
    pages = Pages(15, 10, last_cursor=last)
    assert len([item async for item in AsyncPaginator(pages)]) == 15
    assert pages.cursors == [None, "10"]


@pytest.mark.anyio
async def test_limit_stops_early_and_fetches_no_more_pages() -> None:
    pages = Pages(1000, 100)
    assert [item async for item in AsyncPaginator(pages, limit=150)] == list(range(150))
    assert pages.cursors == [None, "100"]
    assert [item async for item in AsyncPaginator(pages, limit=0)] == []


@pytest.mark.anyio
async def test_a_repeated_cursor_does_not_loop_forever() -> None:
    calls: list[str | None] = []

    async def stuck(cursor: str | None) -> Page[int]:
        calls.append(cursor)
        return Page((1,), "same")

    assert [item async for item in AsyncPaginator(stuck)] == [1, 1]
    assert calls == [None, "same"]


@pytest.mark.anyio
async def test_an_expired_cursor_raises_from_the_loop_after_the_items_so_far() -> None:
    async def expiring(cursor: str | None) -> Page[int]:
        if cursor is not None:
            raise e.PaymentsApiError(400, "invalid_parameters", "Invalid cursor")
        return Page((1, 2), "c1")

    got: list[int] = []

    async def collect() -> None:
        async for item in AsyncPaginator(expiring):
            got.append(item)

    with pytest.raises(e.PaymentsApiError, match="Invalid cursor"):
        await collect()
    assert got == [1, 2]


@pytest.mark.anyio
async def test_memory_stays_at_one_page() -> None:
    # Each page is dropped once the loop moves past it: at most one page is alive.
    alive: weakref.WeakSet[Page[int]] = weakref.WeakSet()
    most = 0

    class Tracked(Pages):
        async def __call__(self, cursor: str | None) -> Page[int]:
            page = await super().__call__(cursor)
            alive.add(page)
            return page

    async for item in AsyncPaginator(Tracked(500, 50)):
        if item % 50 == 0:  # the first item of each page: the previous page is gone
            gc.collect()
            most = max(most, len(alive))
    assert most == 1


@pytest.mark.parametrize("limit", [-1, 1.5, True, "3"])
def test_a_bad_limit_is_refused(limit: object) -> None:
    async def never(cursor: str | None) -> Page[int]:
        raise AssertionError

    with pytest.raises(e.InvalidParameterError):
        AsyncPaginator(never, limit=limit)  # type: ignore[arg-type]
