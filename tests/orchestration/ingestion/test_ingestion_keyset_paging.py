"""Keyset paging over a source that filters ``cursor >= after`` and sorts by (cursor, id), as Open311 and
SODA do, with the awkward cases: more rows on one timestamp than a page holds, and rows updated
while the load is paging (which move to the end of the order)."""
from __future__ import annotations

from citystat.connectors.paging import keyset_pages
from citystat.connectors.watermark import Watermark


class OrderedSource:
    """An in-memory table answering like the demo servers' SQL: WHERE cursor >= ? ORDER BY cursor, id LIMIT/OFFSET."""

    def __init__(self, rows: dict[str, str]):
        self.rows = dict(rows)  # id -> updated
        self.requests = 0
        self.on_request = None

    def fetch(self, page_size):
        def fetch(after, page):
            self.requests += 1
            if self.on_request:
                self.on_request(self)
            matching = sorted((u, i) for i, u in self.rows.items() if after is None or u >= after)
            start = (page - 1) * page_size
            return [{"id": i, "updated": u} for u, i in matching[start:start + page_size]]
        return fetch


def pull(source, watermark, page_size=10):
    return [row for page in keyset_pages(source.fetch(page_size), watermark=watermark, cursor_field="updated",
                                         id_field="id", page_size=page_size) for row in page]


def test_a_timestamp_shared_by_more_rows_than_a_page_is_stepped_through():
    rows = {f"R{i:03d}": "2026-01-01T10:00:00" for i in range(25)}
    rows.update({f"S{i:03d}": f"2026-01-01T11:{i:02d}:00" for i in range(12)})
    source = OrderedSource(rows)
    mark = Watermark()
    landed = pull(source, mark)
    assert sorted(r["id"] for r in landed) == sorted(rows)  # every row, once
    assert (mark.value, mark.ids) == ("2026-01-01T11:11:00", {"S011"})
    assert pull(source, mark) == []  # a rerun lands nothing

    source.rows["T000"] = "2026-01-01T11:11:00"  # a late row on the boundary timestamp
    assert [r["id"] for r in pull(source, mark)] == ["T000"]


def test_rows_updated_while_paging_are_not_skipped():
    rows = {f"R{i:03d}": f"2026-01-01T10:{i:02d}:00" for i in range(50)}
    source = OrderedSource(rows)

    def update_early_rows(src):  # each request, an already-read row is updated: it moves to the end
        if src.requests <= 3:
            src.rows[f"R{src.requests - 1:03d}"] = f"2026-01-01T12:0{src.requests}:00"

    source.on_request = update_early_rows
    landed = pull(source, Watermark())
    # Offset paging over one query would skip a row at each page boundary here; keyset paging does not.
    assert {r["id"] for r in landed} == set(rows)
    latest = {r["id"]: r["updated"] for r in landed}
    assert latest == source.rows  # and the updated versions arrive too
