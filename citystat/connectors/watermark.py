"""The high-water mark of an incremental source: the cursor value of the last row landed (in the
source's own order) and the ids landed at exactly that value.

A load asks the source for rows with ``cursor >= mark``, so rows sharing the boundary value that
arrived after the previous load are not lost, and skips the ids already landed at the boundary, so
nothing is landed twice. Comparing only for equality keeps the source's ordering authoritative
(timestamps with changing UTC offsets sort however the source sorts them).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Watermark:
    value: str | None = None
    ids: set[str] = field(default_factory=set)

    def already_landed(self, value, row_id: str | None) -> bool:
        """Whether a row the source returned for ``cursor >= mark`` was landed at the boundary before."""
        return value is not None and row_id is not None and str(value) == self.value and row_id in self.ids

    def observe(self, value, row_id: str | None) -> None:
        """Advance the mark to a row just landed; rows must arrive in the source's cursor order."""
        if value is None:
            return
        value = str(value)
        if value != self.value:
            self.value, self.ids = value, set()
        if row_id is not None:
            self.ids.add(row_id)

    def to_json(self) -> dict:
        return {"cursor": self.value, "cursor_ids": sorted(self.ids)}

    @classmethod
    def from_json(cls, entry: dict) -> "Watermark":
        return cls(entry.get("cursor"), set(entry.get("cursor_ids") or ()))
