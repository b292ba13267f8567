# GENERATED from stack_auth/_async/_pagination.py by scripts/gen_sync.py: edit the source, not this file.
"""Cursor pages and the auto-paginating iterator."""

from __future__ import annotations

from collections.abc import Iterator, Callable
from typing import Generic, TypeVar

from stack_auth.models import Page

T = TypeVar("T")


class Pager(Generic[T]):
    """Every item of a list, fetched one page at a time as you iterate (memory stays at about one page).

    ``for user in app.users.list(): ...`` walks all items; ``for page in pager.pages(): ...`` gives
    the pages with their ``next_cursor``, to resume later with ``list_page(cursor=...)``.
    """

    def __init__(self, fetch_page: Callable[[str | None], Page[T]], cursor: str | None = None) -> None:
        self._fetch_page = fetch_page
        self._cursor = cursor

    def pages(self) -> Iterator[Page[T]]:
        """Each page in turn, from the starting cursor to the last page."""
        cursor = self._cursor
        while True:
            page = self._fetch_page(cursor)
            next_cursor = page.next_cursor
            yield page
            del page  # memory stays at one page: let this one go before the next is fetched
            if not next_cursor or next_cursor == cursor:
                return
            cursor = next_cursor

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            items = page.items
            del page
            for item in items:
                yield item
            del items
