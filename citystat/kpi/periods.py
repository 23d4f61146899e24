"""Reporting periods: a month (YYYY-MM), a fiscal year (FYyyyy, July-June, named by its end year) or a day (YYYY-MM-DD)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

FISCAL_YEAR_START_MONTH = 7  # docs/contracts.md: July-June

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_FISCAL_YEAR = re.compile(r"^FY(\d{4})$", re.IGNORECASE)
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def fiscal_year_of(day: dt.date) -> int:
    return day.year + 1 if day.month >= FISCAL_YEAR_START_MONTH else day.year


@dataclass(frozen=True, order=True)
class Period:
    """Orders and counts like its grain: ``ordinal`` steps by one per month, fiscal year or day."""

    grain: str  # "month" | "fiscal_year" | "day"
    ordinal: int
    start: dt.date

    @property
    def label(self) -> str:
        if self.grain == "month":
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.grain == "fiscal_year":
            return f"FY{self.fiscal_year}"
        return self.start.isoformat()

    @property
    def fiscal_year(self) -> int:
        return fiscal_year_of(self.start)

    @property
    def fiscal_month(self) -> int:
        """1 = July ... 12 = June; a fiscal-year period counts as complete (12)."""
        if self.grain == "fiscal_year":
            return 12
        return (self.start.month - FISCAL_YEAR_START_MONTH) % 12 + 1

    def years_earlier(self, years: int) -> "Period":
        """The same period ``years`` years before (29 February falls back to 28 February)."""
        if self.grain == "month":
            return month(self.start.year - years, self.start.month)
        if self.grain == "fiscal_year":
            return fiscal_year(self.fiscal_year - years)
        year = self.start.year - years
        try:
            return day(self.start.replace(year=year))
        except ValueError:
            return day(dt.date(year, 2, 28))

    def __str__(self) -> str:
        return self.label


def month(year: int, month_number: int) -> Period:
    return Period("month", year * 12 + month_number - 1, dt.date(year, month_number, 1))


def fiscal_year(year: int) -> Period:
    return Period("fiscal_year", year, dt.date(year - 1, FISCAL_YEAR_START_MONTH, 1))


def day(date: dt.date) -> Period:
    return Period("day", date.toordinal(), date)


def parse_period(text: str) -> Period:
    """Parse ``YYYY-MM``, ``FYyyyy`` or ``YYYY-MM-DD``; anything else raises ValueError saying what is accepted."""
    value = str(text).strip()
    try:
        if m := _MONTH.match(value):
            if not 1 <= int(m[2]) <= 12:
                raise ValueError
            return month(int(m[1]), int(m[2]))
        if m := _FISCAL_YEAR.match(value):
            return fiscal_year(int(m[1]))
        if _DAY.match(value):
            return day(dt.date.fromisoformat(value))
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not a period (expected YYYY-MM, FYyyyy or YYYY-MM-DD)")
