"""Cursor pages and the auto-paginating iterator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

from stack_auth.models import Page

T = TypeVar("T")


class AsyncPager(Generic[T]):
    """Every item of a list, fetched one page at a time as you iterate (memory stays at about one page).

    ``async for user in app.users.list(): ...`` walks all items; ``async for page in pager.pages(): ...`` gives
    the pages with their ``next_cursor``, to resume later with ``list_page(cursor=...)``.
    """

    def __init__(self, fetch_page: Callable[[str | None], Awaitable[Page[T]]], cursor: str | None = None) -> None:
        self._fetch_page = fetch_page
        self._cursor = cursor

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Each page in turn, from the starting cursor to the last page."""
        cursor = self._cursor
        while True:
            page = await self._fetch_page(cursor)
            next_cursor = page.next_cursor
            yield page
            del page  # memory stays at one page: let this one go before the next is fetched
            if not next_cursor or next_cursor == cursor:
                return
            cursor = next_cursor

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            items = page.items
            del page
            for item in items:
                yield item
            del items
