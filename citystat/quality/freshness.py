"""Freshness of a dataset from the load ledger: how long since its last batch with rows, against the
inventory's ``freshness_hours`` (which the cadence sets: a daily export is expected within 48 hours)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from data_inventory import DatasetRef
from citystat.landing import Landing


@dataclass(frozen=True)
class Freshness:
    dataset: str
    freshness_hours: float
    last_landed_at: dt.datetime | None
    age_hours: float | None

    @property
    def fresh(self) -> bool:
        return self.age_hours is not None and self.age_hours <= self.freshness_hours

    def describe(self) -> str:
        if self.last_landed_at is None:
            return f"{self.dataset}: nothing landed yet (expected every {self.freshness_hours:g} h)"
        state = "fresh" if self.fresh else "STALE"
        return (f"{self.dataset}: {state}, last new data landed {self.age_hours:.1f} h ago "
                f"({self.last_landed_at:%Y-%m-%d %H:%M} UTC; allowed {self.freshness_hours:g} h)")


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def check_freshness(ref: DatasetRef, landing: Landing, now: dt.datetime | None = None) -> Freshness:
    now = now or dt.datetime.now(dt.timezone.utc)
    landed = [_utc(e["landed_at"]) for e in landing.entries(*ref.key) if e.get("rows")]
    last = max(landed) if landed else None
    age = (now - last).total_seconds() / 3600 if last else None
    return Freshness(ref.name, float(ref.dataset.freshness_hours), last, age)
