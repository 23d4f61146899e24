"""Incremental keyset paging for APIs that filter ``cursor >= after`` and sort by (cursor, id).

Each page restarts from the cursor value of the last row received instead of counting offsets
through one big result, so rows updated while a load is running (which move to the end of the
order) cannot shift an unseen row into a page already read. Pages only advance by number inside a
run of rows that all share one cursor value.
"""
from __future__ import annotations

from typing import Callable, Iterator

from citystat.connectors.watermark import Watermark

FetchPage = Callable[[str | None, int], list[dict]]  # (after cursor value or None, 1-based page) -> rows


def keyset_pages(
    fetch_page: FetchPage,
    *,
    watermark: Watermark,
    cursor_field: str,
    id_field: str,
    page_size: int,
) -> Iterator[list[dict]]:
    """Yield pages of rows not landed yet, in source order, advancing ``watermark`` past each page."""
    after, page = watermark.value, 1
    while True:
        rows = fetch_page(after, page)
        fresh = [r for r in rows if not watermark.already_landed(r.get(cursor_field), _text(r.get(id_field)))]
        for row in fresh:
            watermark.observe(row.get(cursor_field), _text(row.get(id_field)))
        if fresh:
            yield fresh
        if len(rows) < page_size:
            return
        if watermark.value == after:
            page += 1  # the whole page sat on one cursor value: step through it by page number
        else:
            after, page = watermark.value, 1


def _text(value) -> str | None:
    return None if value is None else str(value)
