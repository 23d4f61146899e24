"""Calendar periods the monthly and weekly drops are cut on (month ends, report Fridays, fiscal periods)."""
from __future__ import annotations

import calendar
import datetime as dt


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def months_between(first: dt.date, last: dt.date):
    """(year, month) of every calendar month that touches [first, last], in order."""
    year, month = first.year, first.month
    while dt.date(year, month, 1) <= last:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def months_closing(first: dt.date, last: dt.date, not_before: dt.date):
    """Months whose last day falls in [first, last] and that start on or after ``not_before``.

    A monthly export is written once, when its month closes; this is the set of exports due in a
    window of days, so ``generate`` (window = whole history) and ``advance`` (window = the new days)
    write each month exactly once.
    """
    for year, month in months_between(first, last):
        if first <= month_end(year, month) <= last and dt.date(year, month, 1) >= not_before:
            yield year, month


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def fiscal_period(month: int) -> int:
    """1..12 with July = 1."""
    return (month - 7) % 12 + 1


def business_days(year: int, month: int) -> list[dt.date]:
    return [
        dt.date(year, month, d)
        for d in range(1, calendar.monthrange(year, month)[1] + 1)
        if dt.date(year, month, d).weekday() < 5
    ]


def fridays(first: dt.date, last: dt.date):
    day = first + dt.timedelta(days=(4 - first.weekday()) % 7)
    while day <= last:
        yield day
        day += dt.timedelta(days=7)
