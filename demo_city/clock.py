"""Riverton's clock for vectorised generators: times are int64 seconds of naive local wall time.

Keeping times as plain integers lets a generator draw, add and compare a month of timestamps with
numpy; text is produced only when rows are written. Files and databases use naive local time
(``YYYY-MM-DD HH:MM:SS``); the Open311 CRM stores local time with the offset then in force
(``2024-03-05T14:22:10-05:00``), taken from the tz database.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

CITY_TZ = ZoneInfo("America/New_York")
MINUTE = 60
HOUR = 3_600
DAY = 86_400
_EPOCH = dt.date(1970, 1, 1)


def seconds(day: dt.date) -> int:
    """Local midnight of ``day`` in clock seconds."""
    return (day - _EPOCH).days * DAY


def end_of_day(day: dt.date) -> int:
    """The last second of ``day``: everything at or before it has happened by then."""
    return seconds(day) + DAY - 1


def to_date(sec: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(sec) // DAY)


def naive_text(sec: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS`` for each time."""
    text = np.datetime_as_string(np.asarray(sec, dtype="datetime64[s]"), unit="s")
    return np.strings.replace(text, "T", " ") if text.size else text


def date_text(sec: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD`` for each time."""
    return np.datetime_as_string(np.asarray(sec, dtype="datetime64[s]").astype("datetime64[D]"), unit="D")


@lru_cache(maxsize=None)
def _hourly_offsets(year: int) -> tuple[np.ndarray, np.ndarray]:
    """UTC-offset suffix for each local wall-clock hour of ``year``: (first hour index, suffixes)."""
    first = dt.datetime(year, 1, 1)
    hours = (dt.datetime(year + 1, 1, 1) - first).days * 24
    suffixes = []
    for h in range(hours):
        offset = (first + dt.timedelta(hours=h)).replace(tzinfo=CITY_TZ).utcoffset()
        minutes = int(offset.total_seconds()) // 60
        suffixes.append(f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}")
    return np.int64(seconds(first.date()) // HOUR), np.asarray(suffixes)


def offset_text(sec: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SS-05:00``: local wall time with the city's offset at that moment."""
    sec = np.asarray(sec, dtype=np.int64)
    text = np.datetime_as_string(sec.astype("datetime64[s]"), unit="s")
    if sec.size == 0:
        return text
    years = sec.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    suffix = np.empty(sec.shape, dtype="<U6")
    for year in np.unique(years):
        first_hour, table = _hourly_offsets(int(year))
        mask = years == year
        suffix[mask] = table[sec[mask] // HOUR - first_hour]
    return np.strings.add(text, suffix)


def nullable(text: np.ndarray, present: np.ndarray) -> list:
    """Text values as a list for SQL/CSV writers, ``None`` where the value is absent."""
    values = text.tolist()
    for i in np.flatnonzero(~np.asarray(present, dtype=bool)).tolist():
        values[i] = None
    return values


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """First day of every calendar month touching [first, last]."""
    out, day = [], first.replace(day=1)
    while day <= last:
        out.append(day)
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def month_days(month: dt.date) -> list[dt.date]:
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return [month + dt.timedelta(days=i) for i in range((nxt - month).days)]
